"""Who may cancel a job: its requester or a moderator, and only from the job's own server."""

from __future__ import annotations

import pytest

from bot.access import Actor, is_moderator, may_cancel
from tests.store.jobs_for_tests import minimal_job

JOB = minimal_job(guild_id=1, user_id=7)


def actor(user_id: int = 7, guild_id: int | None = 1, *permissions: str) -> Actor:
    return Actor(user_id=user_id, guild_id=guild_id, permissions=frozenset(permissions))


def test_the_requester_may_cancel_in_the_jobs_server() -> None:
    assert may_cancel(actor(), JOB)


def test_another_member_may_not() -> None:
    assert not may_cancel(actor(8, 1, "send_messages", "attach_files"), JOB)


@pytest.mark.parametrize("permission", ["manage_messages", "manage_guild", "administrator"])
def test_a_moderator_may_cancel_anyones_job(permission: str) -> None:
    moderator = actor(8, 1, permission)
    assert is_moderator(moderator)
    assert may_cancel(moderator, JOB)


@pytest.mark.parametrize("guild_id", [2, None])
def test_nobody_may_cancel_from_another_server(guild_id: int | None) -> None:
    assert not may_cancel(actor(7, guild_id), JOB)
    assert not may_cancel(actor(8, guild_id, "administrator"), JOB)
