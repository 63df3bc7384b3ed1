"""The double's mutable world and the operations on it that every transport shares (no I/O here)."""

from __future__ import annotations

import io
import mimetypes
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from discord import Permissions
from PIL import Image, UnidentifiedImageError

from discord_double import payloads, rules
from discord_double.signed_urls import UrlSigner
from discord_double.state import (
    AutoModRule,
    CdnFile,
    ChannelSpec,
    CommandRegistry,
    DoubleClock,
    GuildSpec,
    InteractionRecord,
    RecordedRequest,
    RoleSpec,
    SnowflakeFactory,
    StoredMessage,
    UploadedFile,
    UserSpec,
    default_bot_permissions,
    default_member_permissions,
)

if TYPE_CHECKING:
    from discord.types.message import Attachment

JSON = dict[str, Any]


@dataclass
class DoubleConfig:
    """Knobs of the double. Times are seconds; a test may shrink them to make rules bite quickly."""

    token: str = "double-bot-token"  # noqa: S105
    response_deadline_s: float = 3.0
    token_ttl_s: float = 15 * 60.0
    heartbeat_interval_ms: int = 41_250
    privileged_intents_allowed: bool = False
    global_rate_limit_per_s: int | None = None
    old_message_edits_per_window: int = 10
    old_message_edit_window_s: float = 3600.0
    host: str = "127.0.0.1"
    port: int = 0
    shard_count: int = 1
    max_guilds_per_shard: int = 2500
    # Refuse commands Discord's client would not send (a required option missing, a value outside its
    # choices or bounds). Off by default: tests of the bot's own checks send them as a tampered client.
    strict_options: bool = False


class DoubleError(Exception):
    """A test asked the double for something that does not exist or cannot be done."""


