"""What ``/queue`` shows: this server's unfinished jobs in order, paged, and the viewer's own usage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.jobs import Job, JobState
from bot.moderation.admission import DAY, SpentJob
from bot.moderation.server_settings import ServerSettings
from bot.moderation.turn_order import Member, fair_order

PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class QueueRow:
    position: int | None
    """The place in the waiting line (1 = next); ``None`` for a job already sent to RunComfy."""
    user_id: int
    state: JobState
    age: timedelta
    job_id: str
    own: bool
    """The job is the viewer's."""


@dataclass(frozen=True, slots=True)
class QueuePage:
    number: int
    """1-based."""
    total: int
    rows: tuple[QueueRow, ...]


def queue_rows(
    jobs: Iterable[Job],
    viewer_id: int,
    now: datetime,
    last_served: Mapping[Member, datetime] | None = None,
    front_requests: Mapping[str, datetime] | None = None,
) -> list[QueueRow]:
    """One server's unfinished jobs: those already sent (oldest submission first), then the waiting line
    in :func:`~bot.moderation.turn_order.fair_order`. Ended jobs are left out."""
    unfinished = [job for job in jobs if not job.state.is_terminal]
    waiting = fair_order((j for j in unfinished if j.state is JobState.QUEUED), last_served, front_requests)
    sent = sorted(
        (j for j in unfinished if j.state is not JobState.QUEUED),
        key=lambda j: (j.submitted_at or j.created_at, j.id),
    )

    def row(job: Job, position: int | None) -> QueueRow:
        age = max(now - job.created_at, timedelta(0))
        return QueueRow(position, job.user_id, job.state, age, job.id, job.user_id == viewer_id)

    return [row(j, None) for j in sent] + [row(j, place) for place, j in enumerate(waiting, start=1)]


def paginate(rows: Sequence[QueueRow], page: int, page_size: int = PAGE_SIZE) -> QueuePage:
    """Page ``page`` (1-based, clamped to the pages that exist) of ``rows``; an empty queue is one empty
    page."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    total = max(1, -(-len(rows) // page_size))
    number = min(max(page, 1), total)
    start = (number - 1) * page_size
    return QueuePage(number, total, tuple(rows[start : start + page_size]))


def page_of_own_job(rows: Sequence[QueueRow], page_size: int = PAGE_SIZE) -> int:
    """The page that shows the viewer's first job (1 when they have none), to open ``/queue`` there."""
    for index, queue_row in enumerate(rows):
        if queue_row.own:
            return index // page_size + 1
    return 1


@dataclass(frozen=True, slots=True)
class MemberUsage:
    """A member's standing against the server's limits (``None`` limits: none set)."""

    active: int
    active_limit: int | None
    today: int
    daily_limit: int | None
    budget_left: int | None
    cooldown_left: timedelta | None
    """Time until the member may submit again; ``None`` when they may now."""


def member_usage(
    settings: ServerSettings,
    now: datetime,
    unfinished_jobs: int,
    member_jobs_last_day: Sequence[datetime],
    last_submission_at: datetime | None,
    server_spent_last_day: Sequence[SpentJob],
) -> MemberUsage:
    """The same facts admission reads, summarised for the member (see :mod:`bot.moderation.admission`)."""
    today = sum(1 for t in member_jobs_last_day if t > now - DAY)
    budget_left = None
    if settings.daily_budget is not None:
        spent = sum(s.units for s in server_spent_last_day if s.at > now - DAY)
        budget_left = max(settings.daily_budget - spent, 0)
    cooldown_left = None
    if settings.cooldown_s and last_submission_at is not None:
        left = last_submission_at + timedelta(seconds=settings.cooldown_s) - now
        cooldown_left = left if left > timedelta(0) else None
    return MemberUsage(
        unfinished_jobs, settings.member_active, today, settings.member_daily, budget_left, cooldown_left
    )
