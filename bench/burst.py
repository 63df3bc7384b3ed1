"""Benchmark: a burst of /animate commands through the real bot, the Discord double and the RunComfy double.

Prints how fast every interaction got its first answer (Discord allows 3 s), how long the whole burst took
to be delivered, and what it cost in API calls and message edits per job. It asserts nothing: run it before
and after a change and compare the figures.

    python -m bench.burst --jobs 40 --max-active 8
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from client.fake import FakeConfig, FakeRunComfy
from discord_double import DiscordDouble, DoubleConfig, StoredMessage, make_image
from discord_double.process import BotProcess

RUNCOMFY_TOKEN = "bench-runcomfy-token"
DEFERRED_MESSAGE = 5


def delivered(message: StoredMessage | None) -> bool:
    return message is not None and any(a["filename"].endswith(".mp4") for a in message.attachments)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(jobs: int, max_active: int, queue_s: float, run_s: float, timeout_s: float) -> None:
    fake_config = FakeConfig(queue_s=queue_s, run_s=run_s, check_images=True)
    async with DiscordDouble(DoubleConfig()) as discord, FakeRunComfy(RUNCOMFY_TOKEN, fake_config) as fake:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            env = {
                "DISCORD_TOKEN": discord.token,
                "DISCORD_API_BASE": discord.api_base,
                "RUNCOMFY_API_TOKEN": RUNCOMFY_TOKEN,
                "RUNCOMFY_API_BASE": fake.base_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}",
                "ANIMATE_MAX_ACTIVE": str(max_active),
                "ANIMATE_POLL_MIN_S": "0.2",
                "ANIMATE_POLL_MAX_S": "2",
                "ANIMATE_EDIT_INTERVAL_S": "1",
                "LOG_LEVEL": "WARNING",
            }
            bot = BotProcess(env, workdir)
            await bot.start()
            try:
                await discord.wait_for(lambda: discord.bot_ready(), 60)
                users = [discord.add_user(f"member{i}") for i in range(jobs)]
                image = make_image(640, 480)
                started = time.monotonic()
                handles = await asyncio.gather(
                    *(
                        discord.invoke_command(
                            "animate", {"prompt": f"scene {i}"}, {"image": image}, user=user
                        )
                        for i, user in enumerate(users)
                    )
                )
                await discord.wait_for(lambda: all(h.response_type is not None for h in handles), 30)
                acks = [(h.record.responded_at or 0) - h.record.created_at for h in handles]
                await discord.wait_for(lambda: all(delivered(h.original) for h in handles), timeout_s)
                elapsed = time.monotonic() - started
            finally:
                try:
                    await bot.terminate()
                except TimeoutError:
                    print(bot.output()[-3000:])
                    raise
        edits = [len(h.original.history) if h.original else 0 for h in handles]
        polls = len(fake.requests_to("result")) + len(fake.requests_to("status"))
        print(f"jobs                      {jobs} (max {max_active} at RunComfy at once)")
        print(
            f"first answer (s)          p50 {statistics.median(acks):.3f}  p95 {percentile(acks, 0.95):.3f}  "
            f"max {max(acks):.3f}  (Discord allows 3)"
        )
        print(f"all delivered after (s)   {elapsed:.1f}")
        print(f"submits                   {len(fake.requests_to('submit'))}")
        print(f"status polls per job      {polls / jobs:.1f}")
        print(f"edits per reply           mean {statistics.mean(edits):.1f}  max {max(edits)}")
        print(f"Discord 429 answers       {sum(1 for r in discord.requests if r.status == 429)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--max-active", type=int, default=8)
    parser.add_argument("--queue-s", type=float, default=0.5, help="seconds each job waits at the fake API")
    parser.add_argument("--run-s", type=float, default=2.0, help="seconds each job generates at the fake API")
    parser.add_argument("--timeout-s", type=float, default=300.0)
    args = parser.parse_args()
    asyncio.run(run(args.jobs, args.max_active, args.queue_s, args.run_s, args.timeout_s))


if __name__ == "__main__":
    main()
