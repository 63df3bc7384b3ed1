"""What an earlier process left half done, resolved when the bot starts."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.cancellation import Cancellation
from bot.jobs import FailureReason, Job, JobState
from bot.store import JobStore
from bot.transitions import JobWriter

log = logging.getLogger(__name__)


def _interrupted(job: Job, now: datetime) -> Job | None:
    """A job found ``submitting`` died with its POST in flight: it may have been charged, so it is never
    sent again."""
    if job.state is not JobState.SUBMITTING:
        return None
    return job.failed(FailureReason.SUBMISSION_INTERRUPTED, "process stopped during submission", at=now)


async def recover(store: JobStore, writer: JobWriter, cancellation: Cancellation) -> list[Job]:
    """Fail the jobs whose POST was in flight (returned) and keep the cancels that were promised."""
    resolved = []
    for job in await store.find_by_state([JobState.SUBMITTING]):
        written = await writer.apply(job.id, _interrupted)
        if written.after is not None:
            log.warning("job %s: the process stopped while submitting; not resent", job.id)
            resolved.append(written.after)
    for job in await store.find_by_state([JobState.QUEUED, JobState.IN_QUEUE]):
        if job.cancel_requested_by is not None:
            cancellation.keep_promise_soon(job.id, job.cancel_requested_by)
    return resolved
