"""The counts admission and ``/queue`` need, read from one server's jobs by the same rules everywhere.

A job counts from the moment it was created (queued), and stops counting if it fails or is cancelled
before generation starts (:func:`~bot.moderation.admission.counts_against_quota`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.jobs import Job, JobState
from bot.moderation.admission import DAY, SpentJob, counts_against_quota
from bot.moderation.cost import cost_units


@dataclass(frozen=True, slots=True)
class JobHistory:
    """A member's and their server's standing, as :class:`~bot.moderation.admission.AdmissionFacts` and
    :func:`~bot.moderation.queue_listing.member_usage` take it."""

    unfinished_jobs: int
    member_jobs_last_day: tuple[datetime, ...]
    last_submission_at: datetime | None
    """The member's latest counted job: a failed submission starts no cooldown."""
    queue_length: int
    server_spent_last_day: tuple[SpentJob, ...]


def job_history(server_jobs: Iterable[Job], user_id: int, now: datetime) -> JobHistory:
    """``user_id``'s standing among ``server_jobs`` (all of one server's jobs of at least the last 24 hours
    and every unfinished one)."""
    unfinished = 0
    queued = 0
    mine: list[datetime] = []
    spent: list[SpentJob] = []
    last: datetime | None = None
    for job in server_jobs:
        if job.state is JobState.QUEUED:
            queued += 1
        own = job.user_id == user_id
        if own and not job.state.is_terminal:
            unfinished += 1
        if not counts_against_quota(job):
            continue
        if own:
            last = job.created_at if last is None else max(last, job.created_at)
        if job.created_at > now - DAY:
            spent.append(SpentJob(job.created_at, cost_units(job.request.resolution, job.request.duration)))
            if own:
                mine.append(job.created_at)
    return JobHistory(unfinished, tuple(sorted(mine)), last, queued, tuple(sorted(spent, key=lambda s: s.at)))
