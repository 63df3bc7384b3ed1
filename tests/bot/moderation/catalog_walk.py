"""Renders every moderation text once, so the catalog test can see which keys are read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.jobs import JobState
from bot.moderation import messages
from bot.moderation.admission import RefusalReason, Refused
from bot.moderation.audit import AuditEntry, ModAction, log_line
from bot.moderation.queue_listing import MemberUsage, QueuePage, QueueRow
from bot.moderation.server_settings import ServerSettings, SettingError, SettingProblem
from tests.store.jobs_for_tests import minimal_job

NOW = datetime(2026, 3, 1, tzinfo=UTC)
EVERY_DETAIL: dict[str, str | int] = {
    "reason": "r", "channels": "<#1>", "roles": "<@&2>", "value": "720p", "max": "480p",
    "seconds": 60, "limit": 2, "units": 2, "left": 1, "word": "w", "rule": "rule",
}  # fmt: skip
"""A value for every placeholder any refusal text has."""


def render_every_moderation_text(locale: str) -> None:
    for reason in RefusalReason:
        messages.refusal_text(locale, Refused(reason, NOW, EVERY_DETAIL))
    messages.cost_text(locale, 2)
    rows = tuple(
        QueueRow(None if state is not JobState.QUEUED else 1, 1, state, age, "abcd1234", own)
        for state in JobState
        if not state.is_terminal
        for age, own in (
            (timedelta(seconds=5), True),
            (timedelta(minutes=5), False),
            (timedelta(hours=2), False),
        )
    )
    messages.queue_page_text(locale, QueuePage(1, 1, rows))
    messages.queue_page_text(locale, QueuePage(1, 1, ()))
    for usage in (
        MemberUsage(1, 2, 3, 4, 5, timedelta(seconds=30)),
        MemberUsage(1, None, 3, None, None, None),
    ):
        messages.usage_text(locale, usage, NOW)
    busy = ServerSettings(
        member_active=1, daily_budget=3, approval=True, log_channel=5, moderator_role=6, blocked_words=("w",)
    )
    for settings in (ServerSettings().paused_for("r"), busy, ServerSettings()):
        messages.settings_text(locale, settings)
    for problem in SettingProblem:
        messages.setting_error_text(locale, SettingError("cooldown_s", problem, low=0, high=9))
    messages.setting_error_text(locale, SettingError("queue_max", SettingProblem.OUT_OF_RANGE, low=1, high=9))
    for action in ModAction:
        log_line(locale, AuditEntry(1, 2, action, NOW, reason="r"))
    entry = AuditEntry(1, 2, ModAction.BLOCK, NOW, reason="r")
    messages.moderator_only(locale)
    messages.block_done(locale, entry, NOW)
    messages.no_such_job(locale, "abcd1234")
    messages.not_blocked(locale, 3)
    messages.approval_needs_log_channel(locale)
    messages.set_and_unset(locale, "log_channel")
    job = minimal_job()
    messages.approval_request(locale, job)
    messages.approval_labels(locale)
    messages.deny_form(locale)
    messages.denied_notice(locale, job, "r")
    messages.no_longer_waiting(locale)
    messages.word_missing(locale)
    messages.words_text(locale, ("w",))
    messages.words_text(locale, ())
    messages.report_button_label(locale)
    messages.remove_button_label(locale)
    messages.report_post(locale, 1, "abcd1234", "https://discord.com/channels/1/2/3")
    messages.report_sent(locale)
    messages.report_without_log_channel(locale)
    messages.video_gone(locale)
    messages.video_removed(locale, 2)
