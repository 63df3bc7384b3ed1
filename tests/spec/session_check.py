"""The spec check of a test session: collect every answer of every Discord double, then validate them all
against Discord's OpenAPI spec when the session ends; a non-conforming answer fails the run."""

from __future__ import annotations

import pytest

from discord_double import recorder
from tests.spec.allowlist import DISCORD
from tests.spec.openapi import OpenApiSpec, Report, check, missing_spec_reason, report_lines, spec_path

ANSWERS = pytest.StashKey[recorder.AnswerLog]()
OUTCOME = pytest.StashKey[tuple[Report | None, str]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[ANSWERS] = recorder.start_collecting()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    log = session.config.stash.get(ANSWERS, None)
    if log is None:
        return
    recorder.stop_collecting(log)
    if not log.answers:
        return
    path = spec_path()
    if path is None:
        session.config.stash[OUTCOME] = (None, f"Discord spec check skipped: {missing_spec_reason()}")
        return
    report = check(OpenApiSpec.load(path), log.answers, DISCORD)
    session.config.stash[OUTCOME] = (report, f"{report.summary()} (spec: {path})")
    if report.failing and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    outcome = terminalreporter.config.stash.get(OUTCOME, None)
    if outcome is None:
        return
    report, headline = outcome
    if report is not None and report.failing:
        terminalreporter.section("Discord double answers that break Discord's OpenAPI spec", red=True)
        for line in report_lines(report):
            terminalreporter.write_line(line)
    terminalreporter.write_line(headline)
