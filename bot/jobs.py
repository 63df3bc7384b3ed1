"""The Job record and its state machine.

A job walks: ``queued`` (in our own queue, nothing sent) → ``submitting`` (the paid POST may be in flight)
→ ``in_queue`` / ``in_progress`` (accepted by RunComfy, ``request_id`` known) → ``completed`` (video URL
known) → ``delivered`` (the reply holds the video). ``cancelled`` and ``failed`` end it early. Every change
goes through :meth:`Job.moved_to`, which refuses transitions the machine does not allow.
"""

from __future__ import annotations

import dataclasses
import enum
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Self

from client.models import DEFAULT_DURATION, DEFAULT_RESOLUTION

INTERACTION_TOKEN_LIFETIME = timedelta(minutes=15)
_TOKEN_CLEARED_AT = datetime(1970, 1, 1, tzinfo=UTC)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    SUBMITTING = "submitting"
    IN_QUEUE = "in_queue"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def is_at_runcomfy(self) -> bool:
        """RunComfy holds the job and is working towards a result."""
        return self in (JobState.IN_QUEUE, JobState.IN_PROGRESS)


TERMINAL_STATES = frozenset({JobState.DELIVERED, JobState.CANCELLED, JobState.FAILED})
ACTIVE_STATES = frozenset({JobState.SUBMITTING, JobState.IN_QUEUE, JobState.IN_PROGRESS})

ALLOWED_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.SUBMITTING, JobState.CANCELLED, JobState.FAILED}),
    # Back to QUEUED only when the POST certainly was not accepted (refused connection, 429, 503).
    JobState.SUBMITTING: frozenset(
        {JobState.QUEUED, JobState.IN_QUEUE, JobState.IN_PROGRESS, JobState.COMPLETED, JobState.FAILED}
    ),
    JobState.IN_QUEUE: frozenset(
        {JobState.IN_PROGRESS, JobState.COMPLETED, JobState.CANCELLED, JobState.FAILED}
    ),
    JobState.IN_PROGRESS: frozenset({JobState.COMPLETED, JobState.CANCELLED, JobState.FAILED}),
    JobState.COMPLETED: frozenset({JobState.DELIVERED, JobState.FAILED}),
    JobState.DELIVERED: frozenset(),
    JobState.CANCELLED: frozenset(),
    JobState.FAILED: frozenset(),
}


class FailureReason(enum.StrEnum):
    """Why a job failed, in terms the reply can explain to a member."""

    REJECTED_INPUT = "rejected_input"  # RunComfy's validation refused it (detail: the API's message)
    SERVICE_UNAVAILABLE = "service_unavailable"  # auth or credits: an operator must act
    GENERATION_FAILED = "generation_failed"  # RunComfy ran it and it failed (detail: its error)
    TIMED_OUT = "timed_out"  # outlived the maximum job time
    SUBMISSION_INTERRUPTED = "submission_interrupted"  # the POST's outcome is unknown; never resent
    NOT_FOUND = "not_found"  # RunComfy no longer knows the request
    NO_VIDEO = "no_video"  # completed without a video in its output
    DELIVERY_FAILED = "delivery_failed"  # the video exists but could not be posted
    UNSAFE_VIDEO = "unsafe_video"  # the result's URL or body is not a video the bot may fetch or post
    UNEXPECTED_ANSWER = "unexpected_answer"  # RunComfy answered something the bot will not use
    INTERNAL_ERROR = "internal_error"  # the bot failed while handling this job


class CancelPlace(enum.StrEnum):
    LOCAL = "local"  # still in our queue: no API call, nothing charged
    RUNCOMFY = "runcomfy"  # queued at RunComfy and cancelled there


class InvalidTransitionError(ValueError):
    def __init__(self, job_id: str, old: JobState, new: JobState) -> None:
        super().__init__(f"job {job_id}: {old} -> {new} is not allowed")
        self.old = old
        self.new = new


