"""The busy-server benchmark (issue 12): today's bot beside a plain 2 s poller, same workloads, one run.

    python -m bench --quick          # small sizes, under about a minute: for development
    python -m bench                  # the issue's sizes (1,000 / 300 / 5,000 jobs)
    python -m bench --only 2 --seed 7

Each workload runs each subject as its own process against fresh local doubles of Discord and RunComfy,
one subject after the other, and prints every figure for both with their ratio and the goal. It asserts
nothing: compare the figures of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Measured, Settings, measure
from bench.report import Row, burst_rows, busy_rows, crowd_rows, render
from bench.subject import PLAIN_POLLER, PROJECT_BOT
from bench.workload import Workload, burst, busy, crowd

MAX_ACTIVE_LIMIT = 1000  # the most ANIMATE_MAX_ACTIVE allows
CROWD_HOLD_S = 3600.0  # workload 3's jobs stay queued or running at RunComfy this long (and longer)


@dataclass(frozen=True, slots=True)
class Plan:
    """One workload: how it is built, run, reported, and whether the poller runs it too."""

    number: int
    title: str
    workload: Workload
    settings: Settings
    rows: Callable[[Measured, Measured | None], list[Row]]
    with_poller: bool = True


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and short jobs (under about a minute)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the workloads and the job durations")
    parser.add_argument("--only", default="1,2,3", help="which workloads to run, e.g. 1,3")
    parser.add_argument("--burst-jobs", type=int, help="workload 1: /animate commands (1000; quick: 40)")
    parser.add_argument(
        "--burst-spread-s", type=float, default=5.0, help="workload 1: seconds they arrive in"
    )
    parser.add_argument("--busy-jobs", type=int, help="workload 2: jobs (300; quick: 30)")
    parser.add_argument(
        "--busy-spread-s", type=float, help="workload 2: seconds they arrive in (10; quick: 3)"
    )
    parser.add_argument(
        "--busy-scale", type=float, help="workload 2: factor on queue 0–20 s, run 20–60 s (1; quick: 0.15)"
    )
    parser.add_argument("--crowd-jobs", type=int, help="workload 3: active jobs (5000; quick: 150)")
    parser.add_argument(
        "--crowd-spread-s", type=float, help="workload 3: seconds they arrive in (50; quick: 3)"
    )
    parser.add_argument(
        "--crowd-hold-s",
        type=float,
        help="workload 3: seconds to hold once all are at RunComfy (10; quick: 3)",
    )
    parser.add_argument(
        "--crowd-poller", action="store_true", help="workload 3: measure the poller's memory too"
    )
    parser.add_argument(
        "--max-active", type=int, help=f"ANIMATE_MAX_ACTIVE (default: the jobs, at most {MAX_ACTIVE_LIMIT})"
    )
    parser.add_argument("--timeout-s", type=float, help="give up on a workload after this long (per subject)")
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of both subjects")
    parser.add_argument(
        "--discord-global-limit", type=int, default=50, help="the double's global requests/s (0: none)"
    )
    return parser.parse_args(argv)


def _pick(value: float | None, full: float, quick: float, is_quick: bool) -> float:
    if value is not None:
        return value
    return quick if is_quick else full


def plans(args: argparse.Namespace) -> list[Plan]:
    q = bool(args.quick)
    global_limit = args.discord_global_limit or None

    def settings(jobs: int, timeout_s: float, until: str = "shown", hold_s: float = 0.0) -> Settings:
        max_active = args.max_active or max(1, min(jobs, MAX_ACTIVE_LIMIT))
        return Settings(
            timeout_s=args.timeout_s or timeout_s,
            max_active=max_active,
            log_level=args.log_level,
            discord_global_limit=global_limit,
            until=until,
            hold_s=hold_s,
        )

    burst_jobs = int(_pick(args.burst_jobs, 1000, 40, q))
    busy_jobs = int(_pick(args.busy_jobs, 300, 30, q))
    busy_scale = _pick(args.busy_scale, 1.0, 0.15, q)
    busy_spread = _pick(args.busy_spread_s, 10.0, 3.0, q)
    crowd_jobs = int(_pick(args.crowd_jobs, 5000, 150, q))
    crowd_spread = _pick(args.crowd_spread_s, 50.0, 3.0, q)
    crowd_hold = _pick(args.crowd_hold_s, 10.0, 3.0, q)
    all_plans = [
        Plan(
            1,
            f"workload 1: {burst_jobs} /animate in {args.burst_spread_s:g} s, one channel, API ~1 s per job",
            burst(burst_jobs, spread_s=args.burst_spread_s, seed=args.seed),
            settings(burst_jobs, 60.0 if q else 240.0),
            burst_rows,
        ),
        Plan(
            2,
            f"workload 2: {busy_jobs} jobs in {busy_spread:g} s, queue 0–{20 * busy_scale:g} s, "
            f"run {20 * busy_scale:g}–{60 * busy_scale:g} s",
            busy(busy_jobs, spread_s=busy_spread, seed=args.seed, scale=busy_scale),
            settings(busy_jobs, 60.0 if q else 400.0),
            busy_rows,
        ),
        Plan(
            3,
            f"workload 3: {crowd_jobs} active jobs (arriving in {crowd_spread:g} s, held {crowd_hold:g} s)",
            crowd(crowd_jobs, spread_s=crowd_spread, seed=args.seed, hold_s=CROWD_HOLD_S),
            settings(crowd_jobs, 60.0 if q else 300.0, until="submitted", hold_s=crowd_hold),
            crowd_rows,
            with_poller=bool(args.crowd_poller),
        ),
    ]
    wanted = {int(part) for part in str(args.only).split(",") if part.strip()}
    return [plan for plan in all_plans if plan.number in wanted]


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {system}"


def footnotes(run: Measured) -> list[str]:
    notes = []
    if run.timed_out:
        notes.append(
            f"  {run.subject}: gave up after {run.wall_s:.0f} s (--timeout-s) before the end condition"
        )
    requests = ", ".join(f"{name} {n}" for name, n in sorted(run.api_requests.items()))
    notes.append(f"  {run.subject}: API requests by endpoint: {requests or 'none'}; ran {run.wall_s:.0f} s")
    if run.discord_429_routes:
        routes = ", ".join(f"{route} {n}" for route, n in run.discord_429_routes.most_common())
        notes.append(f"  {run.subject}: 429s by route: {routes}")
    return notes


async def run(args: argparse.Namespace) -> None:
    print(f"python -m bench {shlex.join(sys.argv[1:])}".rstrip())
    print(f"machine: {machine()}")
    print(f"seed {args.seed}; both subjects get the same commands and the same job durations\n")
    for plan in plans(args):
        print(f"running workload {plan.number} ({plan.workload.name}) …", flush=True)
        bot = await measure(PROJECT_BOT, plan.workload, plan.settings)
        poller = await measure(PLAIN_POLLER, plan.workload, plan.settings) if plan.with_poller else None
        title = f"{plan.title}  (ANIMATE_MAX_ACTIVE={plan.settings.max_active})"
        print(render(title, plan.rows(bot, poller), PROJECT_BOT.name, PLAIN_POLLER.name))
        for measured in (bot, poller):
            if measured is not None:
                print("\n".join(footnotes(measured)))
        print(flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
