import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.i18n import t
from bot.jobs import CancelPlace, FailureReason, ImageRef, Job, JobRequest, JobState
from bot.render import (
    BUTTON_LABEL_LIMIT,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    TITLE_LIMIT,
    Card,
    failure_summary,
    format_elapsed,
    render_card,
)
from tests.store.jobs_for_tests import SECRET_TOKEN, minimal_job

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
REQUESTER = minimal_job().user_id
MODERATOR = 9999
VIDEO = "https://cdn.runcomfy.example/out/video.mp4"
LOCALES = ["en-US", "ko"]
LEFTOVER_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def image(url: str = "https://cdn.discord.example/first.png") -> ImageRef:
    return ImageRef(url=url, filename="first.png", content_type="image/png", width=1024, height=768, size=10)


def make_job(state: JobState = JobState.QUEUED, *, locale: str = "en-US", **changes: Any) -> Job:
    return minimal_job(state=state, locale=locale, created_at=NOW - timedelta(minutes=3), **changes)


def everything_shown(card: Card) -> str:
    parts = [card.title, card.description, card.footer, *(f"{f.name}\n{f.value}" for f in card.fields)]
    if card.cancel_button is not None:
        parts.append(card.cancel_button.label)
    return "\n".join(parts)


# One job per state, with the facts its card must show (besides those every card shows).
def state_cases() -> list[tuple[Job, dict[str, object], list[str]]]:
    return [
        (make_job(JobState.QUEUED), {"local_position": 3}, ["3"]),
        (make_job(JobState.SUBMITTING), {}, []),
        (make_job(JobState.IN_QUEUE, remote_queue_position=5), {}, ["5"]),
        (make_job(JobState.IN_PROGRESS, started_at=NOW - timedelta(seconds=95)), {}, ["1:35", "1–2"]),
        (make_job(JobState.COMPLETED, finished_at=NOW, video_url=VIDEO), {}, ["3:00", VIDEO]),
        (make_job(JobState.DELIVERED, finished_at=NOW, video_url=VIDEO), {}, ["3:00", VIDEO]),
        (make_job(JobState.CANCELLED, cancel_place=CancelPlace.LOCAL), {}, []),
        (make_job(JobState.FAILED, failure_reason=FailureReason.TIMED_OUT), {}, []),
    ]


def test_every_state_has_a_case() -> None:
    assert {job.state for job, _, _ in state_cases()} == set(JobState)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("case", range(len(JobState)))
def test_every_state_renders_its_facts_in_both_languages(case: int, locale: str) -> None:
    job, options, facts = state_cases()[case]
    job = dataclasses.replace(job, locale=locale)
    card = render_card(job, now=NOW, **options)  # type: ignore[arg-type]
    shown = everything_shown(card)
    assert not LEFTOVER_PLACEHOLDER.search(shown)
    assert card.title == t(locale, f"card.title.{job.state}")
    assert f"<@{REQUESTER}>" in shown
    assert minimal_job().request.prompt in card.description
    assert "480p" in shown
    assert t(locale, "card.duration_value", seconds=5) in shown
    assert minimal_job().id in card.footer
    assert card.thumbnail_url == minimal_job().request.image.url
    for fact in facts:
        assert fact in card.description


def test_titles_differ_between_languages() -> None:
    for state in JobState:
        assert (
            render_card(make_job(state, locale="ko"), now=NOW).title
            != render_card(make_job(state), now=NOW).title
        )


def test_queued_shows_the_local_position() -> None:
    assert "position 3" in render_card(make_job(), now=NOW, local_position=3).description
    assert "3번째" in render_card(make_job(locale="ko"), now=NOW, local_position=3).description
    assert "position" not in render_card(make_job(), now=NOW).description


def test_paused_queue_is_said() -> None:
    job = make_job()
    assert t("en", "card.status.paused") in render_card(job, now=NOW, paused=True).description
    assert t("en", "card.status.paused") not in render_card(job, now=NOW).description


def test_a_service_outage_is_said_on_queued_cards_only() -> None:
    down = t("en", "card.status.service_down")
    assert down in render_card(make_job(), now=NOW, service_down=True).description
    assert down not in render_card(make_job(), now=NOW).description
    assert down not in render_card(make_job(JobState.IN_PROGRESS), now=NOW, service_down=True).description
    korean = render_card(make_job(locale="ko"), now=NOW, service_down=True).description
    assert t("ko", "card.status.service_down") in korean


