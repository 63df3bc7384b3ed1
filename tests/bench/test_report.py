"""The report's figures and goals, from measured runs made up by hand."""

from __future__ import annotations

from collections import Counter

from bench.measure import Measured
from bench.report import Row, burst_rows, busy_rows, crowd_rows, render, seconds


def run(subject: str, **fields: object) -> Measured:
    measured = Measured(subject, "w", jobs=4, last_command_s=5.0)
    for name, value in fields.items():
        setattr(measured, name, value)
    return measured


def by_label(rows: list[Row]) -> dict[str, Row]:
    return {row.label: row for row in rows}


def test_burst_figures_count_unanswered_commands_and_late_videos() -> None:
    bot = run(
        "bot",
        first_answer_s=[0.01, 0.02, None, 0.05],
        shown_s=[10.0, 24.0, 26.0, None],
        cpu_s=9.0,
        api_requests=Counter(submit=4, result=36),
        edits=12,
        discord_429s=3,
    )
    poller = run(
        "poller",
        first_answer_s=[0.1, 0.2, 0.3, 0.4],
        shown_s=[7.0, 7.5, 8.0, 9.0],
        cpu_s=3.0,
        api_requests=Counter(submit=4, result=16),
        edits=8,
    )
    rows = by_label(burst_rows(bot, poller))
    answered = rows["answered within 3 s"]
    assert answered.bot == 0.75
    assert answered.verdict == "NOT met"
    assert rows["videos shown 20 s after the last command"].bot == 2
    assert rows["videos shown 20 s after the last command"].poller == 4
    assert rows["all videos shown after the last command"].poller == 4.0
    cpu = rows["bot CPU (user+sys)"]
    assert cpu.ratio == 3.0
    assert cpu.verdict == "NOT met"
    assert rows["API requests per job"].bot == 10.0
    assert rows["API requests per job"].verdict == ""  # workload 2's goal: a quick job takes one poll
    assert rows["edits per job"].poller == 2.0
    assert rows["429s served"].bot == 3


def test_busy_figures_meet_their_goals_relative_to_the_poller() -> None:
    bot = run(
        "bot", completion_to_shown_s=[1.0] * 4, shown_s=[1.0] * 4, cpu_s=1.4, api_requests=Counter(result=40)
    )
    poller = run(
        "poller",
        completion_to_shown_s=[2.0] * 4,
        shown_s=[1.0] * 4,
        cpu_s=1.0,
        api_requests=Counter(result=100),
    )
    rows = by_label(busy_rows(bot, poller))
    assert rows["API requests per job"].verdict == "met"
    assert rows["completion → video shown, p95"].verdict == "met"
    assert rows["bot CPU (user+sys)"].verdict == "met"
    slower = run("bot", completion_to_shown_s=[3.0] * 4, cpu_s=1.6, api_requests=Counter(result=46))
    rows = by_label(busy_rows(slower, poller))
    assert {
        rows[label].verdict
        for label in ("API requests per job", "completion → video shown, p95", "bot CPU (user+sys)")
    } == {"NOT met"}


def test_crowd_memory_goal_and_a_missing_poller_in_the_table() -> None:
    rows = crowd_rows(run("bot", peak_rss_bytes=260_000_000), None)
    assert rows[0].verdict == "NOT met"
    assert rows[0].ratio is None
    table = render("w3", rows, "bot", "poller")
    assert "260 MB" in table.splitlines()[2]
    assert seconds(float("nan")) == "—"
