import discord
import pytest

from cogs.animate import missing_channel_permissions

EVERYTHING = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True, embed_links=True
)


def without(**denied: bool) -> discord.Permissions:
    permissions = discord.Permissions(EVERYTHING.value)
    permissions.update(**{name: False for name in denied})
    return permissions


@pytest.mark.parametrize("in_thread", [False, True])
def test_nothing_is_missing_when_the_bot_may_post_and_embed(in_thread: bool) -> None:
    assert missing_channel_permissions(EVERYTHING, in_thread=in_thread) == []


def test_in_a_channel_posting_needs_send_messages() -> None:
    assert missing_channel_permissions(without(send_messages=True), in_thread=False) == ["send_messages"]
    assert missing_channel_permissions(without(send_messages_in_threads=True), in_thread=False) == []


def test_in_a_thread_posting_needs_send_messages_in_threads() -> None:
    missing = missing_channel_permissions(without(send_messages_in_threads=True), in_thread=True)
    assert missing == ["send_messages_in_threads"]
    assert missing_channel_permissions(without(send_messages=True), in_thread=True) == []


def test_every_missing_permission_is_named() -> None:
    missing = missing_channel_permissions(without(view_channel=True, embed_links=True), in_thread=False)
    assert missing == ["view_channel", "embed_links"]