def test_in_queue_shows_the_remote_position_only_when_known() -> None:
    assert (
        "position 7" in render_card(make_job(JobState.IN_QUEUE, remote_queue_position=7), now=NOW).description
    )
    assert "position" not in render_card(make_job(JobState.IN_QUEUE), now=NOW).description


@pytest.mark.parametrize(
    ("resolution", "duration", "estimate"),
    [("480p", 5, "1–2"), ("720p", 10, "2–5"), ("1080p", 10, "3–6")],
)
def test_in_progress_gives_an_honest_estimate(resolution: str, duration: int, estimate: str) -> None:
    request = JobRequest(prompt="p", image=image(), resolution=resolution, duration=duration)
    job = make_job(JobState.IN_PROGRESS, request=request, started_at=NOW - timedelta(seconds=30))
    description = render_card(job, now=NOW).description
    assert f"usually takes about {estimate} minutes" in description
    assert "0:30" in description
    assert "%" not in description


def test_in_progress_says_when_it_takes_longer_than_usual() -> None:
    job = make_job(JobState.IN_PROGRESS, started_at=NOW - timedelta(minutes=2, seconds=1))
    assert t("en", "card.status.in_progress_long") in render_card(job, now=NOW).description
    job = make_job(JobState.IN_PROGRESS, started_at=NOW - timedelta(minutes=2))
    assert t("en", "card.status.in_progress_long") not in render_card(job, now=NOW).description


def test_finished_card_links_the_video() -> None:
    card = render_card(make_job(JobState.DELIVERED, finished_at=NOW, video_url=VIDEO), now=NOW)
    assert card.video_url == VIDEO
    assert f"({VIDEO})" in card.description


def test_cancelled_in_our_queue_says_nothing_was_charged() -> None:
    card = render_card(make_job(JobState.CANCELLED, cancel_place=CancelPlace.LOCAL), now=NOW)
    assert "nothing was charged" in card.description
    card = render_card(make_job(JobState.CANCELLED, cancel_place=CancelPlace.LOCAL, locale="ko"), now=NOW)
    assert "요금이 청구되지 않았어요" in card.description


def test_cancelled_at_runcomfy_says_where() -> None:
    card = render_card(make_job(JobState.CANCELLED, cancel_place=CancelPlace.RUNCOMFY), now=NOW)
    assert "at RunComfy" in card.description
    assert "nothing was charged" not in card.description


def test_cancelled_by_someone_else_names_them() -> None:
    by_mod = make_job(JobState.CANCELLED, cancel_place=CancelPlace.LOCAL, cancelled_by=MODERATOR)
    assert f"Cancelled by <@{MODERATOR}>" in render_card(by_mod, now=NOW).description
    by_self = dataclasses.replace(by_mod, cancelled_by=REQUESTER)
    assert "Cancelled by" not in render_card(by_self, now=NOW).description


# Facts each failure must show beyond its own sentence and advice.
FAILURE_FACTS: dict[FailureReason, tuple[dict[str, object], list[str], list[str]]] = {
    FailureReason.REJECTED_INPUT: ({"failure_detail": "prompt contains banned words"}, ["banned words"], []),
    FailureReason.SERVICE_UNAVAILABLE: (
        {"failure_detail": "HTTP 402 balance 0 for key rk_123"},
        [],
        ["402", "rk_"],
    ),
    FailureReason.GENERATION_FAILED: ({"failure_detail": "GPU fault"}, ["GPU fault"], []),
    FailureReason.TIMED_OUT: ({}, [], []),
    FailureReason.SUBMISSION_INTERRUPTED: ({}, [], []),
    FailureReason.NOT_FOUND: ({}, [], []),
    FailureReason.NO_VIDEO: ({}, [], []),
    FailureReason.DELIVERY_FAILED: ({"video_url": VIDEO}, [VIDEO], []),
    FailureReason.UNSAFE_VIDEO: ({"video_url": "https://evil.example/v.mp4"}, [], ["evil.example"]),
    FailureReason.UNEXPECTED_ANSWER: ({}, [], []),
    FailureReason.INTERNAL_ERROR: ({}, [], []),
}


