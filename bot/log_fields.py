"""The job id as a field of every log line about a job: ``... bot.tracker job=1a2b3c4d: job 1a2b3c4d: ...``.

Lines about a job start their message with ``job <id>:``; the filter lifts that id into the record
(``record.job_id``), so a log pipeline can select one job's lines, and the line format shows it as
``job=<id>`` after the logger's name."""

from __future__ import annotations

import logging
import re

_JOB_PREFIX = re.compile(r"^job ([0-9a-f]{8,32})\b")
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s%(job_field)s: %(message)s"


def job_id_of(message: str) -> str | None:
    match = _JOB_PREFIX.match(message)
    return match.group(1) if match else None


class JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        job_id = getattr(record, "job_id", None) or job_id_of(record.getMessage())
        record.job_id = job_id
        record.job_field = f" job={job_id}" if job_id else ""
        return True
