"""A job's state → the job card a member sees, as neutral data the Discord adapter turns into an embed.

Pure: the same job and clock always give the same card, so the adapter can compare cards and edit the
message only when what is shown changes. Every text respects Discord's embed limits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from bot.edit_budget import shown_place
from bot.i18n import shorten, t
from bot.input_check import Note, NoteKind, describe, last_frame_ignored
from bot.jobs import CancelPlace, FailureReason, Job, JobState
from bot.markdown_safety import escape_markdown_within, safe_link_url, shown_url
from bot.moderation.cost import cost_units
from bot.moderation.messages import cost_text

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
BUTTON_LABEL_LIMIT = 80
_DETAIL_LIMIT = 500
# A signed link longer than this is left to ``Card.video_url`` rather than written into the description.
_LINK_IN_TEXT_LIMIT = 1500

# Seedance 1.0 Lite usually needs about a minute for 5 s at 480p; more pixels and more seconds take longer.
# Rough ranges in minutes, deliberately wide: the card says "usually", never a percentage.
_USUAL_MINUTES: dict[tuple[str, int], tuple[int, int]] = {
    ("480p", 5): (1, 2),
    ("480p", 10): (2, 3),
    ("720p", 5): (1, 3),
    ("720p", 10): (2, 5),
    ("1080p", 5): (2, 4),
    ("1080p", 10): (3, 6),
}
_UNKNOWN_USUAL_MINUTES = (1, 6)


class CardColor(enum.IntEnum):
    """One colour per state family."""

    WAITING = 0x5865F2
    RUNNING = 0xF1C40F
    DONE = 0x2ECC71
    CANCELLED = 0x95A5A6
    FAILED = 0xE74C3C


_STATE_COLORS: dict[JobState, CardColor] = {
    JobState.QUEUED: CardColor.WAITING,
    JobState.SUBMITTING: CardColor.WAITING,
    JobState.IN_QUEUE: CardColor.WAITING,
    JobState.IN_PROGRESS: CardColor.RUNNING,
    JobState.COMPLETED: CardColor.DONE,
    JobState.DELIVERED: CardColor.DONE,
    JobState.CANCELLED: CardColor.CANCELLED,
    JobState.FAILED: CardColor.FAILED,
}
_CANCELLABLE_STATES = frozenset({JobState.QUEUED, JobState.SUBMITTING, JobState.IN_QUEUE})


@dataclass(frozen=True, slots=True)
class CardField:
    name: str
    value: str
    inline: bool = True


@dataclass(frozen=True, slots=True)
class CancelButton:
    label: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class Card:
    """Everything the job's public reply shows.

    ``notes`` are already part of ``description``; they are also given alone for callers that want them.
    ``video_url`` is the finished video, for the adapter to attach or link (the description links it too
    when the link is of a sensible length).
    """

    title: str
    description: str
    color: int
    fields: tuple[CardField, ...]
    thumbnail_url: str | None
    footer: str
    cancel_button: CancelButton | None
    video_url: str | None
    notes: tuple[str, ...]

    def total_length(self) -> int:
        """The characters Discord counts against its 6000-character embed limit."""
        return (
            len(self.title)
            + len(self.description)
            + len(self.footer)
            + sum(len(f.name) + len(f.value) for f in self.fields)
        )


def render_card(
    job: Job,
    *,
    now: datetime,
    local_position: int | None = None,
    paused: bool = False,
    service_down: bool = False,
    awaiting_approval: bool = False,
) -> Card:
    """The card for ``job`` as of ``now``.

    ``local_position`` is the job's place in this server's queue (1 = next); ``paused`` says a moderator
    paused that queue; ``service_down`` says the video service refuses the bot for now (shown without
    details); ``awaiting_approval`` says a moderator has yet to approve the job. They show on queued jobs
    only. A finished job shows the time from the request to the result, which is what the member waited.
    """
    lang = job.locale
    notes = _notes(job)
    lines = _status_lines(job, now=now, local_position=local_position, paused=paused)
    if service_down and job.state is JobState.QUEUED:
        lines.append(t(lang, "card.status.service_down"))
    if awaiting_approval and job.state is JobState.QUEUED:
        lines.append(t(lang, "card.status.awaiting_approval"))
    status = "\n".join([*lines, *notes])
    return Card(
        title=shorten(t(lang, f"card.title.{job.state}"), TITLE_LIMIT),
        description=_description(lang, status, job.request.prompt),
        color=int(_STATE_COLORS[job.state]),
        fields=_fields(job),
        thumbnail_url=job.request.image.url,
        footer=shorten(t(lang, "card.footer", job_id=job.id), FOOTER_LIMIT),
        cancel_button=cancel_button(job),
        video_url=job.video_url,
        notes=notes,
    )


def cancel_button(job: Job) -> CancelButton | None:
    """Enabled while the job can still be cancelled; shown disabled while it generates; gone at the end."""
    if job.state in _CANCELLABLE_STATES:
        return CancelButton(label=shorten(t(job.locale, "card.cancel"), BUTTON_LABEL_LIMIT), enabled=True)
    if job.state is JobState.IN_PROGRESS:
        label = shorten(t(job.locale, "card.cancel_disabled"), BUTTON_LABEL_LIMIT)
        return CancelButton(label=label, enabled=False)
    return None


def failure_summary(locale: str | None, reason: FailureReason | None) -> str:
    """What went wrong, in one sentence a member understands."""
    return t(locale, f"failure.{_failure_key(reason)}.what")


def format_elapsed(start: datetime | None, end: datetime) -> str:
    """``m:ss`` from ``start`` to ``end`` (minutes may exceed 59); ``0:00`` when unknown or negative."""
    seconds = 0 if start is None else max(int((end - start).total_seconds()), 0)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d}"


def usual_minutes(resolution: str, duration: int) -> tuple[int, int]:
    """The usual generation time in minutes, as a (low, high) range."""
    return _USUAL_MINUTES.get((resolution, duration), _UNKNOWN_USUAL_MINUTES)


def _status_lines(job: Job, *, now: datetime, local_position: int | None, paused: bool) -> list[str]:
    lang = job.locale
    match job.state:
        case JobState.QUEUED:
            lines = [_queued_line(lang, local_position)]
            if paused:
                lines.append(t(lang, "card.status.paused"))
            return lines
        case JobState.SUBMITTING:
            return [t(lang, "card.status.submitting")]
        case JobState.IN_QUEUE:
            position = job.remote_queue_position
            if position is None:
                return [t(lang, "card.status.in_queue")]
            return [t(lang, "card.status.in_queue_position", position=position)]
        case JobState.IN_PROGRESS:
            return _in_progress_lines(job, now)
        case JobState.COMPLETED | JobState.DELIVERED:
            elapsed = format_elapsed(job.created_at, job.finished_at or now)
            lines = [t(lang, f"card.status.{job.state}", elapsed=elapsed)]
            lines.extend(_video_link_lines(job))
            return lines
        case JobState.CANCELLED:
            return _cancelled_lines(job)
        case JobState.FAILED:
            return _failed_lines(job)


def _queued_line(lang: str | None, position: int | None) -> str:
    if position is None:
        return t(lang, "card.status.queued")
    place = shown_place(position)
    if place.exact:
        return t(lang, "card.status.queued_position", position=place.position)
    return t(lang, "card.status.queued_about", ahead=place.ahead)


def _in_progress_lines(job: Job, now: datetime) -> list[str]:
    lang = job.locale
    started = job.started_at or job.submitted_at or job.created_at
    low, high = usual_minutes(job.request.resolution, job.request.duration)
    lines = [
        t(
            lang,
            "card.status.in_progress",
            elapsed=format_elapsed(started, now),
            duration=job.request.duration,
            resolution=job.request.resolution,
            low=low,
            high=high,
        )
    ]
    if (now - started).total_seconds() > high * 60:
        lines.append(t(lang, "card.status.in_progress_long"))
    return lines


def _cancelled_lines(job: Job) -> list[str]:
    lang = job.locale
    match job.cancel_place:
        case CancelPlace.LOCAL:
            lines = [t(lang, "card.status.cancelled_local")]
        case CancelPlace.RUNCOMFY:
            lines = [t(lang, "card.status.cancelled_runcomfy")]
        case None:
            lines = [t(lang, "card.status.cancelled")]
    if job.cancelled_by is not None and job.cancelled_by != job.user_id:
        lines.append(t(lang, "card.status.cancelled_by", mention=f"<@{job.cancelled_by}>"))
    return lines


def _failed_lines(job: Job) -> list[str]:
    lang = job.locale
    reason = job.failure_reason
    key = _failure_key(reason)
    lines = [failure_summary(lang, reason)]
    if reason in (FailureReason.REJECTED_INPUT, FailureReason.GENERATION_FAILED) and job.failure_detail:
        lines.append(
            t(
                lang,
                "card.failure_detail",
                detail=escape_markdown_within(job.failure_detail.strip(), _DETAIL_LIMIT),
            )
        )
    if reason is FailureReason.DELIVERY_FAILED:
        lines.append(t(lang, f"failure.{key}.todo" if job.video_url else f"failure.{key}.todo_no_link"))
        lines.extend(_video_link_lines(job))
    else:
        lines.append(t(lang, f"failure.{key}.todo"))
    return lines


def _failure_key(reason: FailureReason | None) -> str:
    return "unknown" if reason is None else str(reason)


def _video_link_lines(job: Job) -> list[str]:
    """A link to the video when its URL is a safe one, else the URL as code; nothing when neither fits."""
    if job.video_url is None or len(job.video_url) > _LINK_IN_TEXT_LIMIT:
        return []
    link = safe_link_url(job.video_url)
    if link is not None:
        return [t(job.locale, "card.video_link", url=link)]
    shown = shown_url(job.video_url)
    return [] if shown is None else [t(job.locale, "card.video_address", url=shown)]


def _notes(job: Job) -> tuple[str, ...]:
    still_running = not job.state.is_terminal and job.state is not JobState.COMPLETED
    if still_running and last_frame_ignored(job.request.last_frame, job.request.resolution):
        return ("ℹ️ " + describe(Note(NoteKind.LAST_FRAME_IGNORED_AT_1080P), job.locale),)
    return ()


def _description(lang: str, status: str, prompt: str) -> str:
    """The status first, then as much of the prompt as the description limit leaves room for."""
    status = shorten(status, DESCRIPTION_LIMIT // 2)
    head = f"{status}\n\n{t(lang, 'card.prompt')}\n"
    return head + escape_markdown_within(prompt.strip(), DESCRIPTION_LIMIT - len(head))


def _cost_field(job: Job) -> CardField:
    """The job's cost units, counted against the server's daily budget."""
    units = cost_units(job.request.resolution, job.request.duration)
    return CardField(t(job.locale, "card.field.cost"), cost_text(job.locale, units))


def _fields(job: Job) -> tuple[CardField, ...]:
    lang = job.locale
    fields = [
        CardField(t(lang, "card.field.requested_by"), f"<@{job.user_id}>"),
        CardField(t(lang, "card.field.resolution"), job.request.resolution),
        CardField(
            t(lang, "card.field.duration"), t(lang, "card.duration_value", seconds=job.request.duration)
        ),
        _cost_field(job),
    ]
    if job.request.last_frame is not None:
        fields.append(CardField(t(lang, "card.field.last_frame"), t(lang, "card.last_frame_attached")))
    return tuple(
        CardField(shorten(f.name, FIELD_NAME_LIMIT), shorten(f.value, FIELD_VALUE_LIMIT), f.inline)
        for f in fields
    )
