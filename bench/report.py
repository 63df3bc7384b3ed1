"""Turn measured runs into the issue's table: each figure for both subjects, their ratio and the goal."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from bench.measure import Measured
from bench.stats import per, percentile, ratio, share_within

MB = 1_000_000
SHOWN_WITHIN_S = 20.0
ANSWER_DEADLINE_S = 3.0


@dataclass(frozen=True, slots=True)
class Row:
    """One figure: both subjects' values (``None`` when not measured), how to print them, and the goal."""

    label: str
    bot: float | None
    poller: float | None
    unit: Callable[[float], str]
    goal: str
    met: Callable[[float, float | None], bool] | None = None

    @property
    def ratio(self) -> float | None:
        if self.bot is None or self.poller is None:
            return None
        return ratio(self.bot, self.poller)

    @property
    def verdict(self) -> str:
        if self.met is None or self.bot is None or math.isnan(self.bot):
            return ""
        return "met" if self.met(self.bot, self.poller) else "NOT met"


def seconds(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.1f} s"


def millis(value: float) -> str:
    return "—" if math.isnan(value) else f"{value * 1000:.0f} ms"


def percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{value * 100:.1f} %"


def number(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.1f}"


def count(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.0f}"


def megabytes(value: float) -> str:
    return "—" if math.isnan(value) else f"{value / MB:.0f} MB"


def _on(run: Measured | None, figure: Callable[[Measured], float]) -> float | None:
    return None if run is None else figure(run)


def _of(jobs: int) -> Callable[[float], str]:
    return lambda value: f"{value:.0f} of {jobs}"


def _shown(values: list[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def _last_shown(run: Measured) -> float:
    shown = _shown(run.shown_s)
    return max(shown) - run.last_command_s if len(shown) == run.jobs and shown else math.nan


def _within_ratio(limit: float) -> Callable[[float, float | None], bool]:
    return lambda bot, poller: poller is not None and bot <= limit * poller


def _cost_rows(bot: Measured, poller: Measured | None, *, requests_goal: bool) -> list[Row]:
    """CPU, API requests, edits and 429s; the requests goal is workload 2's (in workload 1 a job takes one
    poll, the least there is)."""
    return [
        Row(
            "bot CPU (user+sys)",
            bot.cpu_s,
            _on(poller, lambda r: r.cpu_s),
            seconds,
            "≤ 1.5× the poller's",
            _within_ratio(1.5),
        ),
        Row(
            "API requests per job",
            per(sum(bot.api_requests.values()), bot.jobs),
            _on(poller, lambda r: per(sum(r.api_requests.values()), r.jobs)),
            number,
            "≤ 0.45× the poller's" if requests_goal else "",
            _within_ratio(0.45) if requests_goal else None,
        ),
        Row(
            "edits per job", per(bot.edits, bot.jobs), _on(poller, lambda r: per(r.edits, r.jobs)), number, ""
        ),
        Row("429s served", bot.discord_429s, _on(poller, lambda r: r.discord_429s), count, ""),
    ]


def burst_rows(bot: Measured, poller: Measured | None) -> list[Row]:
    """Workload 1: first answers, videos out soon after the burst, CPU."""

    def shown_soon(run: Measured) -> float:
        return sum(1 for v in run.shown_s if v is not None and v <= run.last_command_s + SHOWN_WITHIN_S)

    def answer_p99(run: Measured) -> float:
        answered = _shown(run.first_answer_s)
        return percentile(answered, 0.99) if len(answered) == run.jobs else math.inf

    rows = [
        Row(
            "answered within 3 s",
            share_within(bot.first_answer_s, ANSWER_DEADLINE_S),
            _on(poller, lambda r: share_within(r.first_answer_s, ANSWER_DEADLINE_S)),
            percent,
            "100 %",
            lambda b, _p: b >= 1.0,
        ),
        Row(
            "first answer p99",
            answer_p99(bot),
            _on(poller, answer_p99),
            millis,
            "< 150 ms",
            lambda b, _p: b < 0.15,
        ),
        Row(
            f"videos shown {SHOWN_WITHIN_S:.0f} s after the last command",
            shown_soon(bot),
            _on(poller, shown_soon),
            _of(bot.jobs),
            f"{bot.jobs}",
            lambda b, _p: b >= bot.jobs,
        ),
        Row(
            "all videos shown after the last command", _last_shown(bot), _on(poller, _last_shown), seconds, ""
        ),
    ]
    return [*rows, *_cost_rows(bot, poller, requests_goal=False)]


def busy_rows(bot: Measured, poller: Measured | None) -> list[Row]:
    """Workload 2: requests per job, completion → video shown, CPU."""

    def lag_p95(run: Measured) -> float:
        return percentile(_shown(run.completion_to_shown_s), 0.95)

    def shown(run: Measured) -> float:
        return len(_shown(run.shown_s))

    cpu, requests, *rest = _cost_rows(bot, poller, requests_goal=True)
    return [
        requests,
        Row(
            "completion → video shown, p95",
            lag_p95(bot),
            _on(poller, lag_p95),
            seconds,
            "≤ the poller's",
            _within_ratio(1.0),
        ),
        Row(
            "videos shown",
            shown(bot),
            _on(poller, shown),
            _of(bot.jobs),
            f"{bot.jobs}",
            lambda b, _p: b >= bot.jobs,
        ),
        cpu,
        *rest,
    ]


def crowd_rows(bot: Measured, poller: Measured | None) -> list[Row]:
    """Workload 3: peak memory with many active jobs."""

    def submitted(run: Measured) -> float:
        return run.api_requests.get("submit", 0)

    return [
        Row(
            "peak memory (VmHWM)",
            bot.peak_rss_bytes,
            _on(poller, lambda r: r.peak_rss_bytes),
            megabytes,
            "< 250 MB",
            lambda b, _p: b < 250 * MB,
        ),
        Row("jobs submitted to RunComfy", submitted(bot), _on(poller, submitted), _of(bot.jobs), ""),
        Row(
            "answered within 3 s",
            share_within(bot.first_answer_s, ANSWER_DEADLINE_S),
            _on(poller, lambda r: share_within(r.first_answer_s, ANSWER_DEADLINE_S)),
            percent,
            "",
        ),
    ]


def render(title: str, rows: list[Row], bot_name: str, poller_name: str) -> str:
    """A plain-text table of ``rows`` under ``title``."""
    header = ("figure", bot_name, poller_name, "ratio", "goal", "")
    lines = [header]
    for row in rows:
        ratio_value = row.ratio
        lines.append(
            (
                row.label,
                "—" if row.bot is None else row.unit(row.bot),
                "—" if row.poller is None else row.unit(row.poller),
                "" if ratio_value is None or math.isnan(ratio_value) else f"{ratio_value:.2f}×",
                row.goal,
                row.verdict,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    body = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    return "\n".join([title, *body])
