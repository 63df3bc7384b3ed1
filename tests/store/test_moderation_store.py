"""The store's moderation records, on both backends: settings, blocks, front requests, the audit log."""

from __future__ import annotations

from datetime import timedelta

from bot.jobs import JobState
from bot.moderation.audit import AuditEntry, ModAction, TargetKind
from bot.moderation.server_settings import ServerSettings
from bot.store import JobStore, open_store
from tests.store.jobs_for_tests import T0, minimal_job

GUILD = 111
MOD = 900


def entry(action: ModAction, *, minutes: int = 0, target: str = "", reason: str | None = None) -> AuditEntry:
    kind = TargetKind.MEMBER if target.isdigit() else TargetKind.JOB if target else TargetKind.NONE
    at = T0 + timedelta(minutes=minutes)
    return AuditEntry(GUILD, MOD, action, at, kind, target, "", reason)


async def test_settings_are_stored_per_server_with_their_audit_entry(store: JobStore) -> None:
    changed = ServerSettings().with_setting("member_daily", 3).with_word("forbidden").paused_for("upkeep")
    record = entry(ModAction.SETTING, target="member_daily", reason="too busy")

    assert await store.server_settings([GUILD]) == {}
    await store.save_server_settings(GUILD, changed, record)
    await store.save_server_settings(GUILD, changed.resumed(), entry(ModAction.RESUME, minutes=1))

    assert await store.server_settings([GUILD, 222]) == {GUILD: changed.resumed()}
    assert await store.audit_entries(GUILD) == [entry(ModAction.RESUME, minutes=1), record]
    assert await store.audit_entries(222) == []


async def test_a_block_is_set_replaced_and_lifted_once(store: JobStore) -> None:
    until = T0 + timedelta(hours=2)
    await store.block_member(GUILD, 333, T0 + timedelta(hours=1), entry(ModAction.BLOCK, target="333"))
    await store.block_member(GUILD, 333, until, entry(ModAction.BLOCK, minutes=1, target="333"))

    assert await store.blocked_until(GUILD, 333) == until
    assert await store.blocked_until(GUILD, 444) is None
    assert await store.blocked_until(222, 333) is None
    assert await store.unblock_member(GUILD, 333, entry(ModAction.UNBLOCK, minutes=2, target="333"))
    assert not await store.unblock_member(GUILD, 333, entry(ModAction.UNBLOCK, minutes=3, target="333"))

    assert await store.blocked_until(GUILD, 333) is None
    actions = [e.action for e in await store.audit_entries(GUILD)]
    assert actions == [ModAction.UNBLOCK, ModAction.BLOCK, ModAction.BLOCK]


async def test_a_job_fronted_again_takes_the_latest_time_until_it_leaves_the_queue(
    store: JobStore,
) -> None:
    for job_id in ("0000000a", "0000000b", "0000000c"):
        await store.create(minimal_job(job_id))
    await store.request_front("0000000c", GUILD, entry(ModAction.FRONT, target="0000000c"))
    sent = await store.get("0000000c")
    assert sent is not None
    await store.save(sent.moved_to(JobState.SUBMITTING))
    await store.request_front("0000000a", GUILD, entry(ModAction.FRONT, target="0000000a"))
    await store.request_front("0000000b", GUILD, entry(ModAction.FRONT, minutes=1, target="0000000b"))
    await store.request_front("0000000a", GUILD, entry(ModAction.FRONT, minutes=2, target="0000000a"))

    assert await store.front_requests() == {
        "0000000a": T0 + timedelta(minutes=2),
        "0000000b": T0 + timedelta(minutes=1),
    }
    assert len(await store.audit_entries(GUILD)) == 4


async def test_an_action_recorded_alone_keeps_its_reason(store: JobStore) -> None:
    cancel = entry(ModAction.CANCEL, target="0000000a", reason="off-topic")
    await store.record_action(cancel)

    assert await store.audit_entries(GUILD, limit=1) == [cancel]


async def test_guild_jobs_are_the_recent_and_the_unfinished_of_that_server(store: JobStore) -> None:
    old_open = await store.create(minimal_job("0000000a", created_at=T0 - timedelta(days=3)))
    await store.create(minimal_job("0000000b", created_at=T0 - timedelta(days=2), state=JobState.FAILED))
    recent_done = await store.create(minimal_job("0000000c", created_at=T0, state=JobState.DELIVERED))
    await store.create(minimal_job("0000000d", created_at=T0, guild_id=999))

    found = await store.guild_jobs(GUILD, since=T0 - timedelta(days=1))

    assert [job.id for job in found] == [old_open.id, recent_done.id]


async def test_settings_and_blocks_survive_reopening(database_url: str) -> None:
    first = await open_store(database_url)
    settings = ServerSettings().with_setting("cooldown_s", 60)
    await first.save_server_settings(GUILD, settings, entry(ModAction.SETTING, target="cooldown_s"))
    await first.block_member(GUILD, 333, T0 + timedelta(days=1), entry(ModAction.BLOCK, target="333"))
    await first.close()

    second = await open_store(database_url)
    try:
        assert await second.server_settings([GUILD]) == {GUILD: settings}
        assert await second.blocked_until(GUILD, 333) == T0 + timedelta(days=1)
    finally:
        await second.close()


async def test_an_approval_is_kept_once_with_its_audit_entry(store: JobStore) -> None:
    await store.approve_job("0000000a", GUILD, entry(ModAction.APPROVE, target="0000000a"))
    await store.approve_job("0000000a", GUILD, entry(ModAction.APPROVE, minutes=1, target="0000000a"))

    assert await store.approved_jobs(["0000000a", "0000000b"]) == {"0000000a"}
    assert await store.approved_jobs([]) == set()
    assert len(await store.audit_entries(GUILD)) == 2


async def test_a_members_standing_is_the_servers_settings_and_the_members_block_read_together(
    store: JobStore,
) -> None:
    assert await store.member_standing(GUILD, 333) == (ServerSettings(), None)

    changed = ServerSettings().paused_for("maintenance")
    await store.save_server_settings(GUILD, changed, entry(ModAction.PAUSE))
    until = T0 + timedelta(hours=2)
    await store.block_member(GUILD, 333, until, entry(ModAction.BLOCK, target="333"))

    assert await store.member_standing(GUILD, 333) == (changed, until)
    assert await store.member_standing(GUILD, 444) == (changed, None)
    assert await store.member_standing(GUILD + 1, 333) == (ServerSettings(), None)
