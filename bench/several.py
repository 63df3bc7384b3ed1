"""The bot as 1 and as 3 processes on one PostgreSQL queue, same workloads, figures side by side.

    python -m bench.several --quick        # small sizes: for development
    python -m bench.several                # workloads 1 and 2 at the issue's sizes
    python -m bench.several --only 2 --postgres postgresql://postgres@127.0.0.1:5432/test

Each run gets fresh doubles (the Discord double with one shard per process) and a fresh database on the
PostgreSQL server named; the third column kills one of the three processes with SIGKILL a third of the way
through the commands. It asserts nothing: compare the figures of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import secrets
import signal
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bench.measure import EDIT_ROUTES, RUNCOMFY_TOKEN, DeliveryWatch, wait_until
from bench.procstat import ProcessUsage, usage
from bench.stats import per, percentile
from bench.subject import PROJECT_BOT, SubjectProcess
from bench.workload import Workload, burst, busy
from client.fake import FakeConfig, FakeRunComfy
from discord_double import DiscordDouble, DoubleConfig, InteractionHandle, make_image
from discord_double.state import GuildSpec

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
READY_TIMEOUT_S = 90.0
MB = 1_000_000


@dataclass
class Run:
    """Figures of one run; times in seconds from the workload's start."""

    label: str
    jobs: int
    answered_s: list[float] = field(default_factory=list)
    shown_s: list[float] = field(default_factory=list)
    api_requests: Counter[str] = field(default_factory=Counter)
    edits: int = 0
    cpu_s: float = 0.0
    peak_rss_bytes: int = 0
    submitted_twice: int = 0
    timed_out: bool = False


@asynccontextmanager
async def fresh_database(server_url: str) -> AsyncIterator[str]:
    server = make_url(server_url).set(drivername="postgresql+asyncpg")
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"animate_bench_{secrets.token_hex(6)}"
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def measure(
    workload: Workload, *, processes: int, kill_one: bool, max_active: int, timeout_s: float, postgres: str
) -> Run:
    label = f"{processes} process{'es' if processes > 1 else ''}" + (", one killed" if kill_one else "")
    run = Run(label, len(workload.commands))
    async with (
        DiscordDouble(DoubleConfig(shard_count=processes)) as discord,
        FakeRunComfy(RUNCOMFY_TOKEN, FakeConfig(timings=workload.timings, check_images=True)) as fake,
        fresh_database(postgres) as database_url,
    ):
        guilds = [discord.add_guild(f"Shard {shard}", shard=shard) for shard in range(processes)]
        with tempfile.TemporaryDirectory(prefix="animate-bench-several-") as tmp:
            bots = []
            for shard in range(processes):
                workdir = Path(tmp) / f"bot-{shard}"
                workdir.mkdir()
                env = {
                    "DISCORD_TOKEN": discord.token,
                    "DISCORD_API_BASE": discord.api_base,
                    "RUNCOMFY_API_TOKEN": RUNCOMFY_TOKEN,
                    "RUNCOMFY_API_BASE": fake.base_url,
                    "DATABASE_URL": database_url,
                    "ANIMATE_MAX_ACTIVE": str(max_active),
                    "ANIMATE_SHARD_COUNT": str(processes),
                    "ANIMATE_SHARD_IDS": str(shard),
                    "ANIMATE_INSTANCE_ID": f"bench-{shard}",
                    "LOG_LEVEL": "WARNING",
                }
                bots.append(SubjectProcess(PROJECT_BOT, env, workdir))
            for bot in bots:
                await bot.start()
            try:
                await _drive(discord, fake, bots, guilds, workload, kill_one, timeout_s, run)
            finally:
                for bot in bots:
                    await bot.stop()
    return run


