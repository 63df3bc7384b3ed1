"""Errors while handling one job: which may pass, and one log line per problem however often it repeats."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from bot.job_errors import RepeatedErrors, is_transient
from bot.store import StaleJobError

log = logging.getLogger("tests.job_errors")


@pytest.mark.parametrize(
    "exc",
    [
        StaleJobError("j", 1),
        OperationalError("UPDATE", {}, Exception("locked")),
        OSError("disk"),
        TimeoutError(),
    ],
)
def test_store_errors_and_lost_races_may_pass(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [KeyError("x"), ValueError("bad"), AssertionError()])
def test_anything_else_is_a_fault_in_handling_the_job(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_a_repeated_error_is_logged_once_then_its_count_when_it_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors = RepeatedErrors(log, "polling")
    caplog.set_level(logging.INFO, logger=log.name)
    assert errors.seen("j1", ValueError("bad answer"))
    for _ in range(160):
        assert not errors.seen("j1", ValueError("bad answer"))
    assert errors.count("j1") == 161
    assert errors.seen("j2", ValueError("bad answer"))  # another job is its own problem
    errors.cleared("j1")
    errors.cleared("j1")

    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "job j1: polling failed (ValueError: bad answer)" in lines[0]
    assert lines[2] == "job j1: polling failed 161 times in a row (ValueError: bad answer)"
    assert errors.count("j1") == 0


def test_a_different_error_closes_the_count_of_the_one_before(caplog: pytest.LogCaptureFixture) -> None:
    errors = RepeatedErrors(log, "polling")
    caplog.set_level(logging.INFO, logger=log.name)
    errors.seen("j1", OSError("locked"), level=logging.WARNING)
    errors.seen("j1", OSError("locked"), level=logging.WARNING)
    errors.seen("j1", KeyError("x"))
    errors.cleared("j1")  # once: nothing repeated
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert "2 times in a row (OSError: locked)" in messages[1]
    assert caplog.records[0].exc_info is None
    assert caplog.records[2].exc_info is not None
