"""Discord's REST API as a slash-command bot uses it: routing, auth, rate limits, rules and recording."""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from discord import Permissions

from discord_double import payloads, recorder, rules
from discord_double.callback_rules import allowed_callbacks, choices_errors, modal_errors
from discord_double.command_rules import command_errors
from discord_double.edit_budget import OldMessageEditBudget
from discord_double.faults import FaultPlan
from discord_double.http_io import Body, Reply, read_body
from discord_double.ratelimits import RateLimiter
from discord_double.state import GuildSpec, InteractionRecord, RecordedRequest, StoredMessage, UploadedFile
from discord_double.world import World

JSON = dict[str, Any]
Auth = Literal["bot", "webhook"]
# A command's fields Discord keeps null when sent null; an explicit null for any other means its default.
NULLABLE_COMMAND_FIELDS = frozenset(
    {"default_member_permissions", "name_localizations", "description_localizations", "contexts"}
)


@dataclass(frozen=True)
class Call:
    """One parsed request handed to a route handler."""

    method: str
    params: dict[str, str]
    query: Mapping[str, str]
    body: Body

    @property
    def json(self) -> Any:
        return self.body.json


Handler = Callable[[Call], Awaitable[Reply]]
# Sends a guild's event to its shard's session if it asked for the intent: (guild, event, data, intent).
Publish = Callable[[int, str, Any, int], Awaitable[bool]]
GUILD_MESSAGES_INTENT = 1 << 9


@dataclass(frozen=True)
class RouteSpec:
    method: str
    template: str
    auth: Auth
    handler: Handler
    pattern: re.Pattern[str]

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