async def _drive(
    discord: DiscordDouble,
    fake: FakeRunComfy,
    bots: list[SubjectProcess],
    guilds: Sequence[GuildSpec],
    workload: Workload,
    kill_one: bool,
    timeout_s: float,
    run: Run,
) -> None:
    if not await wait_until(discord, discord.bot_ready, READY_TIMEOUT_S):
        raise RuntimeError("the bot processes did not become ready:\n" + bots[0].output_tail())
    members = sorted({c.member for c in workload.commands})
    home = {m: guilds[m % len(guilds)] for m in members}  # each member's server, on one process's shard
    users = {m: discord.add_user(f"member{m}", home[m]) for m in members}
    channels = {m: next(c for c in home[m].channels if c.name == "animate") for m in members}
    image = make_image(640, 480)
    pids = [bot.pid for bot in bots]
    before = {pid: usage(pid) for pid in pids}
    started = time.monotonic()
    handles: dict[int, InteractionHandle] = {}
    killed: int | None = None
    final_usage: dict[int, ProcessUsage] = {}

    async def send(index: int) -> None:
        command = workload.commands[index]
        handles[index] = await discord.invoke_command(
            "animate",
            command.options,
            {"image": image},
            user=users[command.member],
            channel=channels[command.member],
        )

    senders = []
    for position, command in enumerate(workload.commands):
        delay = started + command.at_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if kill_one and killed is None and position >= len(workload.commands) // 3:
            killed = pids[0]
            final_usage[killed] = usage(killed)
            bots[0]._process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
        senders.append(asyncio.create_task(send(command.index)))
    await asyncio.gather(*senders)
    watch = DeliveryWatch(discord, {h.id: i for i, h in handles.items()})
    # A killed process's shard takes no new commands: count only what reached a live process.
    reachable = [i for i, h in handles.items() if h.response_type is not None or killed is None]
    done = await wait_until(
        discord, lambda: watch.update() >= len(reachable), started + timeout_s - time.monotonic()
    )
    run.timed_out = not done
    for pid in pids:
        if pid != killed:
            final_usage[pid] = usage(pid)
    watch.update()
    for index, handle in handles.items():
        record = handle.record
        if record.responded_at is not None:
            run.answered_s.append(record.responded_at - record.created_at)
        shown = watch.shown_at.get(index)
        if shown is not None:
            run.shown_s.append(shown - started)
    run.api_requests = Counter(str(r.endpoint) for r in fake.requests)
    prompts = Counter(str(job.input.get("prompt")) for job in fake.jobs.values())
    run.submitted_twice = sum(1 for n in prompts.values() if n > 1)
    run.edits = sum(1 for r in discord.requests if r.key in EDIT_ROUTES and 200 <= r.status < 300)
    run.cpu_s = sum(final_usage[pid].cpu_s - before[pid].cpu_s for pid in pids)
    run.peak_rss_bytes = sum(final_usage[pid].peak_rss_bytes for pid in pids)


def _p(values: Sequence[float], share: float) -> float:
    return percentile(values, share) if values else math.nan


def render(title: str, runs: Sequence[Run]) -> str:
    rows: list[tuple[str, list[str]]] = [
        ("acknowledged (of commands)", [f"{len(r.answered_s)}/{r.jobs}" for r in runs]),
        ("acknowledgement p50", [f"{_p(r.answered_s, 0.5) * 1000:.0f} ms" for r in runs]),
        ("acknowledgement p95", [f"{_p(r.answered_s, 0.95) * 1000:.0f} ms" for r in runs]),
        ("videos shown", [f"{len(r.shown_s)}" for r in runs]),
        ("delivery p50 (from start)", [f"{_p(r.shown_s, 0.5):.1f} s" for r in runs]),
        ("delivery p95 (from start)", [f"{_p(r.shown_s, 0.95):.1f} s" for r in runs]),
        ("API requests per job", [f"{per(sum(r.api_requests.values()), r.jobs):.1f}" for r in runs]),
        ("edits per job", [f"{per(r.edits, r.jobs):.1f}" for r in runs]),
        ("jobs submitted twice", [f"{r.submitted_twice}" for r in runs]),
        ("CPU (all processes)", [f"{r.cpu_s:.1f} s" for r in runs]),
        ("peak memory (sum)", [f"{r.peak_rss_bytes / MB:.0f} MB" for r in runs]),
        ("timed out", ["yes" if r.timed_out else "no" for r in runs]),
    ]
    width = max(len(label) for label, _ in rows)
    columns = [max(len(r.label), *(len(values[i]) for _, values in rows)) for i, r in enumerate(runs)]
    lines = [title, "  ".join([" " * width, *(r.label.rjust(w) for r, w in zip(runs, columns, strict=True))])]
    for label, values in rows:
        lines.append(
            "  ".join([label.ljust(width), *(v.rjust(w) for v, w in zip(values, columns, strict=True))])
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.several", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short jobs")
    parser.add_argument("--only", default="1,2", help="which workloads, e.g. 1")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-active", type=int, default=50, help="ANIMATE_MAX_ACTIVE, the global limit")
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help="a PostgreSQL server to create databases on"
    )
    parser.add_argument("--timeout-s", type=float, default=None, help="give up on a run after this long")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> None:
    quick = bool(args.quick)
    plans = {
        1: ("workload 1: a burst of quick jobs", burst(40 if quick else 1000, seed=args.seed)),
        2: (
            "workload 2: realistic jobs",
            busy(
                30 if quick else 300,
                spread_s=3.0 if quick else 10.0,
                seed=args.seed,
                scale=0.15 if quick else 1,
            ),
        ),
    }
    timeout_s = args.timeout_s or (90.0 if quick else 400.0)
    for number in sorted(int(part) for part in str(args.only).split(",") if part.strip()):
        title, workload = plans[number]
        runs = [
            await measure(
                workload,
                processes=processes,
                kill_one=kill_one,
                max_active=args.max_active,
                timeout_s=timeout_s,
                postgres=args.postgres,
            )
            for processes, kill_one in ((1, False), (3, False), (3, True))
        ]
        print(render(f"{title} ({len(workload.commands)} commands, PostgreSQL)", runs), flush=True)
        print(flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main()
