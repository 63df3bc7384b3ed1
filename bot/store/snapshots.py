"""Reading many jobs without rebuilding the ones already read: a job's id and version name one content.

Every write of a job raises its version and no job row is ever deleted, so a Job read at some version is
that version's row for good. A read of many jobs (the queue, read at each change of it) first selects the
ids and versions it matches, then the rows of only those this process has not read at that version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, Row, Select, bindparam, select

from bot.jobs import Job
from bot.store.tables import jobs, row_to_job

KEPT_MAX: Final = 8192
"""Jobs remembered at most; past it the memory starts again empty (the next reads rebuild what they need).
Each read of the whole queue also forgets the jobs no longer in it."""
ROWS_PER_READ: Final = 500
"""Ids per ``IN (...)`` of the rows read in full, well under any database's limit of bound parameters."""

_Key = TypeVar("_Key", bound=Sequence[Any])

_JOBS_BY_ID: Final = select(jobs).where(jobs.c.id.in_(bindparam("job_ids", expanding=True)))


class JobSnapshots:
    """The latest version of each job this process read, by id."""

    def __init__(self, kept_max: int = KEPT_MAX) -> None:
        self._kept_max = kept_max
        self._jobs: dict[str, Job] = {}

    def __len__(self) -> int:
        return len(self._jobs)

    def at(self, job_id: str, version: int) -> Job | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.version == version else None

    def retain(self, job_ids: Iterable[str]) -> None:
        """Forget every job but those of ``job_ids``: the whole of what the memory is for (the queue)."""
        kept = self._jobs
        self._jobs = {job_id: kept[job_id] for job_id in job_ids if job_id in kept}

    def keep(self, found: Iterable[Job]) -> None:
        for job in found:
            if len(self._jobs) >= self._kept_max and job.id not in self._jobs:
                self._jobs.clear()
            kept = self._jobs.get(job.id)
            if kept is None or kept.version < job.version:
                self._jobs[job.id] = job


def keys_of(statement: Select[Any]) -> Select[Any]:
    """``statement`` (a select of whole job rows) selecting only each job's id and version."""
    return statement.with_only_columns(jobs.c.id, jobs.c.version)


def read_known(
    connection: Connection, keys: Select[Any], parameters: Any, known: JobSnapshots, *, whole: bool = False
) -> list[tuple[Job, Row[Any]]]:
    """The jobs ``keys`` (selecting ``id`` and ``version`` first) matches, in its order, each with its key
    row. A job written between the two reads comes at its newer version. ``whole``: ``keys`` selects
    every job worth remembering (the whole queue), so the others are forgotten."""
    found: Sequence[Row[Any]] = connection.execute(keys, parameters).all()
    return known_jobs(found, lambda job_ids: jobs_by_id(connection, job_ids), known, whole=whole)


def known_jobs(
    found: Sequence[_Key], read: Callable[[list[str]], list[Job]], known: JobSnapshots, *, whole: bool = False
) -> list[tuple[Job, _Key]]:
    """:func:`read_known` once its key rows (each ``(id, version, ...)``) are ``found``: ``read`` builds
    the jobs of the ids this process has not read at that version."""
    read_now: dict[str, Job] = {}
    missing: list[str] = []
    for row in found:
        job = known.at(row[0], row[1])
        if job is None:
            missing.append(row[0])
        else:
            read_now[row[0]] = job
    for start in range(0, len(missing), ROWS_PER_READ):
        fresh = read(missing[start : start + ROWS_PER_READ])
        read_now.update((job.id, job) for job in fresh)
        known.keep(fresh)
    if whole:
        known.retain(read_now)
    return [(read_now[row[0]], row) for row in found if row[0] in read_now]


def jobs_by_id(connection: Connection, job_ids: list[str]) -> list[Job]:
    rows: Any = connection.execute(_JOBS_BY_ID, {"job_ids": job_ids})
    return [row_to_job(row) for row in rows.mappings()]
