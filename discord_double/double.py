"""The DiscordDouble: one loopback server (REST, gateway, CDN) and the async API tests drive it with."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web
from discord import Permissions

from discord_double import callback_rules, payloads
from discord_double.cdn import Cdn
from discord_double.command_input import CommandInput
from discord_double.gateway import Gateway, GatewayEvent
from discord_double.ratelimits import RateLimiter, RateLimitRule
from discord_double.rest import RestApi
from discord_double.state import (
    AutoModRule,
    ChannelSpec,
    GuildSpec,
    InteractionRecord,
    LocalFile,
    Overwrite,
    RecordedRequest,
    RoleSpec,
    StoredMessage,
    UserSpec,
    new_token,
)
from discord_double.world import DoubleConfig, DoubleError, World

T = TypeVar("T")
JSON = dict[str, Any]
MAX_BODY = 512 * 1024 * 1024

GUILDS_INTENT = 1
AUTO_MODERATION_CONFIGURATION = 1 << 20


@dataclass
class InteractionHandle:
    """What a test holds after invoking a command or clicking: the interaction and the bot's answers."""

    double: DiscordDouble
    record: InteractionRecord

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def response_type(self) -> int | None:
        return self.record.response_type

    @property
    def original(self) -> StoredMessage | None:
        message_id = self.record.original_message_id
        return self.double.world.messages.get(message_id) if message_id is not None else None

    @property
    def choices(self) -> list[JSON] | None:
        """The choices the bot answered an autocomplete with (callback type 8), or None."""
        return self.record.choices

    @property
    def modal(self) -> JSON | None:
        """The modal the bot opened (callback type 9's ``data``), or None."""
        return self.record.modal

    @property
    def followups(self) -> list[StoredMessage]:
        return [self.double.world.messages[i] for i in self.record.followup_ids]

    @property
    def messages(self) -> list[StoredMessage]:
        """The original response (if any) and every followup, oldest first."""
        original = self.original
        return ([original] if original is not None else []) + self.followups

    def age(self, seconds: float) -> None:
        """Pretend ``seconds`` have passed for this interaction (its 3 s deadline and its token's life)."""
        self.record.created_at -= seconds

    async def wait_response(self, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        """Wait for the bot's first answer (the callback) and return its type."""
        return await self.double.wait_for(lambda: self.record.response_type, timeout)

    async def wait_original(
        self,
        predicate: Callable[[StoredMessage], bool] = lambda m: True,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> StoredMessage:
        """Wait until the original response exists and satisfies ``predicate``; return it."""

        def check() -> StoredMessage | None:
            original = self.original
            return original if original is not None and predicate(original) else None

        return await self.double.wait_for(check, timeout)


class DiscordDouble:
    """A local Discord for one bot: ``async with DiscordDouble() as discord: ...``."""

    def __init__(self, config: DoubleConfig | None = None) -> None:
        self.config = config or DoubleConfig()
        self.world = World(self.config)
        self.limiter = RateLimiter()
        if self.config.global_rate_limit_per_s is not None:
            self.set_global_rate_limit(self.config.global_rate_limit_per_s)
        self._changed = asyncio.Condition()
        self.gateway = Gateway(self.world, self._notify, lambda: self.gateway_url)
        self.rest = RestApi(
            self.world,
            self.limiter,
            self._notify,
            lambda: self.gateway_url,
            publish=self.gateway.dispatch_to_guild,
        )
        self.cdn = Cdn(self.world)
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ---- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.rest.handle)
        app.router.add_get("/gateway", self.gateway.handle)
        for prefix in ("/cdn", "/media"):
            app.router.add_get(
                prefix + "/attachments/{channel_id}/{attachment_id}/{filename}", self.cdn.handle
            )
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        server = site._server
        assert server is not None
        self._port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        self.world.base_url = self.base_url

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---- addresses and identities --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self._port}"

    @property
    def api_base(self) -> str:
        """The value for ``DISCORD_API_BASE``."""
        return self.base_url + "/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.config.host}:{self._port}/gateway"

    @property
    def token(self) -> str:
        return self.config.token

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot_user(self) -> UserSpec:
        return self.world.bot

    @property
    def guild(self) -> GuildSpec:
        return self.world.guild

    @property
    def channel(self) -> ChannelSpec:
        """The default channel commands are invoked in (``#animate``)."""
        return self.world.guild.channels[1]

    @property
    def member(self) -> UserSpec:
        """The default invoking member (not the owner, no roles)."""
        return self.world.guild.members[1]

    @property
    def owner(self) -> UserSpec:
        return self.world.owner

    def add_user(
        self, username: str, guild: GuildSpec | None = None, *, roles: Sequence[RoleSpec] = ()
    ) -> UserSpec:
        """A new member of ``guild`` (the default guild), holding ``roles``."""
        user = UserSpec(self.world.ids.next(), username, username.title())
        target = guild or self.guild
        target.members.append(user)
        if roles:
            self.assign_roles(user, *roles, guild=target)
        return user

    def add_role(self, name: str, permissions: int, guild: GuildSpec | None = None) -> RoleSpec:
        """A role of ``guild``; a connected bot gets GUILD_ROLE_CREATE (as it gets CHANNEL_CREATE for
        ``add_channel`` and CHANNEL_UPDATE for ``set_overwrite`` and ``deny_bot``)."""
        target = guild or self.guild
        role = RoleSpec(self.world.ids.next(), name, permissions, position=len(target.roles))
        target.roles.append(role)
        event = {"guild_id": str(target.id), "role": payloads.role(role)}
        self.gateway.queue_for_guild(target.id, "GUILD_ROLE_CREATE", event, GUILDS_INTENT)
        return role

    def assign_roles(self, user: UserSpec, *roles: RoleSpec, guild: GuildSpec | None = None) -> None:
        """Give a member roles of their guild (they keep them for every later interaction)."""
        target = guild or self.guild
        if all(m.id != user.id for m in target.members):
            raise DoubleError(f"{user.username} is not a member of {target.name}")
        held = target.member_roles.setdefault(user.id, [])
        for role in roles:
            if role not in target.roles:
                raise DoubleError(f"role {role.name} is not in {target.name}")
            if role.id not in held:
                held.append(role.id)

    def remove_roles(self, user: UserSpec, *roles: RoleSpec, guild: GuildSpec | None = None) -> None:
        target = guild or self.guild
        removed = {r.id for r in roles}
        target.member_roles[user.id] = [r for r in target.member_roles.get(user.id, []) if r not in removed]

    def roles_of(self, user: UserSpec, guild: GuildSpec | None = None) -> list[RoleSpec]:
        target = guild or self.guild
        held = target.member_roles.get(user.id, [])
        return [r for r in target.roles if r.id in held]

    def permissions_of(
        self, user: UserSpec, channel: ChannelSpec | None = None, guild: GuildSpec | None = None
    ) -> int:
        """A member's permissions as Discord computes them, in ``channel`` (with its overwrites) or
        guild-wide; the bot's too."""
        target = self._guild_of_channel(channel) if channel is not None else guild or self.guild
        if user.id == self.world.bot.id:
            return self.world.bot_permissions(target, channel)
        return self.world.member_permissions(target, user, target.member_roles.get(user.id, []), channel)

    def add_channel(self, name: str, guild: GuildSpec | None = None) -> ChannelSpec:
        target = guild or self.guild
        channel = ChannelSpec(self.world.ids.next(), name, position=len(target.channels))
        target.channels.append(channel)
        self._channel_event("CHANNEL_CREATE", channel)
        return channel

    def _channel_event(self, event: str, channel: ChannelSpec) -> None:
        guild = self._guild_of_channel(channel)
        data = payloads.channel(channel, guild.id, self.world.bot.id)
        self.gateway.queue_for_guild(guild.id, event, data, GUILDS_INTENT)

    def set_overwrite(
        self, channel: ChannelSpec, target: RoleSpec | UserSpec, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Set the channel's overwrite for a role (``@everyone`` is ``guild.everyone``) or a member,
        replacing any earlier one; ``allow``/``deny`` are permission bits (``Permissions(...).value``)."""
        kind = 0 if isinstance(target, RoleSpec) else 1
        channel.overwrites = [o for o in channel.overwrites if (o.id, o.type) != (target.id, kind)]
        channel.overwrites.append(Overwrite(target.id, kind, allow, deny))
        self._channel_event("CHANNEL_UPDATE", channel)

    def add_guild(
        self, name: str, channels: Sequence[str] = ("general", "animate"), *, shard: int | None = None
    ) -> GuildSpec:
        """Another guild the bot is in, with an owner and a member (a connected bot gets its GUILD_CREATE,
        as when it joins one); ``shard`` picks an id Discord routes to that shard of ``shard_count``."""
        placed = (shard, self.config.shard_count) if shard is not None else None
        guild = self.world.add_guild(name, channels, placed)
        joined = payloads.guild_create(guild, self.world.bot, self.world.bot_role_ids[guild.id])
        self.gateway.queue_for_guild(guild.id, "GUILD_CREATE", joined, GUILDS_INTENT)
        return guild

    @property
    def guilds(self) -> list[GuildSpec]:
        return list(self.world.guilds)

    @property
    def connected_shards(self) -> list[int]:
        """The shard ids that have a connected session now (a killed process's shards drop out)."""
        return sorted(shard for shard, session in self.gateway.by_shard.items() if session.live)

    def shard_of(self, guild: GuildSpec) -> int:
        """The shard this guild's events go to: ``(guild_id >> 22) % shard_count``."""
        return self.gateway.shard_of(guild.id)

    async def post_message(
        self, content: str, *, user: UserSpec | None = None, channel: ChannelSpec | None = None
    ) -> StoredMessage:
        """A member (not the bot) writes a message in a channel."""
        channel = channel or self.channel
        guild = self._guild_of_channel(channel)
        author = user or self.member
        message = self.world.create_message(
            channel_id=channel.id, guild_id=guild.id, body={"content": content}, files=(), author=author
        )
        await self._notify()
        return message

    def deleted(self, channel: ChannelSpec | None = None) -> list[StoredMessage]:
        """Messages deleted so far (by the bot over REST), oldest first, optionally one channel's."""
        return [m for m in self.messages(channel, include_deleted=True) if m.deleted]

    # ---- AutoMod ---------------------------------------------------------------------------------------

    async def add_automod_rule(
        self,
        name: str,
        *,
        keyword_filter: Sequence[str] = (),
        regex_patterns: Sequence[str] = (),
        allow_list: Sequence[str] = (),
        enabled: bool = True,
        exempt_roles: Sequence[RoleSpec] = (),
        exempt_channels: Sequence[ChannelSpec] = (),
        actions: Sequence[JSON] | None = None,
        guild: GuildSpec | None = None,
    ) -> AutoModRule:
        """A KEYWORD rule made by the guild's owner; AUTO_MODERATION_RULE_CREATE goes to the bot if it
        has the AUTO_MODERATION_CONFIGURATION intent."""
        target = guild or self.guild
        rule = AutoModRule(
            id=self.world.ids.next(),
            guild_id=target.id,
            name=name,
            creator_id=target.owner_id,
            keyword_filter=list(keyword_filter),
            regex_patterns=list(regex_patterns),
            allow_list=list(allow_list),
            enabled=enabled,
            exempt_roles=[r.id for r in exempt_roles],
            exempt_channels=[c.id for c in exempt_channels],
            actions=[dict(a) for a in actions] if actions is not None else [{"type": 1, "metadata": {}}],
        )
        self.world.automod_rules[rule.id] = rule
        await self._automod_event("AUTO_MODERATION_RULE_CREATE", rule)
        return rule

    async def update_automod_rule(self, rule: AutoModRule, **changes: Any) -> AutoModRule:
        """Change fields of a rule (``keyword_filter=[...]``, ``enabled=False``...); sends ..._UPDATE."""
        for key, value in changes.items():
            if not hasattr(rule, key) or key in ("id", "guild_id", "creator_id"):
                raise DoubleError(f"an AutoMod rule has no changeable field {key!r}")
            if key in ("exempt_roles", "exempt_channels"):
                value = [v.id for v in value]
            setattr(rule, key, value)
        await self._automod_event("AUTO_MODERATION_RULE_UPDATE", rule)
        return rule

    async def delete_automod_rule(self, rule: AutoModRule) -> None:
        if self.world.automod_rules.pop(rule.id, None) is None:
            raise DoubleError(f"no AutoMod rule {rule.id}")
        await self._automod_event("AUTO_MODERATION_RULE_DELETE", rule)

    async def _automod_event(self, event: str, rule: AutoModRule) -> None:
        await self.gateway.dispatch_to_guild(
            rule.guild_id, event, payloads.automod_rule(rule), AUTO_MODERATION_CONFIGURATION
        )
        await self._notify()

    # ---- rules a test can change ---------------------------------------------------------------------

    def set_rate_limit(
        self, route_key: str, limit: int | None, per_s: float = 1.0, *, shared: bool = False
    ) -> None:
        """Limit ``"PATCH /channels/{channel_id}/messages/{message_id}"`` (etc.); ``None`` removes it.
        ``shared`` makes its 429s say ``X-RateLimit-Scope: shared`` (a limit on the resource)."""
        rule = RateLimitRule(limit, per_s, "shared" if shared else "user") if limit is not None else None
        self.limiter.set_rule(route_key, rule)

    def set_global_rate_limit(self, limit: int | None, per_s: float = 1.0) -> None:
        """Limit all bot-token requests together (e.g. 50 per second); interaction routes are exempt.
        ``None`` (the default in tests) turns it off."""
        self.limiter.set_global(RateLimitRule(limit, per_s) if limit is not None else None)

    def inject(
        self,
        route_key: str,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests to ``route_key`` with ``status`` before any rule or handler
        looks at them (a 5xx with Discord's JSON body by default; a 429 without ``Via``, as Cloudflare
        sends, unless ``headers`` carries one). Each planted answer is recorded in :attr:`requests`."""
        if route_key not in self.rest.route_keys():
            raise DoubleError(f"the double has no route {route_key!r}")
        self.rest.faults.plant(route_key, status, body, dict(headers or {}), times)

    def expire_attachment(self, attachment_id: int | str) -> None:
        """Make the CDN answer 404 for this attachment, whatever its URL's signature says."""
        try:
            self.world.files[int(attachment_id)].expired = True
        except KeyError:
            raise DoubleError(f"no attachment {attachment_id} on the CDN") from None

    def advance_clock(self, seconds: float) -> None:
        """Move the double's wall clock forward: messages age, CDN links expire, new ids carry it."""
        self.world.clock.advance(seconds)

    def now(self) -> float:
        """The double's wall-clock time (Unix seconds)."""
        return self.world.clock.time()

    def deny_bot(self, channel: ChannelSpec, **permissions: bool) -> None:
        """Take permissions from the bot in one channel, e.g. ``deny_bot(ch, attach_files=True)``."""
        channel.bot_denied |= Permissions(**permissions).value
        self._channel_event("CHANNEL_UPDATE", channel)

    def set_upload_limit(self, size: int, guild: GuildSpec | None = None) -> None:
        """Set the per-file upload limit; GUILD_CREATE then says the matching boost tier (≥ 100 MiB: 3,
        ≥ 50 MiB: 2, else 0), so ``guild.filesize_limit`` in discord.py agrees on the next connection."""
        (guild or self.guild).upload_limit = size

    # ---- reading what happened -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self.world.requests)

    def requests_to(self, route_key: str) -> list[RecordedRequest]:
        """Requests whose ``"METHOD /template"`` equals ``route_key``."""
        return [r for r in self.world.requests if r.key == route_key]

    @property
    def unknown_requests(self) -> list[RecordedRequest]:
        """Requests to routes the double does not know (answered 404, or 405 for a known path with another
        method)."""
        return [r for r in self.world.requests if r.route == "<unknown>"]

    def messages(
        self, channel: ChannelSpec | int | None = None, *, include_deleted: bool = False
    ) -> list[StoredMessage]:
        """Every message (ephemeral ones too), oldest first, optionally only one channel's."""
        channel_id = channel.id if isinstance(channel, ChannelSpec) else channel
        return [
            m
            for m in sorted(self.world.messages.values(), key=lambda m: m.id)
            if (channel_id is None or m.channel_id == channel_id) and (include_deleted or not m.deleted)
        ]

    def message(self, message_id: int) -> StoredMessage:
        try:
            return self.world.messages[message_id]
        except KeyError:
            raise DoubleError(f"no message {message_id}") from None

    def attachment_bytes(self, attachment: Mapping[str, Any]) -> tuple[str, bytes]:
        """The filename and bytes the bot uploaded (or a test attached) for an attachment payload."""
        stored = self.world.file_of(attachment)
        return stored.filename, stored.data

    @property
    def gateway_log(self) -> list[GatewayEvent]:
        return list(self.gateway.log)

    def bot_ready(self, *, require_commands: bool = True) -> bool:
        """True once every shard identified and got its GUILD_CREATEs (one shard unless the bot shards),
        and (if asked) commands are registered."""
        return self.gateway.all_shards_ready() and (not require_commands or bool(self.world.commands.all()))

    # ---- waiting -------------------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def poke(self) -> None:
        """Make every ``wait_for`` re-check its predicate (for changes outside the double: a process exit)."""
        await self._notify()

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10.0) -> T:  # noqa: ASYNC109
        """Return the first truthy value of ``predicate``, re-checked on every request or state change."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result
        except TimeoutError:
            recent = ", ".join(f"{r.key}->{r.status}" for r in self.world.requests[-8:])
            raise TimeoutError(f"condition not met within {timeout}s; last requests: {recent}") from None

    # ---- acting as Discord's users -------------------------------------------------------------------

    async def drop_gateway(self, code: int = 4000) -> None:
        """Cut the bot's websocket; it should RESUME."""
        await self.gateway.drop(code)

    async def invoke_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        attachments: Mapping[str, LocalFile] | None = None,
        *,
        user: UserSpec | None = None,
        permissions: int | None = None,
        roles: Sequence[RoleSpec] | None = None,
        channel: ChannelSpec | None = None,
        locale: str = "en-US",
        force: bool = False,
    ) -> InteractionHandle:
        """Type a slash command (``"mod settings"`` for a subcommand, ``"mod words add"`` in a group) as a
        member would, and dispatch it. ``roles`` (if given) become the member's roles; ``permissions``
        overrides what the member is computed to hold. Discord's client does not offer a command whose
        ``default_member_permissions`` the member lacks, so that raises DoubleError; ``force=True`` sends
        it anyway (a forged or stale client), so the bot's own check can be tested."""
        channel = channel or self.channel
        user = user or self.member
        guild = self._guild_of_channel(channel)
        role_ids = self._member_roles(guild, user, roles)
        held = self._permissions(guild, user, role_ids, channel, permissions)
        command, data = self._command_data(
            name, {**(options or {}), **(attachments or {})}, guild, channel, user, role_ids, None
        )
        needed = command.get("default_member_permissions")
        if needed is not None and not force and not _grants(held, int(needed)):
            raise DoubleError(
                f"/{command['name']} needs permissions {needed} that {user.username} lacks "
                "(Discord's client hides it); pass force=True to send it anyway"
            )
        return await self._interact(2, data, user, held, role_ids, channel, locale, None)

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        focused: str,
        user: UserSpec | None = None,
        roles: Sequence[RoleSpec] | None = None,
        channel: ChannelSpec | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Type into the option ``focused`` of a command (``options[focused]`` is the text so far): an
        APPLICATION_COMMAND_AUTOCOMPLETE interaction; ``handle.choices`` holds the bot's answer."""
        if focused not in options:
            raise DoubleError(f"options must hold the focused option {focused!r}")
        channel = channel or self.channel
        user = user or self.member
        guild = self._guild_of_channel(channel)
        role_ids = self._member_roles(guild, user, roles)
        held = self._permissions(guild, user, role_ids, channel, None)
        _, data = self._command_data(name, options, guild, channel, user, role_ids, focused)
        return await self._interact(4, data, user, held, role_ids, channel, locale, None)

    async def submit_modal(
        self,
        opened: InteractionHandle,
        values: Mapping[str, str],
        *,
        user: UserSpec | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Fill in and submit the modal the bot opened in answer to ``opened`` (``values`` by text input
        ``custom_id``; prefilled values stand unless given). Discord only lets the member it was opened
        for submit it, once, with every required input filled and every length respected."""
        record = opened.record
        modal = record.modal
        if modal is None:
            raise DoubleError("the bot did not answer this interaction with a modal")
        submitter = user or record.user
        if submitter.id != record.user.id:
            raise DoubleError(f"the modal was opened for {record.user.username}, not {submitter.username}")
        if record.modal_submitted:
            raise DoubleError("this modal was already submitted (Discord closes it)")
        components = _modal_answers(modal, values)
        found = self.world.find_channel(record.channel_id)
        if found is None:
            raise DoubleError("the modal's channel is gone")
        guild, channel = found
        role_ids = guild.member_roles.get(submitter.id, [])
        held = self._permissions(guild, submitter, role_ids, channel, None)
        source = self.world.messages.get(record.source_message_id) if record.source_message_id else None
        record.modal_submitted = True
        data: JSON = {"custom_id": modal["custom_id"], "components": components}
        return await self._interact(5, data, submitter, held, role_ids, channel, locale, source, record.id)

    async def click(
        self,
        message: StoredMessage,
        custom_id: str,
        *,
        user: UserSpec | None = None,
        permissions: int | None = None,
        roles: Sequence[RoleSpec] | None = None,
        locale: str = "en-US",
        values: Sequence[str] | None = None,
        stale: bool = False,
        forged: bool = False,
    ) -> InteractionHandle:
        """Press the component ``custom_id`` on ``message`` (a button, or a select with ``values``).

        Discord's clients do not let anyone press a disabled component, so that raises DoubleError;
        ``stale=True`` plays a client still showing an older version of the message, where the
        component was enabled (or present at all), and sends the press anyway. ``forged=True`` sends a
        button press with a ``custom_id`` the message never carried (a tampered client)."""
        versions = [message.payload] + (list(reversed(message.history)) if stale else [])
        component = next(
            (
                c
                for version in versions
                for row in version.get("components") or []
                for c in row.get("components", [])
                if c.get("custom_id") == custom_id
            ),
            None,
        )
        if component is None and forged:
            component = {"type": 2, "custom_id": custom_id}
        if component is None:
            raise DoubleError(f"message {message.id} has no component {custom_id!r}")
        if component.get("disabled") and not stale:
            raise DoubleError(
                f"component {custom_id!r} of message {message.id} is disabled; "
                "pass stale=True to press it as a client showing an older version"
            )
        found = self.world.find_channel(message.channel_id)
        if found is None:
            raise DoubleError("the message is not in a known channel")
        data: JSON = {"custom_id": custom_id, "component_type": component.get("type", 2)}
        if values is not None:
            data["values"] = list(values)
        guild, channel = found
        user = user or self.member
        role_ids = self._member_roles(guild, user, roles)
        held = self._permissions(guild, user, role_ids, channel, permissions)
        return await self._interact(3, data, user, held, role_ids, channel, locale, message)

    def _guild_of_channel(self, channel: ChannelSpec) -> GuildSpec:
        found = self.world.find_channel(channel.id)
        if found is None:
            raise DoubleError(f"channel {channel.name} is in no guild")
        return found[0]

    def _member_roles(self, guild: GuildSpec, user: UserSpec, roles: Sequence[RoleSpec] | None) -> list[int]:
        """The member's role ids; ``roles``, when given, replace them (and stay for later interactions)."""
        if all(m.id != user.id for m in guild.members):
            guild.members.append(user)
        if roles is not None:
            guild.member_roles[user.id] = [r.id for r in roles]
        return list(guild.member_roles.get(user.id, []))

    def _permissions(
        self,
        guild: GuildSpec,
        user: UserSpec,
        role_ids: Sequence[int],
        channel: ChannelSpec,
        forced: int | None,
    ) -> int:
        if forced is not None:
            return forced
        return self.world.member_permissions(guild, user, role_ids, channel)

    def _command_data(
        self,
        name: str,
        values: Mapping[str, Any],
        guild: GuildSpec,
        channel: ChannelSpec,
        user: UserSpec,
        role_ids: Sequence[int],
        focused: str | None,
    ) -> tuple[JSON, JSON]:
        words = name.split()
        command = self.world.commands.find(words[0], guild.id)
        if command is None:
            raise DoubleError(f"command /{words[0]} is not registered")
        built = CommandInput(self.world, guild, channel, user, role_ids)
        option_list = built.options(command, words[1:], values, focused)
        data: JSON = {"id": command["id"], "name": command["name"], "type": 1, "options": option_list}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        if built.resolved:
            data["resolved"] = built.resolved
        return command, data

    async def _interact(
        self,
        kind: int,
        data: JSON,
        user: UserSpec,
        member_permissions: int,
        role_ids: Sequence[int],
        channel: ChannelSpec,
        locale: str,
        message: StoredMessage | None,
        opened_by: int | None = None,
    ) -> InteractionHandle:
        guild = self._guild_of_channel(channel)
        app_permissions = self.world.bot_permissions(guild, channel)
        channel_payload = payloads.channel(channel, guild.id, self.world.bot.id)
        channel_payload["permissions"] = str(member_permissions)
        interaction_id = self.world.ids.next()
        token = new_token()
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.world.application_id),
            "type": kind,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
            "channel_id": str(channel.id),
            "channel": channel_payload,
            "member": payloads.member(user, role_ids, permissions=member_permissions),
            "token": token,
            "version": 1,
            "app_permissions": str(app_permissions),
            "locale": locale,
            "guild_locale": guild.preferred_locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": guild.upload_limit,
        }
        if message is not None:
            payload["message"] = message.payload
        record = InteractionRecord(
            id=interaction_id,
            token=token,
            type=kind,
            guild_id=guild.id,
            channel_id=channel.id,
            user=user,
            created_at=time.monotonic(),
            payload=payload,
            source_message_id=message.id if message is not None else None,
            opened_by=opened_by,
        )
        self.world.interactions[interaction_id] = record
        if not await self.gateway.dispatch_to_guild(guild.id, "INTERACTION_CREATE", payload):
            raise RuntimeError(f"no gateway session for shard {self.gateway.shard_of(guild.id)}")
        return InteractionHandle(self, record)


