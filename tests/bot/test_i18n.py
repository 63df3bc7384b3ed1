import dataclasses
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from bot import i18n, input_check, render, texts
from bot.cancellation import CancelResult
from bot.i18n import LANGUAGES, Lang, catalog, language_for, placeholders, shorten, t
from bot.jobs import CancelPlace, FailureReason, ImageRef, JobRequest, JobState
from tests.bot.moderation.catalog_walk import render_every_moderation_text
from tests.store.jobs_for_tests import minimal_job

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.mark.parametrize("locale", ["ko", "KO", "ko-KR", "ko_KR"])
def test_korean_locales_choose_korean(locale: str) -> None:
    assert language_for(locale) == "ko"


@pytest.mark.parametrize("locale", ["en-US", "en-GB", "fr", "ja", "zh-CN", "kok", "", None])
def test_every_other_locale_falls_back_to_english(locale: str | None) -> None:
    assert language_for(locale) == "en"


def test_both_catalogs_have_the_same_keys() -> None:
    assert set(catalog("en")) == set(catalog("ko"))


def test_each_key_has_the_same_placeholders_in_both_languages() -> None:
    english, korean = catalog("en"), catalog("ko")
    mismatched = {
        key: (placeholders(english[key]), placeholders(korean[key]))
        for key in english
        if placeholders(english[key]) != placeholders(korean[key])
    }
    assert mismatched == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_template_is_empty(lang: Lang) -> None:
    assert [key for key, text in catalog(lang).items() if not text.strip()] == []


def test_korean_catalog_is_written_in_korean() -> None:
    assert [key for key, text in catalog("ko").items() if not HANGUL.search(text)] == []


def test_t_fills_placeholders_in_the_members_language() -> None:
    assert t("en-US", "card.footer", job_id="ab12cd34") == "Job ab12cd34"
    assert t("ko", "card.footer", job_id="ab12cd34") == "작업 ab12cd34"


def test_unknown_locale_reads_the_english_catalog() -> None:
    assert t("fr", "guild_only") == t("en-GB", "guild_only") == catalog("en")["guild_only"]


def test_unknown_key_fails_loudly() -> None:
    with pytest.raises(KeyError):
        t("en", "no.such.key")


def test_catalogs_are_read_only() -> None:
    with pytest.raises(TypeError):
        catalog("en")["guild_only"] = "changed"  # type: ignore[index]


def test_placeholders_lists_field_names() -> None:
    assert placeholders("{a} and {b:>3} but not {{c}}") == frozenset({"a", "b"})


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("eleven char", 10, "eleven ch…"),
        ("word   spaces here", 8, "word…"),
        ("anything", 0, ""),
    ],
)
def test_shorten_marks_a_cut_and_respects_the_limit(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit


class RecordingCatalog(Mapping[str, str]):
    """A catalog that remembers which keys were read."""

    def __init__(self, entries: Mapping[str, str], used: set[str]) -> None:
        self._entries = entries
        self._used = used

    def __getitem__(self, key: str) -> str:
        self._used.add(key)
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def test_every_catalog_key_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Walks every state, reason, problem and message once; a key nothing reads is dead text."""
    used: set[str] = set()
    monkeypatch.setattr(i18n, "catalog", lambda lang: RecordingCatalog(catalog(lang), used))
    now = datetime(2025, 1, 1, tzinfo=UTC)
    ref = ImageRef("https://x.example/a.png", "a.png", "image/png", 500, 500, 10)
    base = minimal_job(request=JobRequest("p", ref, last_frame=ref, resolution="1080p"), created_at=now)
    jobs = [dataclasses.replace(base, state=state) for state in JobState]
    jobs += [
        dataclasses.replace(base, state=JobState.IN_QUEUE, remote_queue_position=2),
        dataclasses.replace(base, state=JobState.IN_PROGRESS, started_at=now - timedelta(hours=1)),
        dataclasses.replace(base, state=JobState.DELIVERED, video_url="https://v.example/v.mp4"),
        dataclasses.replace(base, state=JobState.DELIVERED, video_url="http://127.0.0.1/v.mp4"),
        *(
            dataclasses.replace(base, state=JobState.CANCELLED, cancel_place=place, cancelled_by=9)
            for place in CancelPlace
        ),
        *(
            dataclasses.replace(
                base, state=JobState.FAILED, failure_reason=reason, failure_detail="d", video_url=url
            )
            for reason in FailureReason
            for url in (None, "https://v.example/v.mp4")
        ),
    ]
    for job in jobs:
        render.render_card(
            job, now=now, local_position=1, paused=True, service_down=True, awaiting_approval=True
        )
        render.render_card(job, now=now, local_position=48)
        render.render_card(job, now=now)
        if job.state.is_terminal:
            texts.end_notice("en", job, "https://discord.com/channels/1/2/3")
    bad = ImageRef("u", "f", "image/png", 100, 7000, 99_000_000)
    gif = ImageRef("u", "f", "image/gif", 500, 500, 10)
    for image, prompt, last_frame in [(None, None, bad), (bad, "x" * 2000, gif), (None, "\x1b[2J", None)]:
        refused = input_check.check_animate_input(image, prompt, last_frame, "4k", 7)
        input_check.describe_all(refused, "en")
    for outcome in CancelResult:
        texts.cancel_outcome("en", outcome)
    texts.help_text("en")
    texts.not_yours("en")
    texts.guild_only("en")
    texts.button_failed("en")
    texts.missing_permissions("en", list(texts.REQUIRED_CHANNEL_PERMISSIONS))
    texts.missing_permissions("en", list(texts.REQUIRED_THREAD_PERMISSIONS))
    texts.service_unavailable("en")
    texts.card_moved("en", 3)
    texts.video_too_large("en", "https://v.example/v.mp4")
    texts.command_texts()
    render_every_moderation_text("en")
    assert set(catalog("en")) - used == set()