@dataclass
class World:
    """Users, guilds, messages, interactions, CDN files, commands and the request log."""

    config: DoubleConfig
    clock: DoubleClock = field(default_factory=DoubleClock)
    base_url: str = "http://127.0.0.1:0"
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    interactions: dict[int, InteractionRecord] = field(default_factory=dict)
    files: dict[int, CdnFile] = field(default_factory=dict)
    commands: CommandRegistry = field(default_factory=CommandRegistry)
    requests: list[RecordedRequest] = field(default_factory=list)
    automod_rules: dict[int, AutoModRule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = SnowflakeFactory(self.clock)
        self.signer = UrlSigner(self.clock)
        self.application_id = self.ids.next()
        self.bot = UserSpec(self.application_id, "Animate Double", bot=True)
        self.owner = UserSpec(self.ids.next(), "guild-owner", "Guild Owner")
        self.guilds: list[GuildSpec] = []
        self.bot_role_ids: dict[int, int] = {}
        self.add_guild("Test Guild", ["general", "animate"])

    # ---- guilds and channels -------------------------------------------------------------------------

    def add_guild(
        self, name: str, channel_names: Sequence[str], shard: tuple[int, int] | None = None
    ) -> GuildSpec:
        """Add a guild with the given text channels, an owner, a member and the bot's managed role;
        ``shard`` ``(id, count)`` picks an id that lands on that shard."""
        guild_id = self.ids.next() if shard is None else self.ids.on_shard(*shard)
        everyone = RoleSpec(guild_id, "@everyone", default_member_permissions())
        bot_role = RoleSpec(self.ids.next(), self.bot.username, default_bot_permissions(), position=1)
        channels = [ChannelSpec(self.ids.next(), n, position=i) for i, n in enumerate(channel_names)]
        member = UserSpec(self.ids.next(), "member", "A Member")
        guild = GuildSpec(guild_id, name, self.owner.id, channels, [everyone, bot_role], [self.owner, member])
        self.guilds.append(guild)
        self.bot_role_ids[guild_id] = bot_role.id
        return guild

    @property
    def guild(self) -> GuildSpec:
        """The first (default) guild."""
        return self.guilds[0]

    def find_channel(self, channel_id: int) -> tuple[GuildSpec, ChannelSpec] | None:
        for guild in self.guilds:
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel
        return None

    def find_user(self, user_id: int) -> UserSpec | None:
        if user_id == self.bot.id:
            return self.bot
        return next((u for g in self.guilds for u in g.members if u.id == user_id), None)

    def bot_permissions(self, guild: GuildSpec, channel: ChannelSpec | None) -> int:
        bot_role = self.bot_role_ids.get(guild.id)
        return self.permissions_in(guild, self.bot.id, [bot_role] if bot_role else [], channel)

    def member_permissions(
        self, guild: GuildSpec, user: UserSpec, roles: Sequence[int], channel: ChannelSpec | None = None
    ) -> int:
        return self.permissions_in(guild, user.id, roles, channel)

    def permissions_in(
        self, guild: GuildSpec, user_id: int, roles: Sequence[int], channel: ChannelSpec | None
    ) -> int:
        """Discord's computation: the owner has all; else @everyone and every role's bits, all of them
        with Administrator; then in a channel the @everyone overwrite, the member's roles' overwrites
        (denies, then allows) and the member's own overwrite; no View Channel there means nothing."""
        everything = Permissions.all().value
        if user_id == guild.owner_id:
            return everything
        base = guild.everyone.permissions
        for role in guild.roles:
            if role.id in roles:
                base |= role.permissions
        if base & Permissions(administrator=True).value:
            return everything
        if channel is None:
            return base
        overwrites = channel.effective_overwrites(self.bot.id)
        perms = base
        for o in overwrites:
            if o.type == 0 and o.id == guild.id:
                perms = (perms & ~o.deny) | o.allow
        allow = deny = 0
        for o in overwrites:
            if o.type == 0 and o.id in roles and o.id != guild.id:
                allow, deny = allow | o.allow, deny | o.deny
        perms = (perms & ~deny) | allow
        for o in overwrites:
            if o.type == 1 and o.id == user_id:
                perms = (perms & ~o.deny) | o.allow
        return perms if perms & Permissions(view_channel=True).value else 0

    def guild_of(self, guild_id: int) -> GuildSpec | None:
        return next((g for g in self.guilds if g.id == guild_id), None)

    # ---- files ---------------------------------------------------------------------------------------

    def store_file(self, channel_id: int, filename: str, data: bytes, content_type: str | None) -> Attachment:
        """Keep ``data`` on the CDN and describe it as Discord's attachment object does."""
        attachment_id = self.ids.next()
        kind = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if kind == "application/octet-stream":
            kind = mimetypes.guess_type(filename)[0] or kind
        self.files[attachment_id] = CdnFile(filename, kind, data)
        path = f"/attachments/{channel_id}/{attachment_id}/{filename}"
        signature = self.signer.query(path)
        return payloads.attachment(
            attachment_id,
            filename,
            len(data),
            kind,
            f"{self.base_url}/cdn{path}{signature}",
            f"{self.base_url}/media{path}{signature}",
            image_size(data) if kind.startswith("image/") else None,
        )

    def refreshed_url(self, url: str) -> str:
        """``url`` signed anew when it names a live attachment on this double's CDN, else unchanged."""
        parsed = urlsplit(url)
        found = re.fullmatch(r"/(?:cdn|media)(/attachments/\d+/(\d+)/[^/]+)", parsed.path)
        if f"{parsed.scheme}://{parsed.netloc}" != self.base_url or found is None:
            return url
        stored = self.files.get(int(found.group(2)))
        if stored is None or stored.expired or not found.group(1).endswith("/" + stored.filename):
            return url
        return f"{self.base_url}{parsed.path}{self.signer.query(found.group(1))}"

    def file_of(self, attachment: Mapping[str, Any]) -> CdnFile:
        """The stored bytes behind an attachment payload."""
        try:
            return self.files[int(attachment["id"])]
        except KeyError:
            raise DoubleError("no such attachment on the CDN") from None

    # ---- messages ------------------------------------------------------------------------------------

    def oversized(self, guild: GuildSpec, files: Sequence[UploadedFile]) -> bool:
        return any(len(f.data) > guild.upload_limit for f in files)

    def _new_attachments(
        self, channel_id: int, body: Mapping[str, Any], files: Sequence[UploadedFile], *, ephemeral: bool
    ) -> list[Attachment]:
        described = {str(a.get("id")): a for a in body.get("attachments") or []}
        out: list[Attachment] = []
        for index, upload in enumerate(files):
            meta = described.get(_index_of(upload.field, index), {})
            filename = str(meta.get("filename") or upload.filename)
            attachment = self.store_file(channel_id, filename, upload.data, upload.content_type)
            if meta.get("description"):
                attachment["description"] = str(meta["description"])
            if ephemeral:
                attachment["ephemeral"] = True
            out.append(attachment)
        return out

    def create_message(
        self,
        *,
        channel_id: int,
        guild_id: int | None,
        body: Mapping[str, Any],
        files: Sequence[UploadedFile],
        webhook: bool = False,
        interaction: InteractionRecord | None = None,
        extra_flags: int = 0,
        reply_to: StoredMessage | None = None,
        author: UserSpec | None = None,
    ) -> StoredMessage:
        flags = (
            int(body.get("flags") or 0) & (rules.FLAG_EPHEMERAL | rules.FLAG_SUPPRESS_EMBEDS)
        ) | extra_flags
        if interaction is None:
            flags &= ~rules.FLAG_EPHEMERAL
        ephemeral = bool(flags & rules.FLAG_EPHEMERAL)
        metadata = self._metadata(interaction) if interaction is not None else None
        message_id = self.ids.next()
        payload = payloads.message(
            message_id=message_id,
            channel_id=channel_id,
            guild_id=guild_id,
            author=author or self.bot,
            body=body,
            attachments=self._new_attachments(channel_id, body, files, ephemeral=ephemeral),
            flags=flags,
            webhook_id=self.application_id if webhook else None,
            interaction_metadata=metadata,
            message_type=_message_type(interaction, reply_to),
        )
        if reply_to is not None:
            reference: JSON = {
                "type": 0,
                "message_id": str(reply_to.id),
                "channel_id": str(reply_to.channel_id),
            }
            if guild_id is not None:
                reference["guild_id"] = str(guild_id)
            payload["message_reference"] = cast("Any", reference)
            payload["referenced_message"] = cast("Any", dict(reply_to.payload))
        stored = StoredMessage(
            message_id,
            channel_id,
            dict(payload),
            ephemeral=ephemeral,
            interaction_id=interaction.id if interaction else None,
        )
        self.messages[message_id] = stored
        return stored

    def _metadata(self, interaction: InteractionRecord) -> JSON:
        """A message's ``interaction_metadata``; a modal submit's names the interaction that opened it."""
        name = interaction.payload.get("data", {}).get("name")
        metadata = payloads.interaction_metadata(
            interaction.id,
            interaction.type,
            interaction.user,
            interaction.guild_id,
            name,
            interaction.source_message_id if interaction.type == 3 else None,
        )
        opener = self.interactions.get(interaction.opened_by) if interaction.opened_by else None
        if opener is not None:
            metadata["triggering_interaction_metadata"] = self._metadata(opener)
        return metadata

    def edit_message(
        self, message: StoredMessage, body: Mapping[str, Any], files: Sequence[UploadedFile]
    ) -> None:
        """Apply a PATCH: present fields replace, ``attachments`` lists what to keep, new files are added."""
        new = dict(message.payload)
        for key in ("content", "embeds", "components"):
            if key in body:
                value = body[key]
                if key == "embeds":
                    value = [payloads.normalise_embed(e) for e in value or []]
                elif key == "components":
                    value = payloads.numbered_components(value or [])
                new[key] = value if value is not None else ("" if key == "content" else [])
        flags = int(new.get("flags", 0)) & ~rules.FLAG_LOADING
        if body.get("flags") is not None:
            suppress = int(body["flags"]) & rules.FLAG_SUPPRESS_EMBEDS
            flags = (flags & ~rules.FLAG_SUPPRESS_EMBEDS) | suppress
        new["flags"] = flags
        current = list(message.attachments)
        if "attachments" in body:
            # API v10: the list names every attachment to keep, old ones by id and new uploads by index.
            listed = {str(a.get("id")) for a in body["attachments"] or []}
            current = [a for a in current if str(a["id"]) in listed]
            files = [f for i, f in enumerate(files) if _index_of(f.field, i) in listed]
        new["attachments"] = current + list(
            self._new_attachments(message.channel_id, body, files, ephemeral=message.ephemeral)
        )
        new["edited_timestamp"] = payloads.iso_time(self.clock.time())
        message.history.append(message.payload)
        message.payload = new

    def visible_message(self, channel_id: int, message_id: int) -> StoredMessage | None:
        """A non-ephemeral, undeleted message of the channel, as the channel routes see them."""
        message = self.messages.get(message_id)
        if message is None or message.deleted or message.ephemeral or message.channel_id != channel_id:
            return None
        return message

    # ---- interactions --------------------------------------------------------------------------------

    def interaction_by_token(self, token: str) -> InteractionRecord | None:
        return next((r for r in self.interactions.values() if secrets.compare_digest(r.token, token)), None)

    def token_expired(self, record: InteractionRecord, now: float) -> bool:
        return now - record.created_at > self.config.token_ttl_s


def _message_type(interaction: InteractionRecord | None, reply_to: StoredMessage | None) -> int:
    """20 answers a slash command, 19 is a reply, 0 anything else."""
    if interaction is not None and interaction.type == 2:
        return 20
    return 19 if reply_to is not None else 0


def _index_of(field_name: str, fallback: int) -> str:
    if field_name.startswith("files[") and field_name.endswith("]"):
        return field_name[len("files[") : -1]
    return str(fallback)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of an image, or None when Pillow cannot read it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None
