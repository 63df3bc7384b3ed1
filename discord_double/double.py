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

from discord_double import payloads
from discord_double.cdn import Cdn
from discord_double.gateway import Gateway, GatewayEvent
from discord_double.ratelimits import RateLimiter, RateLimitRule
from discord_double.rest import RestApi
from discord_double.state import (
    ChannelSpec,
    GuildSpec,
    InteractionRecord,
    LocalFile,
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

OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP, OPTION_USER, OPTION_ATTACHMENT = 1, 2, 6, 11


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
        self.rest = RestApi(self.world, self.limiter, self._notify, lambda: self.gateway_url)
        self.gateway = Gateway(self.world, self._notify, lambda: self.gateway_url)
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

    def add_user(self, username: str, guild: GuildSpec | None = None) -> UserSpec:
        user = UserSpec(self.world.ids.next(), username, username.title())
        (guild or self.guild).members.append(user)
        return user

    def add_role(self, name: str, permissions: int, guild: GuildSpec | None = None) -> RoleSpec:
        target = guild or self.guild
        role = RoleSpec(self.world.ids.next(), name, permissions, position=len(target.roles))
        target.roles.append(role)
        return role

    def add_channel(self, name: str, guild: GuildSpec | None = None) -> ChannelSpec:
        target = guild or self.guild
        channel = ChannelSpec(self.world.ids.next(), name, position=len(target.channels))
        target.channels.append(channel)
        return channel

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
        """True once the bot identified, got every GUILD_CREATE, and (if asked) has commands registered."""
        session = self.gateway.current
        connected = session is not None and session.guilds_sent and self.gateway.connected
        return connected and (not require_commands or bool(self.world.commands.all()))

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
        roles: Sequence[RoleSpec] = (),
        channel: ChannelSpec | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Type a slash command (``"queue list"`` for a subcommand) as a member would, and dispatch it."""
        channel = channel or self.channel
        guild = self._guild_of_channel(channel)
        words = name.split()
        command = self.world.commands.find(words[0], guild.id)
        if command is None:
            raise DoubleError(f"command /{words[0]} is not registered")
        values = {**(options or {}), **(attachments or {})}
        resolved: JSON = {}
        option_list = self._command_options(command, words[1:], values, channel, guild, resolved)
        data: JSON = {"id": command["id"], "name": command["name"], "type": 1, "options": option_list}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return await self._interact(2, data, user or self.member, permissions, roles, channel, locale, None)

    async def click(
        self,
        message: StoredMessage,
        custom_id: str,
        *,
        user: UserSpec | None = None,
        permissions: int | None = None,
        roles: Sequence[RoleSpec] = (),
        locale: str = "en-US",
        values: Sequence[str] | None = None,
        stale: bool = False,
    ) -> InteractionHandle:
        """Press the component ``custom_id`` on ``message`` (a button, or a select with ``values``).

        Discord's clients do not let anyone press a disabled component, so that raises DoubleError;
        ``stale=True`` plays a client still showing an older version of the message, where the
        component was enabled (or present at all), and sends the press anyway."""
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
        return await self._interact(
            3, data, user or self.member, permissions, roles, found[1], locale, message
        )

    def _guild_of_channel(self, channel: ChannelSpec) -> GuildSpec:
        found = self.world.find_channel(channel.id)
        if found is None:
            raise DoubleError(f"channel {channel.name} is in no guild")
        return found[0]

    def _command_options(
        self,
        definition: Mapping[str, Any],
        path: Sequence[str],
        values: Mapping[str, Any],
        channel: ChannelSpec,
        guild: GuildSpec,
        resolved: JSON,
    ) -> list[JSON]:
        declared = {o["name"]: o for o in definition.get("options") or []}
        if path:
            sub = declared.get(path[0])
            if sub is None or sub.get("type") not in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP):
                raise DoubleError(f"no subcommand {path[0]!r}")
            inner = self._command_options(sub, path[1:], values, channel, guild, resolved)
            return [{"name": sub["name"], "type": sub["type"], "options": inner}]
        out: list[JSON] = []
        for option_name, value in values.items():
            option = declared.get(option_name)
            if option is None:
                raise DoubleError(f"/{definition['name']} has no option {option_name!r}")
            kind = int(option["type"])
            if kind == OPTION_ATTACHMENT:
                if not isinstance(value, LocalFile):
                    raise DoubleError(f"option {option_name!r} needs a LocalFile")
                attachment = self.world.store_file(channel.id, value.filename, value.data, value.content_type)
                attachment["ephemeral"] = True
                resolved.setdefault("attachments", {})[attachment["id"]] = attachment
                value = attachment["id"]
            elif kind == OPTION_USER:
                target: UserSpec = value
                resolved.setdefault("users", {})[str(target.id)] = payloads.user(target)
                member = payloads.member(target, guild.member_roles.get(target.id, []))
                member.pop("user")
                resolved.setdefault("members", {})[str(target.id)] = member
                value = str(target.id)
            out.append({"name": option_name, "type": kind, "value": value})
        return out

    async def _interact(
        self,
        kind: int,
        data: JSON,
        user: UserSpec,
        permissions: int | None,
        roles: Sequence[RoleSpec],
        channel: ChannelSpec,
        locale: str,
        message: StoredMessage | None,
    ) -> InteractionHandle:
        guild = self._guild_of_channel(channel)
        role_ids = [r.id for r in roles]
        guild.member_roles[user.id] = role_ids
        if all(m.id != user.id for m in guild.members):
            guild.members.append(user)
        member_permissions = (
            permissions if permissions is not None else self.world.member_permissions(guild, user, role_ids)
        )
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
        )
        self.world.interactions[interaction_id] = record
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return InteractionHandle(self, record)
