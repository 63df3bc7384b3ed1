import enum
import re
from typing import Any

import pytest

from bot.cancellation import CancelResult
from bot.i18n import t
from bot.jobs import FailureReason, Job, JobState
from bot.render import failure_summary
from bot.texts import (
    COMMAND_DESCRIPTION_LIMIT,
    CONTENT_LIMIT,
    cancel_outcome,
    card_moved,
    command_texts,
    end_notice,
    guild_only,
    help_text,
    missing_permissions,
    not_yours,
    service_unavailable,
    video_too_large,
)
from tests.store.jobs_for_tests import minimal_job

LOCALES = ["en-US", "ko"]
LEFTOVER_PLACEHOLDER = re.compile(r"\{[^}]*\}")
JUMP = "https://discord.com/channels/1/2/3"


def job(state: JobState, **changes: Any) -> Job:
    return minimal_job(state=state, **changes)


def assert_sendable(text: str) -> None:
    assert text.strip()
    assert len(text) <= CONTENT_LIMIT
    assert not LEFTOVER_PLACEHOLDER.search(text)


@pytest.mark.parametrize("locale", LOCALES)
def test_help_explains_options_rules_and_cancelling(locale: str) -> None:
    text = help_text(locale)
    assert_sendable(text)
    for fact in ["/animate", "`image`", "`prompt`", "`last_frame`", "`resolution`", "`duration`", "1900"]:
        assert fact in text
    for number in ["300", "6000", "0.4", "2.5", "30", "480p, 720p, 1080p", "1080p"]:
        assert number in text
    assert t(locale, "card.cancel") in text


@pytest.mark.parametrize("locale", LOCALES)
def test_one_line_answers_are_sendable_and_translated(locale: str) -> None:
    for answer in (not_yours, guild_only, service_unavailable):
        assert_sendable(answer(locale))
        assert answer(locale) != answer("ko" if locale != "ko" else "en")


def test_not_yours_names_who_may_cancel() -> None:
    assert "moderator" in not_yours("en-US")
    assert "관리자" in not_yours("ko")


def test_service_unavailable_says_moderators_know() -> None:
    assert "moderators" in service_unavailable("en-GB")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_cancel_outcome_has_its_own_answer(locale: str) -> None:
    answers = {outcome: cancel_outcome(locale, outcome) for outcome in CancelResult}
    for answer in answers.values():
        assert_sendable(answer)
    assert len(set(answers.values())) == len(CancelResult)


def test_cancel_outcomes_say_what_happened() -> None:
    assert "nothing was charged" in cancel_outcome("en", CancelResult.CANCELLED_LOCALLY)
    assert "RunComfy" in cancel_outcome("en", CancelResult.CANCELLED_AT_RUNCOMFY)
    assert "already being generated" in cancel_outcome("en", CancelResult.ALREADY_RUNNING)
    assert "already finished" in cancel_outcome("en", CancelResult.ALREADY_FINISHED)


def test_cancel_outcome_accepts_another_enum_with_the_same_values() -> None:
    class SchedulerResult(enum.StrEnum):
        CANCELLED_LOCALLY = "cancelled_locally"

    assert cancel_outcome("en", SchedulerResult.CANCELLED_LOCALLY) == t("en", "cancel.cancelled_local")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("state", "key"),
    [
        (JobState.DELIVERED, "notice.ready"),
        (JobState.COMPLETED, "notice.ready"),
        (JobState.CANCELLED, "notice.cancelled"),
    ],
)
def test_end_notice_mentions_the_member(state: JobState, key: str, locale: str) -> None:
    text = end_notice(locale, job(state))
    assert_sendable(text)
    assert text == t(locale, key, mention="<@333>")


@pytest.mark.parametrize("locale", LOCALES)
def test_end_notice_of_a_failure_gives_the_reason(locale: str) -> None:
    text = end_notice(locale, job(JobState.FAILED, failure_reason=FailureReason.NO_VIDEO))
    assert "<@333>" in text
    assert failure_summary(locale, FailureReason.NO_VIDEO) in text


def test_end_notice_links_to_the_card_when_given() -> None:
    assert JUMP in end_notice("ko", job(JobState.DELIVERED), JUMP)
    assert "http" not in end_notice("ko", job(JobState.DELIVERED))


@pytest.mark.parametrize(
    "state", [JobState.QUEUED, JobState.SUBMITTING, JobState.IN_QUEUE, JobState.IN_PROGRESS]
)
def test_end_notice_refuses_a_job_that_has_not_ended(state: JobState) -> None:
    with pytest.raises(ValueError, match="has not ended"):
        end_notice("en", job(state))


@pytest.mark.parametrize("locale", LOCALES)
def test_card_moved_mentions_the_member(locale: str) -> None:
    text = card_moved(locale, 333)
    assert_sendable(text)
    assert "<@333>" in text
    assert "15" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_video_too_large_gives_the_link(locale: str) -> None:
    url = "https://cdn.example/out.mp4"
    text = video_too_large(locale, url)
    assert_sendable(text)
    assert url in text


def test_video_too_large_stays_within_a_message() -> None:
    assert len(video_too_large("en", "https://cdn.example/" + "x" * 5000)) <= CONTENT_LIMIT


def test_command_texts_cover_every_option_in_both_languages() -> None:
    texts = command_texts()
    expected = {
        "animate.description",
        "animate.image",
        "animate.prompt",
        "animate.last_frame",
        "animate.resolution",
        "animate.duration",
        "animate.duration.5",
        "animate.duration.10",
        "help.description",
        "queue.description",
        "queue.page",
        "mod.description",
        "mod.settings.daily_budget",
        "mod.words.action.add",
    }
    assert expected <= set(texts)
    assert {key.split(".")[0] for key in texts} == {"animate", "help", "queue", "mod"}
    for by_lang in texts.values():
        assert set(by_lang) == {"en", "ko"}
        assert by_lang["en"] != by_lang["ko"]
        for text in by_lang.values():
            assert 1 <= len(text) <= COMMAND_DESCRIPTION_LIMIT
    assert "1900" in texts["animate.prompt"]["ko"]


@pytest.mark.parametrize(("locale", "word"), [("en-US", "Send Messages"), ("ko", "메시지 보내기")])
def test_missing_permissions_are_named_in_the_members_language(locale: str, word: str) -> None:
    text = missing_permissions(locale, ["send_messages", "embed_links"])
    assert word in text
    assert len(text) <= CONTENT_LIMIT
