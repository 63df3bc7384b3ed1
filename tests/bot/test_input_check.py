import re

import pytest

from bot.input_check import (
    InputCheck,
    Note,
    NoteKind,
    Picture,
    Problem,
    ProblemKind,
    check_animate_input,
    describe,
    describe_all,
)
from bot.jobs import ImageRef

LOCALES = ["en-US", "ko"]
LEFTOVER_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def picture(
    width: int | None = 1024,
    height: int | None = 768,
    size: int = 2_000_000,
    content_type: str | None = "image/png",
) -> ImageRef:
    return ImageRef(
        url="https://cdn.example/a.png",
        filename="a.png",
        content_type=content_type,
        width=width,
        height=height,
        size=size,
    )


def check(
    image: ImageRef | None = None,
    prompt: str | None = "a cat waves",
    last_frame: ImageRef | None = None,
    resolution: str = "480p",
    duration: int = 5,
    *,
    no_image: bool = False,
) -> InputCheck:
    return check_animate_input(
        None if no_image else (image or picture()), prompt, last_frame, resolution, duration
    )


def kinds(result: InputCheck) -> list[ProblemKind]:
    return [p.kind for p in result.problems]


def test_a_good_request_has_no_problems_and_no_notes() -> None:
    result = check(last_frame=picture(), resolution="720p", duration=10)
    assert result.ok
    assert result.problems == []
    assert result.notes == []


def test_missing_image() -> None:
    assert kinds(check(no_image=True)) == [ProblemKind.IMAGE_MISSING]


@pytest.mark.parametrize(
    "content_type", ["image/jpeg", "image/png", "image/webp", "IMAGE/PNG", "image/png; x=1"]
)
def test_accepted_picture_types(content_type: str) -> None:
    assert check(picture(content_type=content_type)).ok


@pytest.mark.parametrize(
    "ref",
    [
        picture(content_type="image/gif"),
        picture(content_type="video/mp4"),
        picture(content_type=None),
        picture(width=None, height=None),
        picture(width=1000, height=None),
    ],
)
def test_unusable_files_are_one_not_a_picture_problem(ref: ImageRef) -> None:
    assert check(ref).problems == [Problem(ProblemKind.NOT_A_PICTURE, picture=Picture.IMAGE)]


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (300, 300, [ProblemKind.TOO_SMALL]),
        (301, 301, []),
        (5999, 5999, []),
        (6000, 5000, [ProblemKind.TOO_LARGE]),
        (1000, 2500, [ProblemKind.ASPECT_RATIO]),
        (1001, 2500, []),
        (250, 7000, [ProblemKind.TOO_LARGE, ProblemKind.TOO_SMALL, ProblemKind.ASPECT_RATIO]),
    ],
)
def test_picture_rules_follow_the_seed_boundaries(
    width: int, height: int, expected: list[ProblemKind]
) -> None:
    assert kinds(check(picture(width, height))) == expected


@pytest.mark.parametrize(("size", "refused"), [(29_999_999, False), (30_000_000, True)])
def test_file_size_boundary(size: int, refused: bool) -> None:
    assert (ProblemKind.FILE_TOO_HEAVY in kinds(check(picture(size=size)))) is refused


def test_problems_carry_the_actual_values() -> None:
    (problem,) = check(picture(250, 400, size=1234)).problems
    assert problem == Problem(ProblemKind.TOO_SMALL, Picture.IMAGE, width=250, height=400, size_bytes=1234)


def test_last_frame_is_checked_with_the_same_rules_and_named() -> None:
    result = check(last_frame=picture(250, 400))
    assert [(p.kind, p.picture) for p in result.problems] == [(ProblemKind.TOO_SMALL, Picture.LAST_FRAME)]
    assert "last-frame" in describe(result.problems[0], "en-US")
    assert "마지막 프레임" in describe(result.problems[0], "ko")


def test_both_pictures_report_their_own_problems() -> None:
    result = check(picture(250, 400), last_frame=picture(content_type="image/gif"))
    assert [(p.kind, p.picture) for p in result.problems] == [
        (ProblemKind.TOO_SMALL, Picture.IMAGE),
        (ProblemKind.NOT_A_PICTURE, Picture.LAST_FRAME),
    ]


@pytest.mark.parametrize("prompt", [None, "", "   \n\t"])
def test_missing_or_blank_prompt(prompt: str | None) -> None:
    assert kinds(check(prompt=prompt)) == [ProblemKind.PROMPT_MISSING]


def test_prompt_length_limit() -> None:
    assert check(prompt="x" * 1900).ok
    assert check(prompt="x" * 1901).problems == [Problem(ProblemKind.PROMPT_TOO_LONG, prompt_length=1901)]


def test_resolution_and_duration_must_be_offered_values() -> None:
    result = check(resolution="4k", duration=7)
    assert result.problems == [
        Problem(ProblemKind.BAD_RESOLUTION, value="4k"),
        Problem(ProblemKind.BAD_DURATION, value="7"),
    ]


