"""End notices of one channel: the first goes alone, those that come while it is on its way share the next
message, each line pinging its own member."""

from __future__ import annotations

import asyncio
import dataclasses
import re

import pytest

from bot.jobs import Job, JobState
from cogs.end_notices import CONTENT_LIMIT, MAX_PER_MESSAGE, EndNotices, Notice, jump_url, mentions_of
from tests.store.jobs_for_tests import minimal_job


def ended(user_id: int, *, channel_id: int = 222, message_id: int | None = 900) -> Job:
    job = minimal_job(f"{user_id:08x}", user_id=user_id, channel_id=channel_id, state=JobState.DELIVERED)
    return dataclasses.replace(job, reply=dataclasses.replace(job.reply, message_id=message_id))


class Channel:
    """Records every post; while ``held`` is clear each post waits, as a rate-limited one would."""

    def __init__(self) -> None:
        self.posts: list[tuple[int, list[Notice]]] = []
        self.held = asyncio.Event()
        self.held.set()
        self.posted = asyncio.Condition()
        self.fail_next: Exception | None = None
        self.refused: dict[int, Exception] = {}
        """Members whose notice alone is not posted (as a webhook of one job refuses)."""

    async def post(self, channel_id: int, notices: list[Notice]) -> dict[str, Exception]:
        self.posts.append((channel_id, notices))
        async with self.posted:
            self.posted.notify_all()
        await self.held.wait()
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure
        return {job.id: self.refused[job.user_id] for job, _line in notices if job.user_id in self.refused}

    def members(self, index: int) -> list[int]:
        return [job.user_id for job, _line in self.posts[index][1]]

    async def wait_posts(self, count: int) -> None:
        async with self.posted:
            await self.posted.wait_for(lambda: len(self.posts) >= count)

    def release_after_those_started(self) -> None:
        """Let the held post finish once every task started so far has run up to its first wait."""
        asyncio.get_running_loop().call_soon(self.held.set)


async def first_on_its_way(channel: Channel, notices: EndNotices) -> asyncio.Task[None]:
    """Member 1's notice, posted and held there as a rate-limited message would be."""
    channel.held.clear()
    first = asyncio.create_task(notices.announce(ended(1)))
    await channel.wait_posts(1)
    return first


async def test_a_lone_notice_goes_out_alone_with_its_member_and_a_link_to_the_card() -> None:
    channel = Channel()
    notices = EndNotices(channel.post)
    await notices.announce(ended(5))

    [(channel_id, [(job, line)])] = channel.posts
    assert channel_id == 222
    assert job.user_id == 5
    assert line.startswith("<@5> your video is ready.")
    assert jump_url(job) == "https://discord.com/channels/111/222/900"
    assert str(jump_url(job)) in line


async def test_notices_that_come_while_one_is_on_its_way_share_the_next_message() -> None:
    channel = Channel()
    notices = EndNotices(channel.post)
    first = await first_on_its_way(channel, notices)
    rest = [asyncio.create_task(notices.announce(ended(member))) for member in range(2, 6)]
    channel.release_after_those_started()
    await asyncio.gather(first, *rest)

    assert [channel.members(i) for i in range(len(channel.posts))] == [[1], [2, 3, 4, 5]]
    lines = [line for _job, line in channel.posts[1][1]]
    assert [re.match(r"<@(\d+)>", line)[1] for line in lines] == ["2", "3", "4", "5"]  # type: ignore[index]


async def test_a_message_holds_at_most_its_share_of_lines_and_characters() -> None:
    channel = Channel()
    notices = EndNotices(channel.post)
    first = await first_on_its_way(channel, notices)
    rest = [asyncio.create_task(notices.announce(ended(member))) for member in range(2, 2 + 25)]
    channel.release_after_those_started()
    await asyncio.gather(first, *rest)

    sizes = [len(batch) for _channel, batch in channel.posts]
    assert sizes == [1, MAX_PER_MESSAGE, MAX_PER_MESSAGE, 25 - 2 * MAX_PER_MESSAGE]
    for _channel, batch in channel.posts:
        assert len("\n".join(line for _job, line in batch)) <= CONTENT_LIMIT


async def test_each_channel_has_its_own_sender() -> None:
    channel = Channel()
    notices = EndNotices(channel.post)
    channel.held.clear()
    here = asyncio.create_task(notices.announce(ended(1, channel_id=10)))
    await channel.wait_posts(1)
    there = asyncio.create_task(notices.announce(ended(2, channel_id=20)))
    await channel.wait_posts(2)

    assert [c for c, _batch in channel.posts] == [10, 20]  # the second did not wait behind the first
    channel.held.set()
    await asyncio.gather(here, there)


async def test_a_failed_post_fails_every_notice_it_carried_and_the_next_message_still_goes() -> None:
    channel = Channel()
    notices = EndNotices(channel.post)
    first = await first_on_its_way(channel, notices)
    channel.fail_next = OSError("connection reset")
    second = asyncio.create_task(notices.announce(ended(2)))
    channel.release_after_those_started()

    with pytest.raises(OSError, match="connection reset"):
        await first
    await second
    assert [channel.members(i) for i in range(len(channel.posts))] == [[1], [2]]


async def test_a_notice_nobody_waits_for_any_more_is_not_posted() -> None:
    channel = Channel()
    notices = EndNotices(channel.post)
    first = await first_on_its_way(channel, notices)
    given_up = asyncio.create_task(notices.announce(ended(2)))
    kept = asyncio.create_task(notices.announce(ended(3)))
    asyncio.get_running_loop().call_soon(given_up.cancel)  # once it waits in line
    channel.release_after_those_started()
    await asyncio.gather(first, kept)

    assert [channel.members(i) for i in range(len(channel.posts))] == [[1], [3]]


async def test_closing_stops_the_senders_and_those_waiting_are_cancelled() -> None:
    channel = Channel()
    notices = EndNotices(channel.post)
    channel.held.clear()
    waiting = asyncio.create_task(notices.announce(ended(1)))
    await channel.wait_posts(1)
    await notices.close()

    with pytest.raises(asyncio.CancelledError):
        await waiting


def test_each_member_is_allowed_to_be_pinged_once() -> None:
    jobs = [ended(3), ended(1), ended(3)]
    allowed = mentions_of([(job, "") for job in jobs]).to_dict()
    assert allowed["users"] == [1, 3]
    assert allowed.get("parse", []) == []


async def test_a_notice_refused_on_its_own_fails_only_its_job() -> None:
    channel = Channel()
    notices = EndNotices(channel.post)
    first = await first_on_its_way(channel, notices)
    channel.refused[3] = OSError("webhook refused")
    rest = [asyncio.create_task(notices.announce(ended(member))) for member in (2, 3, 4)]
    channel.release_after_those_started()
    await first

    outcomes = await asyncio.gather(*rest, return_exceptions=True)
    assert [type(outcome) for outcome in outcomes] == [type(None), OSError, type(None)]


async def test_closing_before_a_sender_ran_still_settles_those_waiting() -> None:
    channel = Channel()
    notices = EndNotices(channel.post)
    waiting = asyncio.create_task(notices.announce(ended(1)))
    closing = asyncio.create_task(notices.close())  # runs before the sender's first step
    await closing

    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert channel.posts == []