def new_job_id() -> str:
    """A short id a member can quote: 8 lowercase hex characters."""
    return secrets.token_hex(4)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An input picture as Discord described it."""

    url: str
    filename: str
    content_type: str | None
    width: int | None
    height: int | None
    size: int


@dataclass(frozen=True, slots=True)
class JobRequest:
    """What the member asked for; never changes after the job is created."""

    prompt: str
    image: ImageRef
    last_frame: ImageRef | None = None
    resolution: str = DEFAULT_RESOLUTION
    duration: int = DEFAULT_DURATION


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Where the job's public reply lives.

    ``interaction_token`` is a secret: it is stored to keep editing the reply across restarts while it
    lives, and never logged or shown. ``message_id`` is the reply message once known; after the token
    expires the bot edits that message through the channel, or posts ``fallback_message_id`` instead.
    """

    application_id: int
    interaction_token: str
    token_expires_at: datetime
    message_id: int | None = None
    fallback_message_id: int | None = None
    upload_limit: int | None = None
    """The largest file Discord said it accepts with this interaction (bytes), when it said."""

    def without_token(self) -> ReplyTarget:
        """The same place with the token forgotten and marked dead, for a reply nothing will edit again."""
        return dataclasses.replace(self, interaction_token="", token_expires_at=_TOKEN_CLEARED_AT)

    def __repr__(self) -> str:
        return (
            f"ReplyTarget(application_id={self.application_id}, interaction_token='***', "
            f"message_id={self.message_id}, fallback_message_id={self.fallback_message_id})"
        )


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    guild_id: int
    channel_id: int
    user_id: int
    locale: str
    request: JobRequest
    reply: ReplyTarget
    state: JobState = JobState.QUEUED
    created_at: datetime = dataclasses.field(default_factory=utcnow)
    updated_at: datetime = dataclasses.field(default_factory=utcnow)
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    request_id: str | None = None
    remote_queue_position: int | None = None
    video_url: str | None = None
    failure_reason: FailureReason | None = None
    failure_detail: str | None = None
    cancel_requested_by: int | None = None
    cancelled_by: int | None = None
    cancel_place: CancelPlace | None = None
    reply_final: bool = False
    """The reply shows the end state (and the member was mentioned); nothing is left to do."""
    version: int = 0
    """Bumped by the store on every save; a save against an older version is refused."""

    def moved_to(self, state: JobState, *, at: datetime | None = None, **changes: object) -> Self:
        """A copy in ``state`` with ``changes`` applied, stamped with the time of the change."""
        if state is not self.state and state not in ALLOWED_TRANSITIONS[self.state]:
            raise InvalidTransitionError(self.id, self.state, state)
        now = at or utcnow()
        stamps: dict[str, object] = {"updated_at": now}
        if state is JobState.SUBMITTING and self.submitted_at is None:
            stamps["submitted_at"] = now
        if state is JobState.IN_PROGRESS and self.started_at is None:
            stamps["started_at"] = now
        if (state.is_terminal or state is JobState.COMPLETED) and self.finished_at is None:
            stamps["finished_at"] = now
        if state is not JobState.IN_QUEUE:
            stamps["remote_queue_position"] = None
        stamps.update(changes)
        return dataclasses.replace(self, state=state, **stamps)  # type: ignore[arg-type]

    def with_changes(self, *, at: datetime | None = None, **changes: object) -> Self:
        """A copy with bookkeeping fields changed and the state kept, stamped with the time of the change."""
        return dataclasses.replace(self, updated_at=at or utcnow(), **changes)  # type: ignore[arg-type]

    def failed(self, reason: FailureReason, detail: str | None = None, *, at: datetime | None = None) -> Self:
        return self.moved_to(JobState.FAILED, at=at, failure_reason=reason, failure_detail=detail)


def without_spent_token(job: Job) -> Job:
    """``job`` with its interaction token cleared once its reply is final: nothing will edit it again, and
    a secret kept for nothing is a secret that can leak."""
    if not job.reply_final or not job.reply.interaction_token:
        return job
    return dataclasses.replace(job, reply=job.reply.without_token())
