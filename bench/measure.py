"""One subject through one workload against fresh doubles, and what the doubles and /proc saw meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.procstat import ProcessUsage, usage
from bench.subject import Subject, SubjectProcess
from bench.workload import Workload
from client.fake import FakeConfig, FakeRunComfy
from discord_double import DiscordDouble, DoubleConfig, InteractionHandle, make_image

RUNCOMFY_TOKEN = "bench-runcomfy-token"
READY_TIMEOUT_S = 60.0
EDIT_ROUTES = frozenset(
    {
        "PATCH /webhooks/{application_id}/{token}/messages/{message_id}",
        "PATCH /channels/{channel_id}/messages/{message_id}",
    }
)


@dataclass(frozen=True, slots=True)
class Settings:
    """How a workload is run: the end condition and the environment both subjects share."""

    timeout_s: float
    max_active: int
    log_level: str = "WARNING"
    discord_global_limit: int | None = 50
    hold_s: float = 0.0
    # "shown": until every video is out; "submitted": until RunComfy has every job the bot may send it
    # (ANIMATE_MAX_ACTIVE; the rest wait in the bot's queue), then ``hold_s`` longer.
    until: str = "shown"


@dataclass
class Measured:
    """Raw figures of one run; every time is seconds from the workload's start (monotonic)."""

    subject: str
    workload: str
    jobs: int
    last_command_s: float
    first_answer_s: list[float | None] = field(default_factory=list)
    shown_s: list[float | None] = field(default_factory=list)
    completion_to_shown_s: list[float | None] = field(default_factory=list)
    api_requests: Counter[str] = field(default_factory=Counter)
    edits: int = 0
    discord_429s: int = 0
    discord_429_routes: Counter[str] = field(default_factory=Counter)
    cpu_s: float = 0.0
    peak_rss_bytes: int = 0
    wall_s: float = 0.0
    timed_out: bool = False


class DeliveryWatch:
    """Follows the double's request log incrementally: when each interaction's video reached Discord."""

    def __init__(self, discord: DiscordDouble, handles: dict[int, int]) -> None:
        self._discord = discord
        self._index_of_interaction = handles
        self._seen = 0
        self.shown_at: dict[int, float] = {}

    def update(self) -> int:
        requests = self._discord.world.requests
        messages = self._discord.world.messages
        for request in requests[self._seen :]:
            if not (200 <= request.status < 300 and any(f.filename.endswith(".mp4") for f in request.files)):
                continue
            message_id = request.response.get("id") if isinstance(request.response, dict) else None
            message = messages.get(int(message_id)) if message_id is not None else None
            index = self._index_of_interaction.get(message.interaction_id or 0) if message else None
            if index is not None:
                self.shown_at.setdefault(index, request.time)
        self._seen = len(requests)
        return len(self.shown_at)