def _compile(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


def _error(status: int, code: int, message: str, errors: JSON | None = None) -> Reply:
    return Reply(status, rules.error_body(code, message, errors))


def _unknown_message() -> Reply:
    return _error(404, rules.UNKNOWN_MESSAGE, "Unknown Message")


def _unknown_channel() -> Reply:
    return _error(404, rules.UNKNOWN_CHANNEL, "Unknown Channel")


def _unknown_webhook() -> Reply:
    return _error(404, rules.UNKNOWN_WEBHOOK, "Unknown Webhook")


def _too_large() -> Reply:
    return _error(413, rules.REQUEST_TOO_LARGE, "Request entity too large")


def _missing_permissions() -> Reply:
    return _error(403, rules.MISSING_PERMISSIONS, "Missing Permissions")


def _invalid_form(errors: JSON) -> Reply:
    return Reply(400, rules.invalid_form_body(errors))


def _as_id(value: str) -> int | None:
    return int(value) if value.isdigit() else None


class RestApi:
    """Answers ``/api/v10/...``; every request, known or not, ends up in ``world.requests``."""

    def __init__(
        self,
        world: World,
        limiter: RateLimiter,
        on_change: Callable[[], Awaitable[None]],
        gateway_url: Callable[[], str],
        faults: FaultPlan | None = None,
        publish: Publish | None = None,
    ) -> None:
        self.world = world
        self._publish = publish
        self.limiter = limiter
        self.faults = faults or FaultPlan()
        self.old_edits = OldMessageEditBudget(
            world.config.old_message_edits_per_window, world.config.old_message_edit_window_s
        )
        self._on_change = on_change
        self._gateway_url = gateway_url
        self.routes = [RouteSpec(m, t, a, h, _compile(t)) for m, t, a, h in self._table()]

    def _table(self) -> list[tuple[str, str, Auth, Handler]]:
        return [
            ("GET", "/gateway", "webhook", self._gateway),
            ("GET", "/gateway/bot", "bot", self._gateway_bot),
            ("GET", "/users/@me", "bot", self._me),
            ("GET", "/users/{user_id}", "bot", self._get_user),
            ("GET", "/oauth2/applications/@me", "bot", self._app_info),
            ("GET", "/applications/@me", "bot", self._app_info),
            ("GET", "/applications/{application_id}/commands", "bot", self._get_commands),
            ("PUT", "/applications/{application_id}/commands", "bot", self._put_commands),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", "bot", self._get_commands),
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", "bot", self._put_commands),
            ("POST", "/interactions/{interaction_id}/{token}/callback", "webhook", self._callback),
            ("POST", "/webhooks/{application_id}/{token}", "webhook", self._followup),
            ("GET", "/webhooks/{application_id}/{token}/messages/{message_id}", "webhook", self._webhook_get),
            (
                "PATCH",
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                "webhook",
                self._webhook_edit,
            ),
            (
                "DELETE",
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                "webhook",
                self._webhook_del,
            ),
            ("POST", "/attachments/refresh-urls", "bot", self._refresh_urls),
            ("GET", "/channels/{channel_id}", "bot", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", "bot", self._list_messages),
            ("POST", "/channels/{channel_id}/messages", "bot", self._create_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", "bot", self._get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", "bot", self._edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", "bot", self._delete_message),
            ("GET", "/guilds/{guild_id}/auto-moderation/rules", "bot", self._automod_rules),
            ("GET", "/guilds/{guild_id}/auto-moderation/rules/{rule_id}", "bot", self._automod_rule),
        ]

    # ---- dispatch ------------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info.get("tail", "")
        body = await read_body(request)
        route, params = self._match(request.method, path)
        if route is None and self._path_known(path):
            reply = Reply(405, rules.error_body(0, "405: Method Not Allowed"))
        else:
            reply = await self._answer(request, route, params, body)
        self.world.requests.append(
            RecordedRequest(
                method=request.method,
                route=route.template if route else "<unknown>",
                path=path,
                query=dict(request.query),
                status=reply.status,
                json=body.json,
                files=body.files,
                time=time.monotonic(),
                response=reply.body,
                response_headers=dict(reply.headers),
            )
        )
        response = reply.to_response()
        recorder.record(
            recorder.RecordedAnswer(
                method=request.method,
                route=route.template if route else "<unknown>",
                status=reply.status,
                content_type=response.headers.get("Content-Type"),
                body=bytes(response.body) if isinstance(response.body, bytes | bytearray) else b"",
            )
        )
        await self._on_change()
        return response

    def _match(self, method: str, path: str) -> tuple[RouteSpec | None, dict[str, str]]:
        for route in self.routes:
            if route.method == method and (found := route.pattern.match(path)):
                return route, found.groupdict()
        return None, {}

    def _path_known(self, path: str) -> bool:
        return any(route.pattern.match(path) for route in self.routes)

    def route_keys(self) -> set[str]:
        return {route.key for route in self.routes}

    async def _answer(
        self, request: web.Request, route: RouteSpec | None, params: dict[str, str], body: Body
    ) -> Reply:
        if route is None:
            return Reply(404, rules.not_found_body())
        fault = self.faults.take(route.key)
        if fault is not None:
            return fault
        if route.auth == "bot" and not self._bot_authorised(request):
            return Reply(401, rules.unauthorized_body())
        if body.malformed:
            return _error(400, 50109, "The request body contains invalid JSON.")
        if route.auth == "bot":
            overall = self.limiter.check_global()
            if overall is not None and not overall.allowed:
                return Reply(429, overall.body(), overall.headers)
        verdict = self.limiter.check(route.key, self._major(params))
        if verdict is not None and not verdict.allowed:
            return Reply(429, verdict.body(), verdict.headers)
        reply = await route.handler(Call(request.method, params, request.query, body))
        if verdict is not None:
            reply.headers.update(verdict.headers)
        return reply

    def _bot_authorised(self, request: web.Request) -> bool:
        expected = f"Bot {self.world.config.token}"
        return secrets.compare_digest(request.headers.get("Authorization", ""), expected)

    @staticmethod
    def _major(params: Mapping[str, str]) -> str:
        for name in ("channel_id", "token", "guild_id", "application_id"):
            if name in params:
                return params[name]
        return ""

    # ---- discovery, identity, commands ---------------------------------------------------------------

    async def _gateway(self, call: Call) -> Reply:
        if call.params == {} and call.method == "GET":
            return Reply(200, payloads.gateway_bot(self._gateway_url()))
        return Reply(404, rules.not_found_body())

    async def _gateway_bot(self, call: Call) -> Reply:
        """``/gateway/bot``: the URL and the shard count Discord recommends (``DoubleConfig.shard_count``)."""
        return Reply(200, payloads.gateway_bot(self._gateway_url(), self.world.config.shard_count))

    async def _me(self, call: Call) -> Reply:
        return Reply(200, payloads.bot_user(self.world.bot))

    async def _get_user(self, call: Call) -> Reply:
        user_id = _as_id(call.params["user_id"])
        user = self.world.find_user(user_id) if user_id is not None else None
        if user is None:
            return _error(404, 10013, "Unknown User")
        return Reply(200, payloads.user(user))

    async def _app_info(self, call: Call) -> Reply:
        return Reply(
            200, payloads.application_info(self.world.application_id, self.world.bot, self.world.owner)
        )

    def _command_scope(self, call: Call) -> tuple[int | None, Reply | None]:
        if call.params["application_id"] != str(self.world.application_id):
            return None, _error(403, rules.MISSING_ACCESS, "Missing Access")
        if "guild_id" not in call.params:
            return None, None
        guild_id = _as_id(call.params["guild_id"])
        if guild_id is None or all(g.id != guild_id for g in self.world.guilds):
            return None, _error(403, rules.MISSING_ACCESS, "Missing Access")
        return guild_id, None

    async def _get_commands(self, call: Call) -> Reply:
        scope, problem = self._command_scope(call)
        return problem or Reply(200, self.world.commands.by_scope.get(scope, []))

    async def _put_commands(self, call: Call) -> Reply:
        scope, problem = self._command_scope(call)
        if problem:
            return problem
        if not isinstance(call.json, list):
            return _invalid_form(
                {
                    "_errors": [
                        {"code": "LIST_TYPE_CONVERT", "message": "Only iterables may be used in a ListType"}
                    ]
                }
            )
        errors = command_errors(call.json)
        if errors:
            return _invalid_form(errors)
        previous = {(c["name"], c.get("type", 1)): c for c in self.world.commands.by_scope.get(scope, [])}
        stored: list[JSON] = []
        for command in call.json:
            old = previous.get((command["name"], command.get("type", 1)))
            entry = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                "contexts": None,
                "integration_types": [0],
                **{k: v for k, v in command.items() if v is not None or k in NULLABLE_COMMAND_FIELDS},
                "id": old["id"] if old else str(self.world.ids.next()),
                "application_id": str(self.world.application_id),
                "version": str(self.world.ids.next()),
            }
            if entry["default_member_permissions"] is not None:
                entry["default_member_permissions"] = str(entry["default_member_permissions"])
            if scope is not None:
                entry["guild_id"] = str(scope)
            stored.append(entry)
        self.world.commands.by_scope[scope] = stored
        return Reply(200, stored)

    # ---- interactions --------------------------------------------------------------------------------

    def _guild_of(self, record: InteractionRecord) -> GuildSpec:
        return next(g for g in self.world.guilds if g.id == record.guild_id)

    def _answer_message(
        self,
        record: InteractionRecord,
        data: Mapping[str, Any],
        files: Sequence[UploadedFile],
        *,
        extra_flags: int = 0,
    ) -> StoredMessage:
        """A message the bot posts as its answer to an interaction (through the interaction webhook)."""
        return self.world.create_message(
            channel_id=record.channel_id,
            guild_id=record.guild_id,
            body=data,
            files=files,
            webhook=True,
            interaction=record,
            extra_flags=extra_flags,
        )

    def _check_message_body(self, body: Body, guild: GuildSpec, data: Any, nest: str | None) -> Reply | None:
        if not isinstance(data, dict):
            return None
        errors = rules.message_errors(data)
        if errors:
            return _invalid_form({nest: errors} if nest else errors)
        if self.world.oversized(guild, body.files):
            return _too_large()
        return None

    async def _callback(self, call: Call) -> Reply:
        interaction_id = _as_id(call.params["interaction_id"])
        record = self.world.interactions.get(interaction_id) if interaction_id is not None else None
        if record is None or not secrets.compare_digest(record.token, call.params["token"]):
            return _error(404, rules.UNKNOWN_INTERACTION, "Unknown interaction")
        if record.response_type is not None:
            return _error(400, rules.ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
        if time.monotonic() - record.created_at > self.world.config.response_deadline_s:
            return _error(404, rules.UNKNOWN_INTERACTION, "Unknown interaction")
        request = call.json if isinstance(call.json, dict) else {}
        kind = request.get("type")
        data = request.get("data") or {}
        guild = self._guild_of(record)
        allowed = allowed_callbacks(record.type, from_message=record.source_message_id is not None)
        if kind not in allowed:
            listed = ", ".join(str(k) for k in sorted(allowed))
            return _invalid_form(
                {
                    "type": {
                        "_errors": [
                            {"code": "BASE_TYPE_CHOICES", "message": f"Value must be one of {{{listed}}}."}
                        ]
                    }
                }
            )
        extra_errors = modal_errors(data) if kind == 9 else choices_errors(data) if kind == 8 else {}
        if extra_errors:
            return _invalid_form({"data": extra_errors})
        problem = self._check_message_body(call.body, guild, data, "data") if kind in (4, 7) else None
        if problem:
            return problem
        message: StoredMessage | None = None
        if kind == 4:
            if rules.is_empty_message(data, len(call.body.files)):
                return _error(400, rules.CANNOT_SEND_EMPTY_MESSAGE, "Cannot send an empty message")
            message = self._answer_message(record, data, call.body.files)
        elif kind == 5:
            ephemeral = int(data.get("flags") or 0) & rules.FLAG_EPHEMERAL
            message = self._answer_message(record, {}, (), extra_flags=rules.FLAG_LOADING | ephemeral)
        elif kind in (6, 7) and record.source_message_id is not None:
            message = self.world.messages[record.source_message_id]
            if kind == 7:
                self.world.edit_message(message, data, call.body.files)
        elif kind == 9:
            record.modal = data
        elif kind == 8:
            record.choices = list(data["choices"])
        record.response_type = kind
        record.responded_at = time.monotonic()
        if message is not None:
            record.original_message_id = message.id
        if call.query.get("with_response") not in ("1", "true", "True"):
            return Reply(204)
        return Reply(200, _callback_answer(record, kind, message))

    def _webhook_record(self, call: Call) -> tuple[InteractionRecord | None, Reply | None]:
        record = self.world.interaction_by_token(call.params["token"])
        if record is None or call.params["application_id"] != str(self.world.application_id):
            return None, _unknown_webhook()
        if self.world.token_expired(record, time.monotonic()):
            return None, _error(401, rules.INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
        if record.response_type is None:
            return None, _unknown_webhook()
        return record, None

    def _webhook_message(self, record: InteractionRecord, message_id: str) -> StoredMessage | None:
        if message_id == "@original":
            target = record.original_message_id
        else:
            target = _as_id(message_id)
            if target not in record.followup_ids and target != record.original_message_id:
                target = None
        message = self.world.messages.get(target) if target is not None else None
        return None if message is None or message.deleted else message

    async def _followup(self, call: Call) -> Reply:
        record, problem = self._webhook_record(call)
        if record is None:
            return problem or _unknown_webhook()
        data = call.json if isinstance(call.json, dict) else {}
        problem = self._check_message_body(call.body, self._guild_of(record), data, None)
        if problem:
            return problem
        if rules.is_empty_message(data, len(call.body.files)):
            return _error(400, rules.CANNOT_SEND_EMPTY_MESSAGE, "Cannot send an empty message")
        if record.response_type == 5 and record.original_message_id is not None:
            original = self.world.messages[record.original_message_id]
            if original.flags & rules.FLAG_LOADING:
                # Discord fills a still-loading deferred answer with the first followup.
                self.world.edit_message(original, data, call.body.files)
                return Reply(200, original.payload)
        message = self._answer_message(record, data, call.body.files)
        record.followup_ids.append(message.id)
        return Reply(200, message.payload)

    async def _webhook_get(self, call: Call) -> Reply:
        record, problem = self._webhook_record(call)
        if record is None:
            return problem or _unknown_webhook()
        message = self._webhook_message(record, call.params["message_id"])
        return Reply(200, message.payload) if message else _unknown_message()

    async def _webhook_edit(self, call: Call) -> Reply:
        record, problem = self._webhook_record(call)
        if record is None:
            return problem or _unknown_webhook()
        message = self._webhook_message(record, call.params["message_id"])
        if message is None:
            return _unknown_message()
        data = call.json if isinstance(call.json, dict) else {}
        problem = self._check_message_body(call.body, self._guild_of(record), data, None)
        if problem:
            return problem
        self.world.edit_message(message, data, call.body.files)
        return Reply(200, message.payload)

    async def _webhook_del(self, call: Call) -> Reply:
        record, problem = self._webhook_record(call)
        if record is None:
            return problem or _unknown_webhook()
        message = self._webhook_message(record, call.params["message_id"])
        if message is None:
            return _unknown_message()
        await self._deleted(message, record.guild_id)
        return Reply(204)

    # ---- attachments ---------------------------------------------------------------------------------

    async def _refresh_urls(self, call: Call) -> Reply:
        """Discord's (undocumented, bot-usable) refresh of signed attachment URLs."""
        urls = call.json.get("attachment_urls") if isinstance(call.json, dict) else None
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            return _invalid_form(
                {
                    "attachment_urls": {
                        "_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]
                    }
                }
            )
        refreshed = [{"original": url, "refreshed": self.world.refreshed_url(url)} for url in urls]
        return Reply(200, {"refreshed_urls": refreshed})

    # ---- channels ------------------------------------------------------------------------------------

    def _channel_access(self, call: Call, needed: int) -> tuple[GuildSpec | None, Reply | None]:
        channel_id = _as_id(call.params["channel_id"])
        found = self.world.find_channel(channel_id) if channel_id is not None else None
        if found is None:
            return None, _unknown_channel()
        guild, channel = found
        granted = self.world.bot_permissions(guild, channel)
        if not granted & Permissions(view_channel=True).value:
            return None, _error(403, rules.MISSING_ACCESS, "Missing Access")
        if needed & ~granted:
            return None, _missing_permissions()
        return guild, None

    async def _get_channel(self, call: Call) -> Reply:
        guild, problem = self._channel_access(call, 0)
        if guild is None:
            return problem or _unknown_channel()
        channel = guild.channel(int(call.params["channel_id"]))
        assert channel is not None
        return Reply(200, payloads.channel(channel, guild.id, self.world.bot.id))

    async def _list_messages(self, call: Call) -> Reply:
        guild, problem = self._channel_access(call, 0)
        if guild is None:
            return problem or _unknown_channel()
        channel_id = int(call.params["channel_id"])
        channel = guild.channel(channel_id)
        if not self.world.bot_permissions(guild, channel) & Permissions(read_message_history=True).value:
            return Reply(200, [])  # Discord shows no history rather than refusing
        limit = min(int(call.query.get("limit", "50")), 100)
        visible = [m for m in self.world.messages.values() if self.world.visible_message(channel_id, m.id)]
        visible.sort(key=lambda m: m.id, reverse=True)
        return Reply(200, [m.payload for m in visible[:limit]])

    async def _create_message(self, call: Call) -> Reply:
        data = call.json if isinstance(call.json, dict) else {}
        needed = Permissions(send_messages=True).value
        if call.body.files:
            needed |= Permissions(attach_files=True).value
        guild, problem = self._channel_access(call, needed)
        if guild is None:
            return problem or _unknown_channel()
        problem = self._check_message_body(call.body, guild, data, None)
        if problem:
            return problem
        if rules.is_empty_message(data, len(call.body.files)):
            return _error(400, rules.CANNOT_SEND_EMPTY_MESSAGE, "Cannot send an empty message")
        channel_id = int(call.params["channel_id"])
        replied, problem = self._replied_message(guild, channel_id, data.get("message_reference"))
        if problem:
            return problem
        message = self.world.create_message(
            channel_id=channel_id, guild_id=guild.id, body=data, files=call.body.files, reply_to=replied
        )
        return Reply(200, message.payload)

    def _replied_message(
        self, guild: GuildSpec, channel_id: int, reference: Any
    ) -> tuple[StoredMessage | None, Reply | None]:
        """The message a reply points at: it needs Read Message History and (unless
        ``fail_if_not_exists`` is false) a message that exists."""
        if not isinstance(reference, dict) or reference.get("message_id") is None:
            return None, None
        permitted = self.world.bot_permissions(guild, guild.channel(channel_id))
        if not permitted & Permissions(read_message_history=True).value:
            return None, _missing_permissions()
        target_channel = _as_id(str(reference.get("channel_id", channel_id)))
        target_id = _as_id(str(reference["message_id"]))
        found = (
            self.world.visible_message(target_channel, target_id)
            if target_channel is not None and target_id is not None
            else None
        )
        if found is None and reference.get("fail_if_not_exists", True) is not False:
            errors = {"_errors": [{"code": "REPLIES_UNKNOWN_MESSAGE", "message": "Unknown message"}]}
            return None, _invalid_form({"message_reference": errors})
        return found, None

    def _channel_message(
        self, call: Call, needed: int
    ) -> tuple[GuildSpec | None, StoredMessage | None, Reply]:
        guild, problem = self._channel_access(call, needed)
        if guild is None:
            return None, None, problem or _unknown_channel()
        message_id = _as_id(call.params["message_id"])
        message = (
            self.world.visible_message(int(call.params["channel_id"]), message_id)
            if message_id is not None
            else None
        )
        return guild, message, _unknown_message()

    async def _get_message(self, call: Call) -> Reply:
        _, message, problem = self._channel_message(call, Permissions(read_message_history=True).value)
        return Reply(200, message.payload) if message else problem

    async def _edit_message(self, call: Call) -> Reply:
        needed = Permissions(attach_files=True).value if call.body.files else 0
        guild, message, problem = self._channel_message(call, needed)
        if guild is None or message is None:
            return problem
        if message.payload["author"]["id"] != str(self.world.bot.id):
            return _error(
                403, rules.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user"
            )
        data = call.json if isinstance(call.json, dict) else {}
        problem_reply = self._check_message_body(call.body, guild, data, None)
        if problem_reply:
            return problem_reply
        wait = self.old_edits.spend(message.channel_id, message.id, self.world.clock.time())
        if wait is not None:
            return Reply(429, rules.old_message_edits_body(wait), {"Retry-After": str(math.ceil(wait))})
        self.world.edit_message(message, data, call.body.files)
        return Reply(200, message.payload)

    async def _delete_message(self, call: Call) -> Reply:
        """The bot may delete its own messages; anyone else's needs Manage Messages in the channel."""
        guild, message, problem = self._channel_message(call, 0)
        if guild is None or message is None:
            return problem
        if message.payload["author"]["id"] != str(self.world.bot.id):
            channel = guild.channel(message.channel_id)
            granted = self.world.bot_permissions(guild, channel)
            if not granted & Permissions(manage_messages=True).value:
                return _missing_permissions()
        await self._deleted(message, guild.id)
        return Reply(204)

    async def _deleted(self, message: StoredMessage, guild_id: int) -> None:
        message.deleted = True
        if message.ephemeral or self._publish is None:
            return
        event = {"id": str(message.id), "channel_id": str(message.channel_id), "guild_id": str(guild_id)}
        await self._publish(guild_id, "MESSAGE_DELETE", event, GUILD_MESSAGES_INTENT)

    # ---- auto moderation -----------------------------------------------------------------------------

    def _automod_guild(self, call: Call) -> tuple[GuildSpec | None, Reply | None]:
        """The guild whose rules are asked for; reading them needs Manage Server."""
        guild_id = _as_id(call.params["guild_id"])
        guild = self.world.guild_of(guild_id) if guild_id is not None else None
        if guild is None:
            return None, _error(404, rules.UNKNOWN_GUILD, "Unknown Guild")
        if not self.world.bot_permissions(guild, None) & Permissions(manage_guild=True).value:
            return None, _missing_permissions()
        return guild, None

    async def _automod_rules(self, call: Call) -> Reply:
        guild, problem = self._automod_guild(call)
        if guild is None:
            return problem or _missing_permissions()
        found = [r for r in self.world.automod_rules.values() if r.guild_id == guild.id]
        return Reply(200, [payloads.automod_rule(r) for r in found])

    async def _automod_rule(self, call: Call) -> Reply:
        guild, problem = self._automod_guild(call)
        if guild is None:
            return problem or _missing_permissions()
        rule_id = _as_id(call.params["rule_id"])
        rule = self.world.automod_rules.get(rule_id) if rule_id is not None else None
        if rule is None or rule.guild_id != guild.id:
            # Discord documents no JSON code for an unknown rule; a plain 404 says what a caller can rely on.
            return Reply(404, rules.not_found_body())
        return Reply(200, payloads.automod_rule(rule))


def _callback_answer(record: InteractionRecord, kind: int, message: StoredMessage | None) -> JSON:
    """The ``with_response`` answer: ``resource`` only for the types that make or update a message
    (4 and 7), as Discord's spec has it; a deferral (5) still names its loading message."""
    interaction: JSON = {"id": str(record.id), "type": record.type}
    answer: JSON = {"interaction": interaction}
    if message is not None and kind in (4, 5, 7):
        interaction["response_message_id"] = str(message.id)
        interaction["response_message_loading"] = bool(message.flags & rules.FLAG_LOADING)
        interaction["response_message_ephemeral"] = message.ephemeral
    if message is not None and kind in (4, 7):
        answer["resource"] = {"type": kind, "message": message.payload}
    return answer