def test_last_frame_at_1080p_is_a_note_not_a_problem() -> None:
    result = check(last_frame=picture(), resolution="1080p")
    assert result.ok
    assert result.notes == [Note(NoteKind.LAST_FRAME_IGNORED_AT_1080P)]
    assert check(resolution="1080p").notes == []
    assert check(last_frame=picture(), resolution="720p").notes == []


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en-US", "1080p"), ("ko", "1080p에서는")],
)
def test_1080p_note_sentence(locale: str, expected: str) -> None:
    assert expected in describe(Note(NoteKind.LAST_FRAME_IGNORED_AT_1080P), locale)


# Each kind, the request that causes it, and the facts its sentence must show in every language.
EVERY_KIND: dict[ProblemKind, tuple[InputCheck, list[str]]] = {
    ProblemKind.IMAGE_MISSING: (check(no_image=True), ["image"]),
    ProblemKind.NOT_A_PICTURE: (check(picture(content_type="image/gif")), ["PNG", "JPEG", "WebP"]),
    ProblemKind.TOO_SMALL: (check(picture(250, 400)), ["250×400", "300", "6000"]),
    ProblemKind.TOO_LARGE: (check(picture(6500, 5000)), ["6500×5000", "300", "6000"]),
    ProblemKind.ASPECT_RATIO: (check(picture(3000, 1000)), ["3.00", "3000×1000", "0.4", "2.5"]),
    ProblemKind.FILE_TOO_HEAVY: (check(picture(size=31_400_000)), ["31.4", "30"]),
    ProblemKind.PROMPT_MISSING: (check(prompt=" "), []),
    ProblemKind.PROMPT_CONTROL: (check(prompt="a cat\x1b[2J waves"), []),
    ProblemKind.PROMPT_TOO_LONG: (check(prompt="y" * 2345), ["2345", "1900"]),
    ProblemKind.BAD_RESOLUTION: (check(resolution="4k"), ["4k", "480p, 720p, 1080p"]),
    ProblemKind.BAD_DURATION: (check(duration=7), ["7", "5, 10"]),
}


def test_every_problem_kind_has_a_case() -> None:
    assert set(EVERY_KIND) == set(ProblemKind)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(ProblemKind))
def test_every_problem_is_described_with_its_numbers(kind: ProblemKind, locale: str) -> None:
    result, facts = EVERY_KIND[kind]
    (problem,) = (p for p in result.problems if p.kind is kind)
    sentence = describe(problem, locale)
    assert not LEFTOVER_PLACEHOLDER.search(sentence)
    for fact in facts:
        assert fact in sentence


@pytest.mark.parametrize("kind", list(ProblemKind))
def test_korean_and_english_sentences_differ(kind: ProblemKind) -> None:
    result, _ = EVERY_KIND[kind]
    (problem,) = (p for p in result.problems if p.kind is kind)
    assert describe(problem, "ko") != describe(problem, "en-US")


def test_aspect_ratio_is_shown_with_two_decimals() -> None:
    (problem,) = check(picture(400, 1001)).problems
    assert "0.40" in describe(problem, "en-US")


def test_unknown_locale_describes_in_english() -> None:
    (problem,) = check(picture(250, 400)).problems
    assert describe(problem, "fr") == describe(problem, "en-GB")


@pytest.mark.parametrize("locale", LOCALES)
def test_describe_all_lists_every_problem_as_a_bullet(locale: str) -> None:
    result = check(picture(250, 400), prompt=None, resolution="4k")
    message = describe_all(result, locale)
    bullets = [line for line in message.splitlines() if line.startswith("• ")]
    assert bullets == [f"• {describe(p, locale)}" for p in result.problems]
    assert "/animate" in message


@pytest.mark.parametrize("locale", LOCALES)
def test_describe_all_stays_within_a_discord_message(locale: str) -> None:
    worst = picture(250, 7000, size=99_000_000)
    result = check(worst, prompt="z" * 5000, last_frame=worst, resolution="r" * 500, duration=3)
    message = describe_all(result, locale)
    assert len(result.problems) == 11
    assert len(message) <= 2000
    assert "r" * 21 not in message


@pytest.mark.parametrize("prompt", ["\u200b\u200b", "\u2060 \u200b", "\u3164", ""])
def test_a_prompt_with_nothing_visible_is_missing(prompt: str) -> None:
    assert [p.kind for p in check(prompt=prompt).problems] == [ProblemKind.PROMPT_MISSING]


@pytest.mark.parametrize("prompt", ["\x07\x08", "a cat\x1b waves", "\u202e a cat"])
def test_a_prompt_with_control_characters_is_refused_as_such(prompt: str) -> None:
    assert [p.kind for p in check(prompt=prompt).problems] == [ProblemKind.PROMPT_CONTROL]


def test_a_prompt_with_line_breaks_and_tabs_is_fine() -> None:
    assert check(prompt="a cat\n\twaves").problems == []
