"""Checks a ``/animate`` request from the attachments' metadata alone, before anything is sent or charged.

Problems stop the request; notes are worth telling the member but do not stop it. Both carry the numbers
needed to explain them, and :func:`describe` turns them into a sentence in the member's language.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.i18n import shorten, t
from bot.jobs import ImageRef
from client.image_rules import MAX_FILE_BYTES, MAX_SIDE_PX, MIN_SIDE_PX, ImageRule, check_image
from client.models import DURATIONS, PROMPT_MAX_CHARS, RESOLUTIONS
from client.prompt_text import PromptProblem, prompt_problem

ALLOWED_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
LAST_FRAME_IGNORED_AT = "1080p"
# The range client.image_rules enforces in integers (2/5 < width/height < 5/2), as members read it.
MIN_ASPECT_RATIO_TEXT = "0.4"
MAX_ASPECT_RATIO_TEXT = "2.5"
_BYTES_PER_MB = 1_000_000
_MAX_ECHOED_VALUE_CHARS = 20
_MESSAGE_LIMIT = 2000


class Picture(enum.StrEnum):
    """Which input picture a problem is about."""

    IMAGE = "image"
    LAST_FRAME = "last_frame"


class ProblemKind(enum.StrEnum):
    IMAGE_MISSING = "image_missing"
    NOT_A_PICTURE = "not_a_picture"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    ASPECT_RATIO = "aspect_ratio"
    FILE_TOO_HEAVY = "file_too_heavy"
    PROMPT_MISSING = "prompt_missing"
    PROMPT_CONTROL = "prompt_control"
    PROMPT_TOO_LONG = "prompt_too_long"
    BAD_RESOLUTION = "bad_resolution"
    BAD_DURATION = "bad_duration"


class NoteKind(enum.StrEnum):
    LAST_FRAME_IGNORED_AT_1080P = "last_frame_ignored_1080p"


_RULE_PROBLEMS: dict[ImageRule, ProblemKind] = {
    ImageRule.TOO_SMALL: ProblemKind.TOO_SMALL,
    ImageRule.TOO_LARGE: ProblemKind.TOO_LARGE,
    ImageRule.ASPECT_RATIO: ProblemKind.ASPECT_RATIO,
    ImageRule.FILE_TOO_HEAVY: ProblemKind.FILE_TOO_HEAVY,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason the request cannot go ahead, with the actual values that broke the rule."""

    kind: ProblemKind
    picture: Picture | None = None
    width: int | None = None
    height: int | None = None
    size_bytes: int | None = None
    prompt_length: int | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """Something the member should know about a request that is otherwise fine."""

    kind: NoteKind


@dataclass(frozen=True, slots=True)
class InputCheck:
    problems: list[Problem]
    notes: list[Note]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_animate_input(
    image: ImageRef | None,
    prompt: str | None,
    last_frame: ImageRef | None,
    resolution: str,
    duration: int,
) -> InputCheck:
    """Every problem and note of a request, in the order a member would fix them."""
    problems: list[Problem] = []
    if image is None:
        problems.append(Problem(ProblemKind.IMAGE_MISSING, picture=Picture.IMAGE))
    else:
        problems.extend(_picture_problems(image, Picture.IMAGE))
    if last_frame is not None:
        problems.extend(_picture_problems(last_frame, Picture.LAST_FRAME))
    problems.extend(_prompt_problems(prompt))
    if resolution not in RESOLUTIONS:
        problems.append(Problem(ProblemKind.BAD_RESOLUTION, value=resolution))
    if duration not in DURATIONS:
        problems.append(Problem(ProblemKind.BAD_DURATION, value=str(duration)))
    notes = [Note(NoteKind.LAST_FRAME_IGNORED_AT_1080P)] if last_frame_ignored(last_frame, resolution) else []
    return InputCheck(problems=problems, notes=notes)


def _prompt_problems(prompt: str | None) -> list[Problem]:
    """A prompt with nothing visible is missing; one carrying control characters is refused as such."""
    found = PromptProblem.BLANK if prompt is None else prompt_problem(prompt)
    if found is PromptProblem.BLANK:
        return [Problem(ProblemKind.PROMPT_MISSING)]
    if found is PromptProblem.CONTROL:
        return [Problem(ProblemKind.PROMPT_CONTROL)]
    assert prompt is not None
    if len(prompt) > PROMPT_MAX_CHARS:
        return [Problem(ProblemKind.PROMPT_TOO_LONG, prompt_length=len(prompt))]
    return []


def last_frame_ignored(last_frame: ImageRef | None, resolution: str) -> bool:
    """The API does not use a last frame at 1080p."""
    return last_frame is not None and resolution == LAST_FRAME_IGNORED_AT


def _picture_problems(ref: ImageRef, picture: Picture) -> list[Problem]:
    content_type = (ref.content_type or "").split(";", 1)[0].strip().lower()
    if content_type not in ALLOWED_CONTENT_TYPES or ref.width is None or ref.height is None:
        return [Problem(ProblemKind.NOT_A_PICTURE, picture=picture)]
    return [
        Problem(
            _RULE_PROBLEMS[violation.rule],
            picture=picture,
            width=ref.width,
            height=ref.height,
            size_bytes=ref.size,
        )
        for violation in check_image(ref.width, ref.height, ref.size)
    ]


def describe(item: Problem | Note, locale: str | None) -> str:
    """One sentence explaining ``item`` to the member, with the actual values and the allowed range."""
    if isinstance(item, Note):
        return t(locale, f"note.{item.kind}")
    picture = t(locale, f"picture.{item.picture or Picture.IMAGE}")
    params: dict[str, object] = {
        "picture": picture,
        "width": item.width,
        "height": item.height,
        "min_side": MIN_SIDE_PX,
        "max_side": MAX_SIDE_PX,
    }
    match item.kind:
        case ProblemKind.ASPECT_RATIO:
            params["ratio"] = _ratio_text(item.width, item.height)
            params["min_ratio"] = MIN_ASPECT_RATIO_TEXT
            params["max_ratio"] = MAX_ASPECT_RATIO_TEXT
        case ProblemKind.FILE_TOO_HEAVY:
            params["size_mb"] = f"{(item.size_bytes or 0) / _BYTES_PER_MB:.1f}"
            params["max_mb"] = MAX_FILE_BYTES // _BYTES_PER_MB
        case ProblemKind.PROMPT_TOO_LONG:
            params["length"] = item.prompt_length
            params["max_length"] = PROMPT_MAX_CHARS
        case ProblemKind.BAD_RESOLUTION:
            params["value"] = shorten(item.value or "", _MAX_ECHOED_VALUE_CHARS)
            params["allowed"] = ", ".join(RESOLUTIONS)
        case ProblemKind.BAD_DURATION:
            params["value"] = shorten(item.value or "", _MAX_ECHOED_VALUE_CHARS)
            params["allowed"] = ", ".join(str(d) for d in DURATIONS)
        case _:
            pass
    return t(locale, f"problem.{item.kind}", **params)


def describe_all(check: InputCheck, locale: str | None) -> str:
    """The ephemeral answer to a refused request: a heading, one bullet per problem, and what to do."""
    lines = [t(locale, "input.header")]
    lines.extend(f"• {describe(problem, locale)}" for problem in check.problems)
    lines.extend(f"• {describe(note, locale)}" for note in check.notes)
    lines.append(t(locale, "input.footer"))
    return shorten("\n".join(lines), _MESSAGE_LIMIT)


def _ratio_text(width: int | None, height: int | None) -> str:
    if not width or not height:
        return "?"
    return f"{width / height:.2f}"
