"""Watching one channel of the double as a Discord client would, and acting in it as a given member.

feed = ChannelFeed(double)
version = feed.version()
version = await feed.next_change(version)          # returns when a message was created, edited or deleted
await Actor(double, member, locale="ko").run("animate", {"prompt": "..."}, {"image": picture})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from discord_double.double import DiscordDouble, InteractionHandle
from discord_double.state import ChannelSpec, LocalFile, RoleSpec, StoredMessage, UserSpec

Version = tuple[object, ...]


class ChannelFeed:
    """The messages of one channel (ephemeral answers included) and a way to wait until they change."""

    def __init__(self, double: DiscordDouble, channel: ChannelSpec | None = None) -> None:
        self.double = double
        self.channel = channel or double.channel
        self._extra = 0

    def messages(self) -> list[StoredMessage]:
        """Every undeleted message of the channel, oldest first; ephemeral ones too."""
        return self.double.messages(self.channel)

    def viewer_of(self, message: StoredMessage) -> UserSpec | None:
        """Who may see an ephemeral message (the member whose interaction it answers); None if public."""
        if not message.ephemeral or message.interaction_id is None:
            return None
        record = self.double.world.interactions.get(message.interaction_id)
        return record.user if record is not None else None

    def interaction_of(self, message: StoredMessage) -> tuple[UserSpec, str] | None:
        """The member and command name a message answers (``/animate``), if it answers a slash command."""
        if message.interaction_id is None:
            return None
        record = self.double.world.interactions.get(message.interaction_id)
        if record is None or record.type != 2:
            return None
        return record.user, str(record.payload["data"].get("name", ""))

    def version(self) -> Version:
        """Changes whenever a message of the channel is created, edited or deleted, or :meth:`touch` is
        called."""
        stored = self.double.world.messages.values()
        shown = tuple((m.id, len(m.history), m.deleted) for m in stored if m.channel_id == self.channel.id)
        commands = len(self.double.world.commands.all())
        return (self._extra, commands, self.double.bot_ready(require_commands=False), shown)

    async def touch(self) -> None:
        """Mark something outside the messages as changed (a control, the bot process) for every waiter."""
        self._extra += 1
        await self.double.poke()

    async def next_change(self, since: Version, timeout: float = 25.0) -> Version:  # noqa: ASYNC109
        """Wait until :meth:`version` differs from ``since`` and return the new one (TimeoutError if not)."""

        def changed() -> Version | None:
            now = self.version()
            return now if now != since else None

        return await self.double.wait_for(changed, timeout)


@dataclass
class Actor:
    """A member of the double's guild using the channel, with their roles and Discord client language."""

    double: DiscordDouble
    user: UserSpec
    roles: Sequence[RoleSpec] = field(default_factory=tuple)
    locale: str = "en-US"

    async def run(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        attachments: Mapping[str, LocalFile] | None = None,
        channel: ChannelSpec | None = None,
    ) -> InteractionHandle:
        """Type the slash command ``name`` (``"queue list"`` for a subcommand)."""
        return await self.double.invoke_command(
            name, options, attachments, user=self.user, roles=self.roles, channel=channel, locale=self.locale
        )

    async def press(self, message: StoredMessage, custom_id: str) -> InteractionHandle:
        """Press a button of ``message``."""
        return await self.double.click(
            message, custom_id, user=self.user, roles=self.roles, locale=self.locale
        )
