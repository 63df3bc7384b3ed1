"""The double's world: users, guilds, channels, messages, interactions, files and the request log."""

from __future__ import annotations

import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from discord import Permissions

from discord_double import rules

DISCORD_EPOCH_MS = 1_420_070_400_000
JSON = dict[str, Any]


class DoubleClock:
    """The double's wall clock: real time plus an offset a test can move forward (never back)."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def time(self) -> float:
        """Seconds since the Unix epoch, as the double sees them."""
        return time.time() + self.offset_s

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the double's clock only moves forward")
        self.offset_s += seconds


class SnowflakeFactory:
    """Mints increasing snowflakes whose timestamps are now on ``clock`` (as Discord's do)."""

    def __init__(self, clock: DoubleClock | None = None) -> None:
        self._clock = clock or DoubleClock()
        self._counter = itertools.count()

    def next(self) -> int:
        ms = int(self._clock.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """A snowflake from the last ``shard_count`` milliseconds with ``(id >> 22) % shard_count ==
        shard_id``: a guild id Discord would route to that shard."""
        if not 0 <= shard_id < shard_count:
            raise ValueError(f"shard {shard_id} is not one of {shard_count}")
        ms = int(self._clock.time() * 1000) - DISCORD_EPOCH_MS
        ms -= (ms - shard_id) % shard_count
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)


def snowflake_time(snowflake: int) -> float:
    """When a snowflake was minted, in seconds since the Unix epoch."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


@dataclass
class UserSpec:
    """A Discord user (a member of the test guild, or the bot itself)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False


@dataclass
class RoleSpec:
    id: int
    name: str
    permissions: int
    position: int = 0


@dataclass
class Overwrite:
    """A channel's permission overwrite for a role (``type`` 0) or a member (``type`` 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


@dataclass
class ChannelSpec:
    """A guild text channel; ``bot_denied`` are permission bits the bot lacks there (an overwrite)."""

    id: int
    name: str
    bot_denied: int = 0
    position: int = 0
    overwrites: list[Overwrite] = field(default_factory=list)

    def effective_overwrites(self, bot_id: int) -> list[Overwrite]:
        """The overwrites as Discord holds them: ``bot_denied`` merged into the bot's member overwrite."""
        out = [Overwrite(o.id, o.type, o.allow, o.deny) for o in self.overwrites]
        if self.bot_denied:
            mine = next((o for o in out if o.type == 1 and o.id == bot_id), None)
            if mine is None:
                out.append(Overwrite(bot_id, 1, 0, self.bot_denied))
            else:
                mine.allow &= ~self.bot_denied
                mine.deny |= self.bot_denied
        return out


@dataclass
class GuildSpec:
    """A guild the bot is in. ``upload_limit`` is both enforced and sent as ``attachment_size_limit``."""

    id: int
    name: str
    owner_id: int
    channels: list[ChannelSpec]
    roles: list[RoleSpec]
    members: list[UserSpec]
    member_roles: dict[int, list[int]] = field(default_factory=dict)
    upload_limit: int = rules.DEFAULT_UPLOAD_LIMIT
    preferred_locale: str = "en-US"

    def channel(self, channel_id: int) -> ChannelSpec | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    @property
    def everyone(self) -> RoleSpec:
        return next(r for r in self.roles if r.id == self.id)


@dataclass
class AutoModRule:
    """A KEYWORD AutoMod rule of a guild (``event_type`` 1: a member sends a message)."""

    id: int
    guild_id: int
    name: str
    creator_id: int
    keyword_filter: list[str] = field(default_factory=list)
    regex_patterns: list[str] = field(default_factory=list)
    allow_list: list[str] = field(default_factory=list)
    enabled: bool = True
    exempt_roles: list[int] = field(default_factory=list)
    exempt_channels: list[int] = field(default_factory=list)
    actions: list[JSON] = field(default_factory=lambda: [{"type": 1, "metadata": {}}])
    event_type: int = 1


@dataclass(frozen=True)
class UploadedFile:
    """One ``files[n]`` part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class CdnFile:
    """Bytes on the CDN; ``expired`` ones answer 404 whatever their URL says."""

    filename: str
    content_type: str
    data: bytes
    expired: bool = False


@dataclass
class StoredMessage:
    """A message as it stands now, plus every earlier version (oldest first) in ``history``."""

    id: int
    channel_id: int
    payload: JSON
    ephemeral: bool = False
    interaction_id: int | None = None
    history: list[JSON] = field(default_factory=list)
    deleted: bool = False

    @property
    def content(self) -> str:
        return str(self.payload.get("content", ""))

    @property
    def embeds(self) -> list[JSON]:
        return list(self.payload.get("embeds", []))

    @property
    def components(self) -> list[JSON]:
        return list(self.payload.get("components", []))

    @property
    def attachments(self) -> list[JSON]:
        return list(self.payload.get("attachments", []))

    @property
    def flags(self) -> int:
        return int(self.payload.get("flags", 0))

    @property
    def custom_ids(self) -> list[str]:
        """Every ``custom_id`` of the message's components, in order."""
        return [
            str(child["custom_id"])
            for row in self.components
            for child in row.get("components", [])
            if "custom_id" in child
        ]

    @property
    def mentioned_user_ids(self) -> list[int]:
        """Users the content mentions (``<@id>`` or ``<@!id>``), in order."""
        return [int(found) for found in re.findall(r"<@!?(\d+)>", self.content)]

    @property
    def edit_count(self) -> int:
        return len(self.history)


@dataclass
class InteractionRecord:
    """An interaction the double sent, and what the bot did with it."""

    id: int
    token: str
    type: int
    guild_id: int
    channel_id: int
    user: UserSpec
    created_at: float
    payload: JSON
    response_type: int | None = None
    responded_at: float | None = None
    original_message_id: int | None = None
    source_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: JSON | None = None
    modal_submitted: bool = False
    opened_by: int | None = None
    choices: list[JSON] | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the double answered."""

    method: str
    route: str
    path: str
    query: dict[str, str]
    status: int
    json: Any
    files: tuple[UploadedFile, ...]
    time: float
    response: Any
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"


@dataclass
class CommandRegistry:
    """Application commands, global (``guild_id`` None) and per guild, as the bot last overwrote them."""

    by_scope: dict[int | None, list[JSON]] = field(default_factory=dict)

    def all(self) -> list[JSON]:
        return [command for commands in self.by_scope.values() for command in commands]

    def find(self, name: str, guild_id: int) -> JSON | None:
        for scope in (guild_id, None):
            for command in self.by_scope.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        return None


def new_token() -> str:
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(96)


def default_bot_permissions() -> int:
    """What a well-invited bot holds: view, send, embed, attach, read history, use app commands."""
    perms = Permissions.none()
    perms.update(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        add_reactions=True,
        use_application_commands=True,
        use_external_emojis=True,
    )
    return perms.value


def default_member_permissions() -> int:
    perms = Permissions.none()
    perms.update(
        view_channel=True,
        send_messages=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        use_application_commands=True,
    )
    return perms.value


@dataclass(frozen=True)
class LocalFile:
    """A file a test attaches to a command (made by :mod:`discord_double.images` or by hand)."""

    filename: str
    data: bytes
    content_type: str | None = None
