"""What an error while handling one job means, and logging it once however often it repeats.

An error of the store (a lock, a full disk, a lost connection) or a write that lost a race may pass, so the
job is tried again later. Anything else is a fault in handling that job: the job fails with a plain reason
rather than being retried for ever, and no loop stops for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from bot.store import StaleJobError

_TRANSIENT: tuple[type[BaseException], ...] = (StaleJobError, SQLAlchemyError, OSError, TimeoutError)


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same job again later may succeed."""
    return isinstance(exc, _TRANSIENT)


@dataclass
class _Seen:
    signature: str
    count: int = 1


class RepeatedErrors:
    """Logs an error the first time it happens for a job, counts its repeats silently, and logs the count
    once the error stops or changes: one line per problem, not one per poll."""

    def __init__(self, logger: logging.Logger, doing: str) -> None:
        """``doing`` names the work in the log line, e.g. ``"polling"``."""
        self._log = logger
        self._doing = doing
        self._seen: dict[str, _Seen] = {}

    def seen(self, job_id: str, exc: BaseException, *, level: int = logging.ERROR) -> bool:
        """Note ``exc`` for ``job_id``; returns whether it was new (and so logged now)."""
        signature = f"{type(exc).__name__}: {exc}"
        earlier = self._seen.get(job_id)
        if earlier is not None and earlier.signature == signature:
            earlier.count += 1
            return False
        self.cleared(job_id)
        self._seen[job_id] = _Seen(signature)
        self._log.log(
            level,
            "job %s: %s failed (%s); further repeats are counted, not logged",
            job_id,
            self._doing,
            signature,
            exc_info=exc if level >= logging.ERROR else None,
        )
        return True

    def count(self, job_id: str) -> int:
        """How many times the current error of ``job_id`` happened in a row (0: none)."""
        earlier = self._seen.get(job_id)
        return 0 if earlier is None else earlier.count

    def cleared(self, job_id: str) -> None:
        """The job's error stopped (or the job ended): log how often it happened, if more than once."""
        earlier = self._seen.pop(job_id, None)
        if earlier is not None and earlier.count > 1:
            self._log.warning(
                "job %s: %s failed %d times in a row (%s)",
                job_id,
                self._doing,
                earlier.count,
                earlier.signature,
            )
