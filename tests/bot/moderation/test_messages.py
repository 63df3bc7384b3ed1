from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import placeholders
from bot.jobs import JobState
from bot.moderation.admission import RefusalReason, Refused
from bot.moderation.messages import (
    age_text,
    cost_text,
    queue_page_text,
    refusal_text,
    setting_error_text,
    settings_text,
    usage_text,
)
from bot.moderation.queue_listing import MemberUsage, QueuePage, QueueRow
from bot.moderation.server_settings import ServerSettings, SettingError, SettingProblem
from tests.bot.moderation.catalog_walk import EVERY_DETAIL, render_every_moderation_text

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
STAMP = int(NOW.timestamp())


def test_a_refusal_says_why_when_and_that_nothing_was_charged() -> None:
    text = refusal_text("en-US", Refused(RefusalReason.DAILY_LIMIT, NOW, {"limit": 3}))
    assert text.splitlines() == [
        "Your video can't be queued:",
        "You've made 3 video(s) in the last 24 hours, the most this server allows.",
        f"You can try again <t:{STAMP}:R>.",
        "Nothing was queued and nothing was charged.",
    ]
    korean = refusal_text("ko", Refused(RefusalReason.DAILY_LIMIT, NOW, {"limit": 3}))
    assert "최근 24시간 동안 영상을 3개 만들었어요" in korean
    assert f"<t:{STAMP}:R> 다시 시도할 수 있어요." in korean


def test_a_refusal_without_a_retry_time_has_no_retry_line() -> None:
    text = refusal_text("en", Refused(RefusalReason.QUEUE_FULL, None, {"limit": 5}))
    assert "<t:" not in text
    assert "full (5 waiting)" in text


def test_the_pause_reason_and_matched_words_are_shown_as_text() -> None:
    paused = refusal_text("en", Refused(RefusalReason.PAUSED, details={"reason": "**fix** @everyone"}))
    assert "Reason: \\*\\*fix\\*\\* @\u200beveryone" in paused
    assert "Reason:" not in refusal_text("en", Refused(RefusalReason.PAUSED, details={"reason": ""}))
    word = refusal_text("en", Refused(RefusalReason.BLOCKED_WORD, details={"word": "_x_"}))
    assert '"\\_x\\_"' in word


@pytest.mark.parametrize("reason", list(RefusalReason))
@pytest.mark.parametrize("locale", ["en", "ko"])
def test_every_refusal_renders_without_leftover_placeholders(reason: RefusalReason, locale: str) -> None:
    text = refusal_text(locale, Refused(reason, NOW, EVERY_DETAIL))
    assert "{" not in text
    assert not placeholders(text)


def test_cost_line() -> None:
    assert cost_text("en", 5) == "Cost: 5 unit(s)"
    assert cost_text("ko", 5) == "비용: 5단위"


@pytest.mark.parametrize(
    ("age", "en"),
    [
        (timedelta(seconds=59), "59 s"),
        (timedelta(seconds=60), "1 min"),
        (timedelta(minutes=135), "2 h 15 min"),
    ],
)
def test_ages(age: timedelta, en: str) -> None:
    assert age_text("en", age) == en


def test_queue_page_marks_the_viewers_own_jobs() -> None:
    rows = (
        QueueRow(None, 7, JobState.IN_PROGRESS, timedelta(minutes=3), "aaaa0001", False),
        QueueRow(1, 8, JobState.QUEUED, timedelta(seconds=20), "aaaa0002", True),
    )
    assert queue_page_text("en", QueuePage(2, 3, rows)).splitlines() == [
        "**This server's queue** — page 2/3",
        "▶ `aaaa0001` <@7> — generating — 3 min",
        "**`1.` `aaaa0002` <@8> — waiting — 20 s** ⭐ you",
    ]
    assert queue_page_text("ko", QueuePage(1, 1, ())) == "이 서버의 대기열이 비어 있어요."


def test_usage_lines() -> None:
    text = usage_text("en", MemberUsage(1, 2, 3, 4, 5, timedelta(seconds=30)), NOW)
    assert text.splitlines() == [
        "**Your usage in this server**",
        "Unfinished videos: 1/2",
        "Videos in the last 24 hours: 3/4",
        "Server budget left today: 5 unit(s)",
        f"You can start the next video <t:{STAMP + 30}:R>.",
    ]
    free = usage_text("en", MemberUsage(0, None, 0, None, None, None), NOW)
    assert "(no limit)" in free
    assert free.endswith("You can start a video now.")


def test_settings_show_every_setting() -> None:
    text = settings_text("en", ServerSettings(queue_max=5, allowed_roles=frozenset({9})))
    for name in ("member_active", "cooldown_s", "queue_max", "max_resolution", "approval", "words"):
        assert f"`{name}`" in text
    assert "`queue_max` — longest queue: 5" in text
    assert "`member_daily` — videos per member in 24 hours: no limit" in text
    assert "`roles` — roles: <@&9>" in text
    assert "`channels` — channels: every channel" in text


def test_setting_errors_name_the_setting_and_the_range() -> None:
    error = SettingError("queue_max", SettingProblem.OUT_OF_RANGE, low=1, high=1000)
    assert setting_error_text("en", error) == "`queue_max` must be from 1 to 1000, or 0 for no limit."
    cooldown = SettingError("cooldown_s", SettingProblem.OUT_OF_RANGE, low=0, high=86400)
    assert setting_error_text("en", cooldown) == "`cooldown_s` must be from 0 to 86400."
    choice = SettingError("max_resolution", SettingProblem.NOT_A_CHOICE, choices=("480p", "720p"))
    assert "480p, 720p" in setting_error_text("ko", choice)


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_every_text_stays_within_discords_limit(locale: str) -> None:
    render_every_moderation_text(locale)
    long_words = ServerSettings(blocked_words=tuple(f"{i:03}" + "w" * 56 for i in range(200)))
    assert len(settings_text(locale, long_words)) <= 2000
