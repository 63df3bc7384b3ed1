"""Moderator actions in the core: rights checked on every action, effects scoped to the moderator's
server, and each action stored with its audit entry and told to listeners."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from bot.cancellation import CancelResult
from bot.jobs import Job, JobState
from bot.moderation.audit import AuditEntry, ModAction
from bot.moderation.moderators import MANAGE_GUILD
from bot.moderation_actions import ModerationActions, Moderator, NotAModeratorError
from bot.store import JobStore
from tests.store.jobs_for_tests import minimal_job

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
GUILD = 111
MODERATOR = Moderator(GUILD, 900, MANAGE_GUILD, frozenset())
MEMBER = Moderator(GUILD, 333, 0, frozenset({55}))


class Queue:
    def __init__(self, store: JobStore) -> None:
        self.store = store
        self.cancelled: list[str] = []
        self.woken = 0

    async def cancel(self, job_id: str, by_user_id: int) -> CancelResult:
        job = await self.store.get(job_id)
        assert job is not None
        await self.store.save(job.moved_to(JobState.CANCELLED, cancelled_by=by_user_id))
        self.cancelled.append(job_id)
        return CancelResult.CANCELLED_LOCALLY

    def wake(self) -> None:
        self.woken += 1


class Heard:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def action_recorded(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


@pytest.fixture
def heard() -> Heard:
    return Heard()


@pytest.fixture
def queue(store: JobStore) -> Queue:
    return Queue(store)


@pytest.fixture
def actions(store: JobStore, queue: Queue, heard: Heard) -> ModerationActions:
    return ModerationActions(store, queue, lambda: NOW, on_queue_changed=lambda: None, listeners=[heard])


async def test_every_action_refuses_a_member_without_rights(
    actions: ModerationActions, store: JobStore, heard: Heard
) -> None:
    await store.create(minimal_job("0000000a"))
    attempts = [
        actions.pause(MEMBER, "mine"),
        actions.resume(MEMBER),
        actions.clear(MEMBER, None),
        actions.cancel(MEMBER, "0000000a", None),
        actions.front(MEMBER, "0000000a"),
        actions.block(MEMBER, 1, 2, None),
        actions.unblock(MEMBER, 1),
        actions.change_settings(MEMBER, lambda s: s.with_word("x"), ModAction.WORD),
    ]
    for attempt in attempts:
        with pytest.raises(NotAModeratorError):
            await attempt
    assert await store.audit_entries(GUILD) == []
    assert heard.entries == []
    assert (await store.get("0000000a")) is not None
    assert await store.server_settings([GUILD]) == {}


async def test_the_moderator_role_gives_rights_once_set(actions: ModerationActions) -> None:
    assert not await actions.may_moderate(MEMBER)
    await actions.change_settings(
        MODERATOR, lambda s: s.with_setting("moderator_role", 55), ModAction.SETTING
    )
    assert await actions.may_moderate(MEMBER)
    assert not await actions.may_moderate(dataclasses.replace(MEMBER, guild_id=222))


async def test_clear_cancels_only_this_servers_waiting_jobs_and_records_how_many(
    actions: ModerationActions, store: JobStore, queue: Queue, heard: Heard
) -> None:
    await store.create(minimal_job("0000000a"))
    await store.create(minimal_job("0000000b", guild_id=222))
    sent = await store.create(minimal_job("0000000c"))
    await store.save(sent.moved_to(JobState.SUBMITTING))

    entry = await actions.clear(MODERATOR, "  spam wave  ")

    assert queue.cancelled == ["0000000a"]
    assert (entry.action, entry.detail, entry.reason) == (ModAction.CLEAR, "1", "spam wave")
    assert await store.audit_entries(GUILD) == [entry] == heard.entries


async def test_another_servers_job_is_neither_cancelled_nor_fronted(
    actions: ModerationActions, store: JobStore, queue: Queue
) -> None:
    await store.create(minimal_job("0000000b", guild_id=222))

    assert await actions.cancel(MODERATOR, "0000000b", None) == (CancelResult.NOT_FOUND, None)
    assert await actions.front(MODERATOR, "0000000b") is None
    assert queue.cancelled == []
    assert await store.front_requests() == {}
    assert await store.audit_entries(GUILD) == []


async def test_a_block_ends_after_its_hours_and_unblocking_twice_records_once(
    actions: ModerationActions, store: JobStore
) -> None:
    entry, until = await actions.block(MODERATOR, 333, 5, "spam")

    assert until == NOW.replace(hour=15)
    assert await store.blocked_until(GUILD, 333) == until
    assert entry.detail == "5 h"
    assert await actions.unblock(MODERATOR, 333) is not None
    assert await actions.unblock(MODERATOR, 333) is None
    assert [e.action for e in await store.audit_entries(GUILD)] == [ModAction.UNBLOCK, ModAction.BLOCK]


async def test_pause_wakes_the_scheduler_and_a_refused_change_stores_nothing(
    actions: ModerationActions, store: JobStore, queue: Queue
) -> None:
    await actions.pause(MODERATOR, "upkeep")
    with pytest.raises(ValueError, match="member_daily"):
        await actions.change_settings(
            MODERATOR, lambda s: s.with_setting("member_daily", -1), ModAction.SETTING
        )

    settings = await actions.settings(GUILD)
    assert settings.paused
    assert settings.pause_reason == "upkeep"
    assert settings.member_daily is None
    assert queue.woken == 1
    assert len(await store.audit_entries(GUILD)) == 1


async def test_removing_a_reported_video_needs_rights_and_records_who_removed_it(
    actions: ModerationActions, store: JobStore, heard: Heard
) -> None:
    delivered = minimal_job("0000000d", state=JobState.DELIVERED)
    await store.create(
        dataclasses.replace(delivered, reply=dataclasses.replace(delivered.reply, message_id=5))
    )
    await store.create(minimal_job("0000000e"))
    deleted: list[str] = []

    async def delete(job: Job) -> bool:
        deleted.append(job.id)
        return True

    with pytest.raises(NotAModeratorError):
        await actions.remove_video(MEMBER, "0000000d", delete)
    assert await actions.remove_video(MODERATOR, "0000000e", delete) is None
    entry = await actions.remove_video(MODERATOR, "0000000d", delete)

    assert deleted == ["0000000d"]
    assert entry is not None
    assert (entry.action, entry.target, entry.moderator_id) == (ModAction.REMOVE_VIDEO, "0000000d", 900)
    assert heard.entries == [entry]
    found = await actions.reported_video(GUILD, "0000000d")
    assert found is not None
    assert found[1] is None  # no log channel set
    assert await actions.reported_video(222, "0000000d") is None