def test_every_failure_reason_has_a_case() -> None:
    assert set(FAILURE_FACTS) == set(FailureReason)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("reason", list(FailureReason))
def test_every_failure_reason_explains_itself_and_what_to_do(reason: FailureReason, locale: str) -> None:
    changes, shown_facts, hidden_facts = FAILURE_FACTS[reason]
    job = make_job(JobState.FAILED, locale=locale, failure_reason=reason, **changes)
    description = render_card(job, now=NOW).description
    assert failure_summary(locale, reason) in description
    assert t(locale, f"failure.{reason}.todo") in description
    assert not LEFTOVER_PLACEHOLDER.search(description)
    for fact in shown_facts:
        assert fact in description
    for fact in hidden_facts:
        assert fact not in description


def test_failure_sentences_are_distinct() -> None:
    for locale in LOCALES:
        sentences = {failure_summary(locale, reason) for reason in FailureReason}
        assert len(sentences) == len(FailureReason)


def test_interrupted_submission_explains_why_it_was_not_resent() -> None:
    job = make_job(JobState.FAILED, failure_reason=FailureReason.SUBMISSION_INTERRUPTED)
    description = render_card(job, now=NOW).description
    assert "charging twice" in description
    assert "try again" in description


def test_delivery_failed_without_a_link_asks_to_try_again() -> None:
    job = make_job(JobState.FAILED, failure_reason=FailureReason.DELIVERY_FAILED)
    description = render_card(job, now=NOW).description
    assert t("en", "failure.delivery_failed.todo_no_link") in description
    assert "](" not in description


def test_failure_without_a_reason_still_renders() -> None:
    description = render_card(make_job(JobState.FAILED), now=NOW).description
    assert t("en", "failure.unknown.what") in description


def test_colors_follow_the_state_families() -> None:
    color = {state: render_card(make_job(state), now=NOW).color for state in JobState}
    assert color[JobState.QUEUED] == color[JobState.SUBMITTING] == color[JobState.IN_QUEUE]
    assert color[JobState.COMPLETED] == color[JobState.DELIVERED]
    families = [
        JobState.QUEUED,
        JobState.IN_PROGRESS,
        JobState.DELIVERED,
        JobState.CANCELLED,
        JobState.FAILED,
    ]
    assert len({color[state] for state in families}) == 5


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("state", "enabled"),
    [
        (JobState.QUEUED, True),
        (JobState.SUBMITTING, True),
        (JobState.IN_QUEUE, True),
        (JobState.IN_PROGRESS, False),
        (JobState.COMPLETED, None),
        (JobState.DELIVERED, None),
        (JobState.CANCELLED, None),
        (JobState.FAILED, None),
    ],
)
def test_cancel_button_per_state(state: JobState, enabled: bool | None, locale: str) -> None:
    button = render_card(make_job(state, locale=locale), now=NOW).cancel_button
    if enabled is None:
        assert button is None
        return
    assert button is not None
    assert button.enabled is enabled
    assert 0 < len(button.label) <= BUTTON_LABEL_LIMIT
    if not enabled:
        assert button.label == t(locale, "card.cancel_disabled")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("state", list(JobState))
@pytest.mark.parametrize("prompt", ["é" * 1900, "\n" * 1899 + "x", "word " * 1000])
def test_discord_embed_limits_hold_for_the_longest_inputs(state: JobState, prompt: str, locale: str) -> None:
    request = JobRequest(prompt=prompt, image=image(), last_frame=image(), resolution="1080p")
    job = make_job(
        state,
        locale=locale,
        request=request,
        failure_reason=FailureReason.REJECTED_INPUT,
        failure_detail="d" * 10_000,
        video_url="https://cdn.example/" + "v" * 3000,
        cancelled_by=MODERATOR,
        remote_queue_position=123456,
        started_at=NOW - timedelta(hours=30),
    )
    card = render_card(job, now=NOW, local_position=99999, paused=True)
    assert len(card.title) <= TITLE_LIMIT
    assert len(card.description) <= DESCRIPTION_LIMIT
    assert all(len(f.value) <= FIELD_VALUE_LIMIT for f in card.fields)
    assert card.total_length() <= EMBED_TOTAL_LIMIT


def test_a_1900_character_prompt_is_shown_whole() -> None:
    prompt = "a" * 1899 + "Z"
    assert (
        prompt in render_card(make_job(request=JobRequest(prompt=prompt, image=image())), now=NOW).description
    )


