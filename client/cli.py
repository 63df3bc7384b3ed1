"""``python -m client``: animate a picture from the command line, or look at / cancel a job.

Exit codes: 0 success; 1 RunComfy failed or refused (or the job ended without a video); 2 bad input or
no token (nothing submitted); 130 interrupted (a job still queued at RunComfy is cancelled there).
The video URL is the last line of stdout; progress and errors go to stderr. Settings come from the
environment, then from ``.env`` in the current folder (as for the bot).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn, TextIO

import aiohttp
from PIL import Image, UnidentifiedImageError
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console

from client.api import BASE_URL_ENV, TOKEN_ENV, RunComfyClient, check_request_id
from client.errors import RunComfyError, UnexpectedAnswerError
from client.image_rules import MAX_FILE_BYTES, check_image
from client.models import (
    DURATIONS,
    RESOLUTIONS,
    AnimateInput,
    Cancelled,
    Completed,
    Failed,
    InProgress,
    JobStatus,
    Queued,
)

EXIT_OK = 0
EXIT_API_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
DOWNLOAD_TIMEOUT_S = 60.0
_CHECKABLE_URL_PREFIXES = ("https://", "http://")
_OPTION_OF = {"first_frame_image_url": "--image", "last_frame_image_url": "--last-frame"}


class CliEnvironment(BaseSettings):
    """The two settings the CLI reads, from the environment or ``.env``."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    token: str = Field(default="", validation_alias=TOKEN_ENV)
    base_url: str | None = Field(default=None, validation_alias=BASE_URL_ENV)


class BadInputError(Exception):
    """Input refused before anything was submitted; the message is one line for the user."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line instead of usage + error."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m client", description="Seedance 1.0 Lite image-to-video on RunComfy.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    animate = commands.add_parser("animate", help="turn a picture into a short video")
    animate.add_argument(
        "--image", required=True, help="public https URL of the first frame (data: URIs are not accepted)"
    )
    animate.add_argument("--prompt", required=True, help="what should happen (1 to 1900 characters)")
    animate.add_argument("--last-frame", help="public https URL of the last frame (ignored at 1080p)")
    animate.add_argument("--resolution", choices=RESOLUTIONS, default="480p")
    animate.add_argument("--duration", type=int, choices=DURATIONS, default=5, help="seconds")
    animate.add_argument("--poll-min", type=float, default=2.0, help="first polling interval in seconds")
    animate.add_argument("--poll-max", type=float, default=15.0, help="longest polling interval in seconds")
    status = commands.add_parser("status", help="show a job's status (and its video once completed)")
    status.add_argument("request_id")
    cancel = commands.add_parser("cancel", help="cancel a job still queued at RunComfy")
    cancel.add_argument("request_id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    env = CliEnvironment()
    token = env.token.strip()
    if not token:
        print(f"error: {TOKEN_ENV} is not set (in the environment or .env)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return asyncio.run(_run(args, token, env.base_url))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


async def _run(args: argparse.Namespace, token: str, base_url: str | None) -> int:
    try:
        async with RunComfyClient(token, base_url) as client:
            if args.command == "animate":
                return await _animate(client, args)
            request_id = _typed_request_id(args.request_id)
            if args.command == "status":
                return await _show_status(client, request_id)
            return await _cancel(client, request_id)
    except (BadInputError, ValueError) as exc:
        _say(f"error: {exc}")
        return EXIT_BAD_INPUT
    except RunComfyError as exc:
        _say(f"error: {exc}")
        return EXIT_API_FAILURE


async def _animate(client: RunComfyClient, args: argparse.Namespace) -> int:
    job = _animate_input(args)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_S)) as http:
        await _check_image(http, "--image", job.first_frame_image_url)
        if job.last_frame_image_url is not None:
            await _check_image(http, "--last-frame", job.last_frame_image_url)
    try:
        submission = await client.submit(job)
    except asyncio.CancelledError:
        _uncancel()
        _say("interrupted while submitting: the job may or may not exist at RunComfy")
        return EXIT_INTERRUPTED
    request_id = submission.request_id
    _say(f"submitted: request {request_id}")
    progress = Progress(sys.stderr)
    final: JobStatus | None = None
    try:
        async for final in client.follow(request_id, poll_min_s=args.poll_min, poll_max_s=args.poll_max):
            progress.show(final)
    except asyncio.CancelledError:
        _uncancel()
        progress.close()
        return await _cancel_on_interrupt(client, request_id)
    progress.close()
    return _report_end(final)


def _typed_request_id(value: str) -> str:
    try:
        return check_request_id(value)
    except UnexpectedAnswerError:
        raise BadInputError(
            "not a RunComfy request id (expected 1 to 128 letters, digits, '-' or '_')"
        ) from None


def _animate_input(args: argparse.Namespace) -> AnimateInput:
    for option, url in (("--image", args.image), ("--last-frame", args.last_frame)):
        if url is not None and not url.lower().startswith(_CHECKABLE_URL_PREFIXES):
            raise BadInputError(f"{option}: must be a public https URL; data: URIs are not accepted")
    try:
        return AnimateInput(
            prompt=args.prompt,
            first_frame_image_url=args.image,
            last_frame_image_url=args.last_frame,
            resolution=args.resolution,
            duration=args.duration,
        )
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        field = str(first["loc"][0]) if first["loc"] else "input"
        message = first["msg"].removeprefix("Value error, ")
        raise BadInputError(f"{_OPTION_OF.get(field, '--' + field)}: {message}") from None


@dataclass(frozen=True, slots=True)
class ImageFacts:
    width: int
    height: int
    size_bytes: int


async def _check_image(http: aiohttp.ClientSession, option: str, url: str) -> None:
    """Download the picture and apply the seed's image rules; BadInputError names the first broken rule."""
    facts = await fetch_image_facts(http, option, url)
    broken = check_image(facts.width, facts.height, facts.size_bytes)
    if broken:
        raise BadInputError(f"{option}: {broken[0].message} ({facts.width}x{facts.height})")


