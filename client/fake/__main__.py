"""Run the fake RunComfy API alone.

    python -m client.fake --port 8188 [--token T] [--queue-s X] [--run-s Y]

It prints its base URL (for ``RUNCOMFY_API_BASE``) and serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

from client.fake.server import FakeConfig, FakeRunComfy

DEFAULT_TOKEN = "fake-token"  # noqa: S105 (the fake's demo token, not a secret)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    defaults = FakeConfig()
    parser = argparse.ArgumentParser(prog="python -m client.fake", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8188, help="0 picks a free port")
    parser.add_argument(
        "--token",
        default=None,
        help=f"the one valid token (default: $RUNCOMFY_API_TOKEN, else {DEFAULT_TOKEN!r})",
    )
    parser.add_argument(
        "--queue-s", type=float, default=defaults.queue_s, help="seconds a job waits in the queue"
    )
    parser.add_argument("--run-s", type=float, default=defaults.run_s, help="seconds a job runs")
    parser.add_argument(
        "--max-running", type=int, default=None, help="jobs running at once (default: no limit)"
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    token = args.token or os.environ.get("RUNCOMFY_API_TOKEN") or DEFAULT_TOKEN
    config = FakeConfig(queue_s=args.queue_s, run_s=args.run_s, max_running=args.max_running)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    fake = FakeRunComfy(token, config)
    base_url = await fake.start(args.host, args.port, access_log=True)
    print(base_url, flush=True)
    try:
        await stopping.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> int:
    asyncio.run(_serve(_arguments(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
