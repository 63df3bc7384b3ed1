"""Discord's gateway over an aiohttp websocket: HELLO, IDENTIFY/READY, heartbeats, dispatch and RESUME."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from discord import Intents

from discord_double import payloads
from discord_double.world import World

JSON = dict[str, Any]

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    0,
    1,
    2,
    6,
    7,
    9,
    10,
    11,
)
CLOSE_UNKNOWN_ERROR = 4000
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011
CLOSE_DISALLOWED_INTENTS = 4014
PRIVILEGED_INTENTS = Intents(members=True, presences=True, message_content=True).value


@dataclass(frozen=True)
class GatewayEvent:
    """One frame, either way: ``direction`` is ``"in"`` (from the bot) or ``"out"``."""

    direction: str
    op: int
    event: str | None
    time: float
    data: Any = None


@dataclass
class Session:
    """A gateway session: its sequence, every dispatch sent (for replay), and its socket if connected."""

    id: str
    intents: int
    seq: int = 0
    sent: list[JSON] = field(default_factory=list)
    socket: web.WebSocketResponse | None = None
    guilds_sent: bool = False
    resumes: int = 0
    shard: tuple[int, int] = (0, 1)

    @property
    def live(self) -> bool:
        return self.socket is not None and not self.socket.closed


class Gateway:
    """Serves ``/gateway``; holds sessions so a dropped connection can RESUME and get what it missed."""

    def __init__(self, world: World, on_change: Callable[[], Awaitable[None]], resume_url: Callable[[], str]):
        self.world = world
        self._on_change = on_change
        self._resume_url = resume_url
        self.sessions: dict[str, Session] = {}
        self.current: Session | None = None
        self.by_shard: dict[int, Session] = {}
        self._queued: list[tuple[int, str, Any, int]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.log: list[GatewayEvent] = []
        self.identify_count = 0
        self.sockets: set[web.WebSocketResponse] = set()

    # ---- the test-facing side ------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.current is not None and self.current.socket is not None and not self.current.socket.closed

    async def dispatch(self, event: str, data: Any) -> None:
        """Send a DISPATCH to the current session (kept for replay if it is disconnected right now)."""
        if self.current is None:
            raise RuntimeError("no gateway session: the bot has not identified")
        await self._dispatch(self.current, event, data)

    def shard_of(self, guild_id: int) -> int:
        """The shard Discord sends a guild's events to, by the shard count the bot identified with."""
        count = self.current.shard[1] if self.current is not None else self.world.config.shard_count
        return (guild_id >> 22) % count

    def session_for(self, guild_id: int) -> Session | None:
        """The session that gets this guild's events: the latest to identify (or resume) on its shard."""
        return self.by_shard.get(self.shard_of(guild_id))

    def queue_for_guild(self, guild_id: int, event: str, data: Any, intent: int = 0) -> None:
        """Send a guild's event from synchronous code: it goes out before any later dispatch (or soon)."""
        if not self.by_shard:
            return
        self._queued.append((guild_id, event, data, intent))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop running: the next dispatch sends it first
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())

    async def _flush(self) -> None:
        while self._queued:
            guild_id, event, data, intent = self._queued.pop(0)
            await self._send_to_guild(guild_id, event, data, intent)

    async def dispatch_to_guild(self, guild_id: int, event: str, data: Any, intent: int = 0) -> bool:
        """Send a guild's event to its shard's session, if that session asked for ``intent``; say if sent."""
        await self._flush()
        return await self._send_to_guild(guild_id, event, data, intent)

    async def _send_to_guild(self, guild_id: int, event: str, data: Any, intent: int) -> bool:
        session = self.session_for(guild_id)
        if session is None or (intent and not session.intents & intent):
            return False
        await self._dispatch(session, event, data)
        return True

    def all_shards_ready(self) -> bool:
        """Every shard of the count the bot identified with has a connected session with its guilds."""
        if self.current is None:
            return False
        count = self.current.shard[1]
        sessions = [self.by_shard.get(shard) for shard in range(count)]
        return all(s is not None and s.live and s.guilds_sent and s.shard[1] == count for s in sessions)

    async def drop(self, code: int = CLOSE_UNKNOWN_ERROR) -> None:
        """Close the current connection as a network failure would (the session stays resumable)."""
        if self.current is not None and self.current.socket is not None:
            socket, self.current.socket = self.current.socket, None
            await socket.close(code=code)
        await self._on_change()

    async def request_heartbeat(self) -> None:
        """Ask the connected bot for a heartbeat now (op 1); its answer carries the last sequence it saw."""
        if self.current is not None and self.current.socket is not None:
            await self._send(self.current.socket, {"op": HEARTBEAT, "d": None, "s": None, "t": None})

    async def invalidate(self) -> None:
        """Forget every session and cut the connection: the bot's RESUME gets INVALID_SESSION."""
        current, self.current = self.current, None
        self.sessions.clear()
        self.by_shard.clear()
        if current is not None and current.socket is not None:
            socket, current.socket = current.socket, None
            await socket.close(code=CLOSE_UNKNOWN_ERROR)
        await self._on_change()

    async def close_all(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        for socket in list(self.sockets):
            await socket.close(code=1001)

    # ---- the websocket -------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await socket.prepare(request)
        self.sockets.add(socket)
        try:
            await self._send(
                socket,
                {
                    "op": HELLO,
                    "d": {"heartbeat_interval": self.world.config.heartbeat_interval_ms},
                    "s": None,
                    "t": None,
                },
            )
            await self._serve(socket)
        finally:
            self.sockets.discard(socket)
            for session in self.sessions.values():
                if session.socket is socket:
                    session.socket = None
            await self._on_change()
        return socket

    async def _serve(self, socket: web.WebSocketResponse) -> None:
        session: Session | None = None
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                if frame.type is WSMsgType.BINARY:
                    await socket.close(code=CLOSE_DECODE_ERROR)
                break
            try:
                message = json.loads(frame.data)
                op = int(message["op"])
            except (ValueError, KeyError, TypeError):
                await socket.close(code=CLOSE_DECODE_ERROR)
                break
            self.log.append(GatewayEvent("in", op, None, time.monotonic(), _redacted(message.get("d"))))
            if op == HEARTBEAT:
                await self._send(socket, {"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            elif op == IDENTIFY:
                if session is not None:
                    await socket.close(code=CLOSE_ALREADY_AUTHENTICATED)
                    break
                session = await self._identify(socket, message.get("d") or {})
            elif op == RESUME:
                session = await self._resume(socket, message.get("d") or {})
            elif session is None:
                await socket.close(code=CLOSE_NOT_AUTHENTICATED)
                break
            await self._on_change()
            if socket.closed:
                break

    def _token_ok(self, token: object) -> bool:
        expected = self.world.config.token
        return isinstance(token, str) and secrets.compare_digest(token.removeprefix("Bot "), expected)

    async def _identify(self, socket: web.WebSocketResponse, data: JSON) -> Session | None:
        if not self._token_ok(data.get("token")):
            await socket.close(code=CLOSE_AUTHENTICATION_FAILED)
            return None
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS and not self.world.config.privileged_intents_allowed:
            await socket.close(code=CLOSE_DISALLOWED_INTENTS)
            return None
        shard = _shard(data.get("shard", [0, 1]))
        if shard is None:
            await socket.close(code=CLOSE_INVALID_SHARD)
            return None
        world = self.world
        guilds = [g for g in world.guilds if (g.id >> 22) % shard[1] == shard[0]]
        if len(guilds) > world.config.max_guilds_per_shard:
            await socket.close(code=CLOSE_SHARDING_REQUIRED)
            return None
        self.identify_count += 1
        session = Session(secrets.token_hex(16), intents, socket=socket, shard=shard)
        self.sessions[session.id] = session
        self.current = session
        self.by_shard[shard[0]] = session
        ready = payloads.ready(
            world.bot, world.application_id, [g.id for g in guilds], session.id, self._resume_url(), shard
        )
        await self._dispatch(session, "READY", ready)
        if intents & Intents(guilds=True).value:
            for guild in guilds:
                guild_payload = payloads.guild_create(
                    guild,
                    world.bot,
                    world.bot_role_ids[guild.id],
                    with_members=bool(intents & Intents(members=True).value),
                )
                await self._dispatch(session, "GUILD_CREATE", guild_payload)
        session.guilds_sent = True
        return session

    async def _resume(self, socket: web.WebSocketResponse, data: JSON) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or not self._token_ok(data.get("token")):
            await self._send(socket, {"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return None
        old = session.socket
        session.socket = socket
        if old is not None and old is not socket and not old.closed:
            await old.close(code=CLOSE_UNKNOWN_ERROR)
        session.resumes += 1
        self.current = session
        self.by_shard[session.shard[0]] = session
        last_seen = int(data.get("seq") or 0)
        for frame in session.sent:
            if frame["s"] > last_seen:
                await self._send(socket, frame)
        await self._dispatch(session, "RESUMED", {"_trace": ['["discord-double",{"micros":0}]']})
        return session

    async def _dispatch(self, session: Session, event: str, data: Any) -> None:
        session.seq += 1
        frame = {"op": DISPATCH, "d": data, "s": session.seq, "t": event}
        session.sent.append(frame)
        if session.socket is not None and not session.socket.closed:
            await self._send(session.socket, frame)
        await self._on_change()

    async def _send(self, socket: web.WebSocketResponse, frame: JSON) -> None:
        self.log.append(GatewayEvent("out", frame["op"], frame.get("t"), time.monotonic()))
        if not socket.closed:
            try:
                await socket.send_str(json.dumps(frame))
            except ConnectionError:
                return


def _shard(value: Any) -> tuple[int, int] | None:
    """IDENTIFY's ``shard`` as ``(id, count)``, or None when Discord would close with 4010."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    shard_id, count = value
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return None
    return (shard_id, count) if count >= 1 and 0 <= shard_id < count else None


def _redacted(data: Any) -> Any:
    if isinstance(data, dict) and "token" in data:
        return {**data, "token": "<redacted>"}
    return data
