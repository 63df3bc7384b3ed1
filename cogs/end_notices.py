"""End notices, several to a message when jobs in one channel end together.

Discord lets a bot post about 5 messages per 5 s in a channel, so one message per ending job would hold the
last of a thousand for minutes. Each channel gets one sender: a notice that arrives while none is on its way
goes out alone, as a reply to its card; the notices that arrive while a message is on its way (or waits for
the channel's rate limit) go out together in the next one, a line per member, each pinging only its member.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import discord

from bot import texts
from bot.jobs import Job
from bot.tasks import TaskSet

MAX_PER_MESSAGE = 10
"""Lines in one message: enough to drain a busy channel, few enough to read."""
CONTENT_LIMIT = 2000

Notice = tuple[Job, str]
Post = Callable[[int, list[Notice]], Awaitable[Mapping[str, Exception]]]
"""Posts the notices (a job and its line) as one message in the channel, pinging each job's member; returns
what kept some of them from being posted, by job id (raises when none was)."""


@dataclass
class _Pending:
    job: Job
    line: str
    sent: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def jump_url(job: Job) -> str | None:
    message_id = job.reply.fallback_message_id or job.reply.message_id
    if not message_id:
        return None
    return f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{message_id}"


def notice_line(job: Job) -> str:
    return texts.end_notice(job.locale, job, jump_url(job))


def take_batch(waiting: list[_Pending]) -> list[_Pending]:
    """The next message's notices, oldest first: as many as fit, at least one; those nobody waits for any
    more are dropped."""
    batch: list[_Pending] = []
    length = 0
    while waiting and len(batch) < MAX_PER_MESSAGE:
        if waiting[0].sent.done():
            waiting.pop(0)
            continue
        extra = len(waiting[0].line) + (1 if batch else 0)
        if batch and length + extra > CONTENT_LIMIT:
            break
        length += extra
        batch.append(waiting.pop(0))
    return batch


def joined(notices: list[Notice]) -> str:
    return "\n".join(line for _job, line in notices)[:CONTENT_LIMIT]


class EndNotices:
    def __init__(self, post: Post) -> None:
        self._post = post
        self._waiting: dict[int, list[_Pending]] = {}
        self._senders = TaskSet()

    async def announce(self, job: Job) -> None:
        """Returns once a message with the job's notice is posted; raises what posting it raised."""
        pending = _Pending(job, notice_line(job))
        waiting = self._waiting.get(job.channel_id)
        if waiting is None:
            self._waiting[job.channel_id] = waiting = []
            self._senders.start(self._send_all(job.channel_id), name=f"notices-{job.channel_id}")
        waiting.append(pending)
        await pending.sent

    async def close(self) -> None:
        await self._senders.cancel()
        for waiting in self._waiting.values():  # a sender cancelled before it ran settles nothing
            for pending in waiting:
                pending.sent.cancel()
        self._waiting.clear()

    async def _send_all(self, channel_id: int) -> None:
        waiting = self._waiting[channel_id]
        try:
            while batch := take_batch(waiting):
                await self._send(channel_id, batch)
        finally:
            del self._waiting[channel_id]
            for pending in waiting:
                pending.sent.cancel()

    async def _send(self, channel_id: int, batch: list[_Pending]) -> None:
        failures: Mapping[str, Exception]
        try:
            failures = await self._post(channel_id, [(p.job, p.line) for p in batch])
        except Exception as exc:
            failures = {p.job.id: exc for p in batch}
        except asyncio.CancelledError:
            for pending in batch:
                pending.sent.cancel()
            raise
        for pending in batch:
            if pending.sent.done():
                continue
            failure = failures.get(pending.job.id)
            if failure is None:
                pending.sent.set_result(None)
            else:
                pending.sent.set_exception(failure)


def mentions_of(notices: list[Notice]) -> discord.AllowedMentions:
    members = sorted({job.user_id for job, _line in notices})
    users = [discord.Object(member) for member in members]
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=False)
