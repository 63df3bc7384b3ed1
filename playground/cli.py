"""``python -m bot --playground [--port N] [--data DIR]``: the real bot against local doubles, in a page."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from playground.server import serving
from playground.stack import QUEUE_S, RUN_S, Stack, StackError


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot --playground",
        description="Run the real bot against local doubles of Discord and RunComfy and watch it in a "
        "browser. Nothing is sent to Discord or RunComfy; no token is needed.",
    )
    parser.add_argument("--playground", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to serve the page on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8765, help="port of the page (default 8765; 0 picks one)")
    parser.add_argument(
        "--data", type=Path, help="keep the bot's SQLite store and logs here (default: a temp dir)"
    )
    parser.add_argument("--queue-s", type=float, default=QUEUE_S, help="seconds the fake API queues a job")
    parser.add_argument("--run-s", type=float, default=RUN_S, help="seconds the fake API generates a video")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, data: Path) -> None:
    stack = Stack(data, queue_s=args.queue_s, run_s=args.run_s)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print("playground: starting the Discord double, the RunComfy double and the bot…", flush=True)
        await stack.start()
        async with serving(stack, args.host, args.port) as address:
            print(f"playground: open {address}  (Ctrl-C stops everything; bot logs in {data})", flush=True)
            await stop.wait()
            print("playground: stopping", flush=True)
    finally:
        await stack.stop()


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    try:
        if args.data is not None:
            asyncio.run(run(args, args.data.resolve()))
        else:
            with tempfile.TemporaryDirectory(prefix="animate-playground-") as temp:
                asyncio.run(run(args, Path(temp)))
    except StackError as exc:
        print(f"playground: {exc}", file=sys.stderr)
        return 1
    return 0