async def wait_until(discord: DiscordDouble, predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Wait for ``predicate`` (re-checked on every request); ``False`` when ``timeout_s`` ran out first."""
    try:
        await discord.wait_for(predicate, max(timeout_s, 0.0))
    except TimeoutError:
        return False
    return True


async def measure(subject: Subject, workload: Workload, settings: Settings) -> Measured:
    commands = workload.commands
    result = Measured(subject.name, workload.name, len(commands), workload.last_command_s)
    fake_config = FakeConfig(timings=workload.timings, check_images=True)
    async with (
        DiscordDouble(DoubleConfig(global_rate_limit_per_s=settings.discord_global_limit)) as discord,
        FakeRunComfy(RUNCOMFY_TOKEN, fake_config) as fake,
    ):
        with tempfile.TemporaryDirectory(prefix="animate-bench-") as tmp:
            env = {
                "DISCORD_TOKEN": discord.token,
                "DISCORD_API_BASE": discord.api_base,
                "RUNCOMFY_API_TOKEN": RUNCOMFY_TOKEN,
                "RUNCOMFY_API_BASE": fake.base_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "ANIMATE_MAX_ACTIVE": str(settings.max_active),
                "LOG_LEVEL": settings.log_level,
            }
            process = SubjectProcess(subject, env, Path(tmp))
            await process.start()
            try:
                await _run(discord, fake, process, workload, settings, result)
            except BaseException:
                print(f"--- {subject.name} output (tail) ---\n{process.output_tail()}")
                raise
            finally:
                await process.stop()
    return result


async def _run(
    discord: DiscordDouble,
    fake: FakeRunComfy,
    process: SubjectProcess,
    workload: Workload,
    settings: Settings,
    result: Measured,
) -> None:
    ready = await wait_until(discord, lambda: discord.bot_ready() or not process.running, READY_TIMEOUT_S)
    if not ready or not process.running:
        raise RuntimeError(f"{process.subject.name} did not become ready:\n{process.output_tail()}")
    members = {c.member for c in workload.commands}
    users = {m: discord.add_user(f"member{m}") for m in sorted(members)}
    image = make_image(640, 480)
    before = usage(process.pid)
    started = time.monotonic()
    wall_offset = time.time() - started
    handles: dict[int, InteractionHandle] = {}

    async def send(index: int) -> None:
        command = workload.commands[index]
        handles[index] = await discord.invoke_command(
            "animate", command.options, {"image": image}, user=users[command.member]
        )

    senders = []
    for command in workload.commands:
        delay = started + command.at_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        senders.append(asyncio.create_task(send(command.index)))
    await asyncio.gather(*senders)
    deadline = started + settings.timeout_s
    by_interaction = {h.id: i for i, h in handles.items()}
    watch = DeliveryWatch(discord, by_interaction)
    answer_window = discord.config.response_deadline_s + 1.0
    await wait_until(
        discord,
        lambda: all(h.response_type is not None for h in handles.values()),
        started + workload.last_command_s + answer_window - time.monotonic(),
    )
    if settings.until == "submitted":
        at_runcomfy = min(len(handles), settings.max_active)
        done = await wait_until(discord, lambda: len(fake.jobs) >= at_runcomfy, deadline - time.monotonic())
        if done and settings.hold_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.Event().wait(), settings.hold_s)
    else:
        done = await wait_until(discord, lambda: watch.update() >= len(handles), deadline - time.monotonic())
    after: ProcessUsage = usage(process.pid)
    result.wall_s = time.monotonic() - started
    result.timed_out = not done
    watch.update()
    _collect(discord, fake, handles, watch, started, wall_offset, before, after, result)


def _collect(
    discord: DiscordDouble,
    fake: FakeRunComfy,
    handles: dict[int, InteractionHandle],
    watch: DeliveryWatch,
    started: float,
    wall_offset: float,
    before: ProcessUsage,
    after: ProcessUsage,
    result: Measured,
) -> None:
    deadline = discord.config.response_deadline_s
    for index in range(result.jobs):
        record = handles[index].record
        answered = None if record.responded_at is None else record.responded_at - record.created_at
        result.first_answer_s.append(answered if answered is not None and answered <= deadline else None)
        shown = watch.shown_at.get(index)
        result.shown_s.append(None if shown is None else shown - started)
    index_of_prompt = _prompts(handles)
    completion: dict[int, float] = {}
    for job in fake.jobs.values():
        job_index = index_of_prompt.get(str(job.input.get("prompt")))
        if job_index is not None and job.finished_at is not None:
            completion[job_index] = job.finished_at.timestamp() - wall_offset
    for index in range(result.jobs):
        shown = watch.shown_at.get(index)
        done = completion.get(index)
        result.completion_to_shown_s.append(None if shown is None or done is None else shown - done)
    result.api_requests = Counter(str(r.endpoint) for r in fake.requests)
    requests = discord.requests
    result.edits = sum(1 for r in requests if r.key in EDIT_ROUTES and 200 <= r.status < 300)
    result.discord_429_routes = Counter(r.key for r in requests if r.status == 429)
    result.discord_429s = sum(result.discord_429_routes.values())
    result.cpu_s = after.cpu_s - before.cpu_s
    result.peak_rss_bytes = after.peak_rss_bytes


def _prompts(handles: dict[int, InteractionHandle]) -> dict[str, int]:
    """Each command's prompt (the key the RunComfy double sees), by command index."""
    out = {}
    for index, handle in handles.items():
        options = handle.record.payload["data"].get("options", [])
        prompt = next((o["value"] for o in options if o["name"] == "prompt"), None)
        if prompt is not None:
            out[str(prompt)] = index
    return out
