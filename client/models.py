"""Pydantic models of Seedance 1.0 Lite's input and of RunComfy's answers, and the job status types.

Input follows the seed's schema strictly. Answers tolerate unknown fields; a missing required field is a
:class:`~client.errors.MalformedResponseError` (see :func:`parse_answer`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from client.errors import MalformedResponseError

# The API's input rules, stated once: the bot's own checks and its command options are derived from these.
Resolution = Literal["480p", "720p", "1080p"]
Duration = Literal[5, 10]
PROMPT_MAX_CHARS = 1900
RESOLUTIONS: tuple[Resolution, ...] = get_args(Resolution)
DURATIONS: tuple[Duration, ...] = get_args(Duration)
DEFAULT_RESOLUTION: Resolution = "480p"
DEFAULT_DURATION: Duration = 5

# RunComfy's contract asks for public URLs it fetches itself: data: URIs are refused, as by the CLI.
_IMAGE_URL_PREFIXES = ("https://", "http://")


class AnimateInput(BaseModel):
    """The body of a Seedance 1.0 Lite image-to-video request.

    The image rules (size, ratio, weight) need the image itself: see :mod:`client.image_rules`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str = Field(min_length=1, max_length=PROMPT_MAX_CHARS)
    first_frame_image_url: str
    last_frame_image_url: str | None = None
    resolution: Resolution = DEFAULT_RESOLUTION
    duration: Duration = DEFAULT_DURATION

    @field_validator("prompt")
    @classmethod
    def _prompt_has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("prompt must not be blank")
        return value

    @field_validator("first_frame_image_url", "last_frame_image_url")
    @classmethod
    def _is_image_url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(_IMAGE_URL_PREFIXES):
            raise ValueError("must be an http(s) URL; data: URIs are not accepted")
        return value

    def to_payload(self) -> dict[str, Any]:
        """The JSON body to POST, without the fields left unset (None)."""
        return self.model_dump(mode="json", exclude_none=True)


# --- job statuses, as small types -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Queued:
    """Waiting at RunComfy; ``position`` is the queue position when the API tells it. Cancellable."""

    position: int | None = None
    state: ClassVar[str] = "in_queue"
    terminal: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class InProgress:
    """Running at RunComfy; it can no longer be cancelled."""

    state: ClassVar[str] = "in_progress"
    terminal: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Completed:
    """Finished. ``video_url`` is None when the answer carried no output (e.g. from ``/status``)."""

    video_url: str | None = None
    output: Output | None = None
    state: ClassVar[str] = "completed"
    terminal: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Cancelled:
    """Cancelled at RunComfy."""

    state: ClassVar[str] = "cancelled"
    terminal: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Failed:
    """RunComfy ran the job and it failed; ``error`` is its error as text, if it gave one."""

    error: str | None = None
    state: ClassVar[str] = "failed"
    terminal: ClassVar[bool] = True


JobStatus = Queued | InProgress | Completed | Cancelled | Failed

_QUEUED = frozenset({"in_queue", "pending"})
_RUNNING = frozenset({"in_progress", "starting", "processing"})
_COMPLETED = frozenset({"completed", "succeeded"})
_CANCELLED = frozenset({"cancelled", "canceled"})
_FAILED = frozenset({"failed"})
KNOWN_STATUSES = _QUEUED | _RUNNING | _COMPLETED | _CANCELLED | _FAILED


def job_status(
    raw: str, *, position: int | None = None, output: Output | None = None, error: object = None
) -> JobStatus:
    """The status type for a wire status string (RunComfy's synonyms included)."""
    name = raw.strip().lower()
    if name in _QUEUED:
        return Queued(position)
    if name in _RUNNING:
        return InProgress()
    if name in _COMPLETED:
        return Completed(output.video_url if output else None, output)
    if name in _CANCELLED:
        return Cancelled()
    if name in _FAILED:
        return Failed(error_text(error))
    raise MalformedResponseError(f"RunComfy answered an unknown job status {raw[:40]!r}")


def error_text(value: object) -> str | None:
    """A job's ``error`` (a string, or an object such as ``{"code", "message"}``) kept as readable text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        message = value.get("message")
        code = value.get("code")
        if isinstance(message, str):
            return f"{message} (code {code})" if code is not None else message
    return json.dumps(value, sort_keys=True, default=str)


# --- answers ----------------------------------------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Submission(_Answer):
    """The answer to a submit: the job's ``request_id`` (keep it!) and its URLs."""

    request_id: str = Field(min_length=1)
    status_url: str | None = None
    result_url: str | None = None
    cancel_url: str | None = None


class Output(_Answer):
    """A job's output: single URLs or lists of them."""

    video: str | None = None
    videos: list[str] | None = None
    image: str | None = None
    images: list[str] | None = None

    @property
    def video_url(self) -> str | None:
        """``video``, or else the first of ``videos``."""
        if self.video:
            return self.video
        return self.videos[0] if self.videos else None


class _StatusFields(_Answer):
    request_id: str = Field(min_length=1)
    raw_status: str = Field(alias="status")
    queue_position: int | None = None

    @field_validator("raw_status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        if value.strip().lower() not in KNOWN_STATUSES:
            raise ValueError(f"unknown job status {value[:40]!r}")
        return value


class StatusAnswer(_StatusFields):
    """The answer of ``GET /v1/requests/{id}/status``."""

    status_url: str | None = None
    result_url: str | None = None

    @property
    def status(self) -> JobStatus:
        return job_status(self.raw_status, position=self.queue_position)


class Result(_StatusFields):
    """The answer of ``GET /v1/requests/{id}/result``: the output once finished, else the current status."""

    output: Output | None = None
    created_at: str | None = None
    finished_at: str | None = None
    error: Any = None

    @property
    def status(self) -> JobStatus:
        return job_status(self.raw_status, position=self.queue_position, output=self.output, error=self.error)

    @property
    def video_url(self) -> str | None:
        return self.output.video_url if self.output else None


class CancelOutcome(_Answer):
    """The answer of a cancel. ``cancelled`` says plainly whether the job was cancelled."""

    request_id: str = Field(min_length=1)
    raw_status: str | None = Field(default=None, alias="status")
    outcome: str | None = None

    @property
    def cancelled(self) -> bool:
        if self.outcome is not None:
            return self.outcome.strip().lower() == "cancelled"
        return self.raw_status is not None and self.raw_status.strip().lower() in _CANCELLED


AnswerT = TypeVar("AnswerT", bound=_Answer)


def parse_answer(model: type[AnswerT], data: object, *, what: str) -> AnswerT:
    """Validate an answer body; a body that does not fit is a :class:`MalformedResponseError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)[:3]
        )
        raise MalformedResponseError(f"RunComfy's {what} answer is malformed ({problems})") from None