def test_the_1080p_note_shows_while_the_job_runs_and_goes_at_the_end() -> None:
    request = JobRequest(prompt="p", image=image(), last_frame=image(), resolution="1080p")
    running = render_card(make_job(request=request), now=NOW)
    assert len(running.notes) == 1
    assert "1080p" in running.notes[0]
    assert running.notes[0] in running.description
    assert render_card(make_job(JobState.DELIVERED, request=request), now=NOW).notes == ()
    assert render_card(make_job(), now=NOW).notes == ()


def test_last_frame_field_only_when_given() -> None:
    with_last = make_job(request=JobRequest(prompt="p", image=image(), last_frame=image()))
    names = [f.name for f in render_card(with_last, now=NOW).fields]
    assert "Last frame" in names
    assert "Last frame" not in [f.name for f in render_card(make_job(), now=NOW).fields]


def test_unknown_locale_renders_in_english() -> None:
    assert render_card(make_job(locale="fr"), now=NOW) == render_card(make_job(locale="en-GB"), now=NOW)


def test_same_job_and_clock_give_an_equal_card() -> None:
    job = make_job(JobState.IN_PROGRESS, started_at=NOW - timedelta(seconds=10))
    assert render_card(job, now=NOW) == render_card(job, now=NOW)
    assert render_card(job, now=NOW) != render_card(job, now=NOW + timedelta(seconds=1))


def test_interaction_token_never_reaches_the_card() -> None:
    for state in JobState:
        assert SECRET_TOKEN not in everything_shown(render_card(make_job(state), now=NOW))


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0:00"), (59, "0:59"), (60, "1:00"), (95, "1:35"), (3725, "62:05"), (-5, "0:00")],
)
def test_format_elapsed(seconds: int, expected: str) -> None:
    assert format_elapsed(NOW, NOW + timedelta(seconds=seconds)) == expected
    assert format_elapsed(None, NOW) == "0:00"


def test_markup_in_a_prompt_is_shown_as_typed() -> None:
    prompt = "[free nitro](https://evil.example) @everyone **now**"
    job = make_job(request=JobRequest(prompt, make_job().request.image))
    description = render_card(job, now=NOW).description
    assert "[free nitro](https://evil.example)" not in description
    assert r"\[free nitro\]\(https\://evil\.example\)" in description
    assert "@everyone" not in description
    assert r"\*\*now\*\*" in description


def test_markup_in_runcomfy_error_text_is_shown_as_typed() -> None:
    detail = "[click here](https://evil.example) to fix"
    job = make_job(JobState.FAILED, failure_reason=FailureReason.GENERATION_FAILED, failure_detail=detail)
    description = render_card(job, now=NOW).description
    assert "[click here](https://evil.example)" not in description
    assert r"\[click here\]" in description


@pytest.mark.parametrize(
    ("url", "link", "code"),
    [
        (VIDEO, f"]({VIDEO})", None),
        ("http://127.0.0.1:8700/media/a.mp4", None, "`http://127.0.0.1:8700/media/a.mp4`"),
        (
            "https://cdn.example/a.mp4)[x](https://evil.example",
            None,
            "`https://cdn.example/a.mp4)[x](https://evil.example`",
        ),
        ("https://cdn.example/`a`.mp4", None, None),
    ],
    ids=["https-link", "http-as-code", "markup-in-url", "backtick-in-url"],
)
def test_a_video_url_is_a_link_only_when_safe(url: str, link: str | None, code: str | None) -> None:
    description = render_card(make_job(JobState.DELIVERED, video_url=url), now=NOW).description
    outside_code = re.sub(r"`[^`\n]*`", "", description)
    if link is not None:
        assert link in outside_code
    else:
        assert "](" not in outside_code
    if code is not None:
        assert code in description
    if link is None and code is None:
        assert "evil.example" not in description
        assert "cdn.example" not in description


def test_a_place_far_back_is_shown_rounded() -> None:
    assert "about 40 ahead" in render_card(make_job(), now=NOW, local_position=42).description
    assert "앞에 약 40개" in render_card(make_job(locale="ko"), now=NOW, local_position=42).description
    assert "position 10" in render_card(make_job(), now=NOW, local_position=10).description