def _grants(held: int, needed: int) -> bool:
    """Whether a member holding ``held`` may see a command with these ``default_member_permissions``
    (``0``: administrators only)."""
    if held & Permissions(administrator=True).value:
        return True
    return needed != 0 and held & needed == needed


def _modal_answers(modal: Mapping[str, Any], values: Mapping[str, str]) -> list[JSON]:
    """The MODAL_SUBMIT ``components``: the modal's layout with each text input's submitted value."""
    inputs = {str(item.get("custom_id")): item for item, _ in callback_rules.text_inputs(modal)}
    unknown = set(values) - set(inputs)
    if unknown:
        raise DoubleError(f"the modal has no text inputs {sorted(unknown)}")
    answers: dict[str, str] = {}
    for custom_id, item in inputs.items():
        value = values.get(custom_id, str(item.get("value") or ""))
        if item.get("required", True) and not value:
            raise DoubleError(f"text input {custom_id!r} is required")
        low, high = item.get("min_length"), item.get("max_length")
        if value and ((low is not None and len(value) < low) or (high is not None and len(value) > high)):
            raise DoubleError(f"text input {custom_id!r} takes {low}..{high} characters, not {len(value)}")
        answers[custom_id] = value

    def answered(item: Mapping[str, Any]) -> JSON:
        cid = str(item.get("custom_id"))
        return {"type": 4, "id": item.get("id"), "custom_id": cid, "value": answers[cid]}

    out: list[JSON] = []
    for row in payloads.numbered_components(list(modal.get("components") or [])):
        if row.get("type") == callback_rules.LABEL:
            out.append({"type": row["type"], "id": row["id"], "component": answered(row["component"])})
        else:
            out.append(
                {"type": row["type"], "id": row["id"], "components": [answered(c) for c in row["components"]]}
            )
    return out
