"""/mod settings changes are checked against the settings as stored when they are applied."""

from __future__ import annotations

import pytest

from bot.moderation import messages
from bot.moderation.server_settings import ServerSettings, SettingError, SettingProblem
from cogs.mod import setting_change

WITH_LOG = ServerSettings().with_setting("log_channel", 55)


def test_approval_is_not_turned_on_where_no_log_channel_is_stored() -> None:
    with pytest.raises(SettingError) as refused:
        setting_change("approval", True)(ServerSettings())
    assert refused.value.problem is SettingProblem.NEEDS_LOG_CHANNEL
    assert setting_change("approval", True)(WITH_LOG).approval


def test_the_log_channel_is_not_unset_while_approval_mode_is_on() -> None:
    approving = setting_change("approval", True)(WITH_LOG)
    with pytest.raises(SettingError) as refused:
        setting_change("log_channel", None)(approving)
    assert refused.value.setting == "log_channel"
    assert setting_change("log_channel", None)(WITH_LOG).log_channel is None


def test_the_refusal_reads_as_the_approval_rule() -> None:
    error = SettingError("log_channel", SettingProblem.NEEDS_LOG_CHANNEL)
    assert messages.setting_error_text("en", error) == messages.approval_needs_log_channel("en")
