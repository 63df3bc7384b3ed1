"""Every log line about a job carries its id as a field."""

from __future__ import annotations

import logging

from bot.log_fields import LINE_FORMAT, JobIdFilter, job_id_of


def formatted(message: str, *args: object) -> tuple[str, logging.LogRecord]:
    record = logging.LogRecord("bot.tracker", logging.WARNING, __file__, 1, message, args, None)
    JobIdFilter().filter(record)
    return logging.Formatter(LINE_FORMAT).format(record), record


def test_a_line_about_a_job_carries_its_id() -> None:
    line, record = formatted("job %s: polling failed", "1a2b3c4d")
    assert getattr(record, "job_id", None) == "1a2b3c4d"
    assert " bot.tracker job=1a2b3c4d: job 1a2b3c4d: polling failed" in line


def test_a_line_about_no_job_has_no_job_field() -> None:
    line, record = formatted("resumed %d unfinished jobs", 3)
    assert getattr(record, "job_id", "missing") is None
    assert line.endswith(" bot.tracker: resumed 3 unfinished jobs")


def test_only_a_leading_job_id_counts() -> None:
    assert job_id_of("job store open at postgresql://…") is None
    assert job_id_of("the job 1a2b3c4d is mentioned later") is None
    assert job_id_of("job 0123456789abcdef: accepted") == "0123456789abcdef"