async def fetch_image_facts(http: aiohttp.ClientSession, option: str, url: str) -> ImageFacts:
    """Width, height and size of the picture at ``url`` (read at most just past the size limit)."""
    if not url.lower().startswith(_CHECKABLE_URL_PREFIXES):
        raise BadInputError(f"{option}: the CLI can only check http(s) URLs")
    try:
        async with http.get(url) as response:
            if response.status != 200:
                raise BadInputError(f"{option}: could not download the picture (HTTP {response.status})")
            data = await response.content.read(MAX_FILE_BYTES + 1)
            size = max(len(data), response.content_length or 0)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise BadInputError(f"{option}: could not download the picture ({type(exc).__name__})") from None
    try:
        with Image.open(io.BytesIO(data)) as picture:
            width, height = picture.size
    except (UnidentifiedImageError, OSError):
        raise BadInputError(f"{option}: the URL does not point to a picture") from None
    return ImageFacts(width, height, size)


async def _cancel_on_interrupt(client: RunComfyClient, request_id: str) -> int:
    try:
        outcome = await client.cancel(request_id)
    except RunComfyError as exc:
        _say(f"interrupted; could not cancel request {request_id} at RunComfy: {exc}")
        return EXIT_INTERRUPTED
    if outcome.cancelled:
        _say(f"interrupted: request {request_id} was cancelled at RunComfy")
    else:
        _say(f"interrupted: request {request_id} is already in progress and cannot be cancelled")
    return EXIT_INTERRUPTED


def _report_end(final: JobStatus | None) -> int:
    if isinstance(final, Completed) and final.video_url:
        print(final.video_url, flush=True)
        return EXIT_OK
    if isinstance(final, Completed):
        _say("error: the job completed without a video")
    elif isinstance(final, Failed):
        _say(f"error: the job failed at RunComfy: {final.error or 'no reason given'}")
    else:
        _say("error: the job was cancelled at RunComfy")
    return EXIT_API_FAILURE


async def _show_status(client: RunComfyClient, request_id: str) -> int:
    result = await client.result(request_id)
    print(describe(result.status), flush=True)
    if result.video_url:
        print(result.video_url, flush=True)
    return EXIT_OK


async def _cancel(client: RunComfyClient, request_id: str) -> int:
    outcome = await client.cancel(request_id)
    if outcome.cancelled:
        print(f"cancelled: request {request_id}", flush=True)
        return EXIT_OK
    _say(f"not cancellable: request {request_id} is already in progress or finished")
    return EXIT_API_FAILURE


def describe(status: JobStatus) -> str:
    """One short line for a status."""
    if isinstance(status, Queued):
        where = f" (position {status.position})" if status.position is not None else ""
        return f"in_queue{where}"
    if isinstance(status, InProgress):
        return "in_progress"
    if isinstance(status, Completed):
        return "completed"
    if isinstance(status, Cancelled):
        return "cancelled"
    return f"failed: {status.error}" if status.error else "failed"


class Progress:
    """Live progress on a stream: a rich status line on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._text = "submitted"
        self._ticker: asyncio.Task[None] | None = None
        self._console: Console | None = None
        if stream.isatty():
            self._console = Console(file=stream)
            self._status = self._console.status(self._line())
            self._status.start()
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def _line(self) -> str:
        return f"{self._text} — {time.monotonic() - self._started:.0f}s"

    def show(self, status: JobStatus) -> None:
        self._text = describe(status)
        if self._console is not None:
            self._status.update(self._line())
        else:
            print(self._line(), file=self._stream, flush=True)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1)
            self._status.update(self._line())

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        if self._console is not None:
            self._status.stop()


def _uncancel() -> None:
    """We handle the interrupt ourselves: let the task go on awaiting (the remote cancel)."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
