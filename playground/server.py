"""The playground's web server: the page, its live feed (server-sent events) and what a visitor can do."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

from aiohttp import web

from client.fake import Fault
from discord_double import DoubleError, LocalFile
from playground.samples import BY_NAME, SAMPLES, sample_bytes, sample_file
from playground.stack import Stack
from playground.views import Renderer

MAX_UPLOAD = 40 * 1024 * 1024
MAX_TIMING_S = 600.0
LOCALES = ("en-US", "ko")
DISCORD_EDIT_ROUTE = "PATCH /webhooks/{application_id}/{token}/messages/{message_id}"
OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP = 1, 2
OPTION_BOOLEAN, OPTION_USER, OPTION_INTEGER, OPTION_NUMBER, OPTION_ATTACHMENT = 5, 6, 4, 10, 11
CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SAFE_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
SHOWN_INLINE = ("image/png", "image/jpeg", "image/webp", "image/gif", "video/mp4", "video/webm")
STATIC_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")

STACK_KEY = web.AppKey("stack", Stack)
STREAMS_KEY: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("streams")
RENDERER_KEY = web.AppKey("renderer", Renderer)


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def _static(name: str) -> bytes:
    return resources.files("playground").joinpath("static", name).read_bytes()


async def index(request: web.Request) -> web.Response:
    return web.Response(
        body=_static("index.html"), content_type="text/html", charset="utf-8", headers=SAFE_HEADERS
    )


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    suffix = name[name.rfind(".") :]
    if "/" in name or suffix not in STATIC_TYPES:
        raise web.HTTPNotFound
    try:
        body = _static(name)
    except FileNotFoundError:
        raise web.HTTPNotFound from None
    return web.Response(body=body, content_type=STATIC_TYPES[suffix], charset="utf-8", headers=SAFE_HEADERS)


async def samples(request: web.Request) -> web.Response:
    return web.json_response(
        [
            {"name": s.name, "filename": s.filename, "note": s.note, "url": f"/samples/{s.name}"}
            for s in SAMPLES
        ]
    )


async def sample(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in BY_NAME:
        raise web.HTTPNotFound
    return web.Response(body=sample_bytes(name), content_type=BY_NAME[name].content_type)


async def file(request: web.Request) -> web.Response:
    """A file on the double's CDN (pictures members attached, videos the bot uploaded), with byte ranges so
    a ``<video>`` can seek."""
    world = request.app[STACK_KEY].discord.world
    try:
        stored = world.files[int(request.match_info["attachment_id"])]
    except (KeyError, ValueError):
        raise web.HTTPNotFound from None
    data, total = stored.data, len(stored.data)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "no-store", **SAFE_HEADERS}
    content_type = stored.content_type if stored.content_type in SHOWN_INLINE else "application/octet-stream"
    if content_type == "application/octet-stream":
        headers["Content-Disposition"] = "attachment"
    wanted = _RANGE.match(request.headers.get("Range", ""))
    if wanted is None or total == 0:
        return web.Response(body=data, content_type=content_type, headers=headers)
    first, last = wanted.groups()
    if first:
        start, end = int(first), min(int(last) if last else total - 1, total - 1)
    else:
        start, end = max(0, total - int(last or 0)), total - 1
    if start > end:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{total}"})
    headers["Content-Range"] = f"bytes {start}-{end}/{total}"
    return web.Response(status=206, body=data[start : end + 1], content_type=content_type, headers=headers)


async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[RENDERER_KEY].state())


async def events(request: web.Request) -> web.StreamResponse:
    """The whole state once, then again every time a message or control changes."""
    stack, renderer = request.app[STACK_KEY], request.app[RENDERER_KEY]
    streams = request.app[STREAMS_KEY]
    task = asyncio.current_task()
    assert task is not None
    streams.add(task)
    try:
        return await _stream(request, stack, renderer)
    finally:
        streams.discard(task)


async def _stream(request: web.Request, stack: Stack, renderer: Renderer) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await response.prepare(request)
    version = stack.feed.version()
    await response.write(f"data: {json.dumps(renderer.state())}\n\n".encode())
    while True:
        try:
            version = await stack.feed.next_change(version)
        except TimeoutError:
            await response.write(b": still here\n\n")
            continue
        await response.write(f"data: {json.dumps(renderer.state())}\n\n".encode())


def _require_bot(stack: Stack) -> None:
    if stack.discord.gateway.current is None:
        raise web.HTTPConflict(
            text=json.dumps({"error": "the bot is not connected to the Discord double"}),
            content_type="application/json",
        )


def _member_and_locale(stack: Stack, fields: Mapping[str, Any]) -> tuple[str, str]:
    member, locale = str(fields.get("member", "")), str(fields.get("locale", ""))
    if member not in stack.members:
        raise _bad("unknown member")
    if locale not in LOCALES:
        raise _bad("unknown language")
    return member, locale


def _declared_options(stack: Stack, words: list[str]) -> dict[str, Mapping[str, Any]]:
    """The options the command (or subcommand) ``words`` declares, by name."""
    command = stack.discord.world.commands.find(words[0], stack.discord.guild.id) if words else None
    if command is None:
        raise _bad("that command is not registered")
    options: list[Mapping[str, Any]] = list(command.get("options") or [])
    for word in words[1:]:
        sub = next((o for o in options if o["name"] == word and o["type"] in (1, 2)), None)
        if sub is None:
            raise _bad(f"no subcommand {word}")
        options = list(sub.get("options") or [])
    return {str(o["name"]): o for o in options}


def _option_value(stack: Stack, kind: int, raw: Any) -> Any:
    try:
        if kind == OPTION_INTEGER:
            return int(raw)
        if kind == OPTION_NUMBER:
            return float(raw)
        if kind == OPTION_BOOLEAN:
            return raw in (True, "true", "1")
        if kind == OPTION_USER:
            return stack.members[str(raw)].user
    except (KeyError, ValueError):
        raise _bad("an option has a value of the wrong kind") from None
    return str(raw)


async def command(request: web.Request) -> web.Response:
    """Run a slash command as a member: a multipart form with ``member``, ``locale``, ``command``,
    ``options`` (JSON) and, per attachment option, ``file:NAME`` (an upload) or ``sample:NAME``."""
    stack = request.app[STACK_KEY]
    form = await request.post()
    member, locale = _member_and_locale(stack, form)
    words = str(form.get("command", "")).split()
    declared = _declared_options(stack, words)
    try:
        raw_options = json.loads(str(form.get("options") or "{}"))
    except json.JSONDecodeError:
        raise _bad("options must be JSON") from None
    if not isinstance(raw_options, dict):
        raise _bad("options must be a JSON object")
    options: dict[str, Any] = {}
    for name, raw in raw_options.items():
        if name not in declared or raw in ("", None):
            continue
        options[name] = _option_value(stack, int(declared[name]["type"]), raw)
    attachments: dict[str, LocalFile] = {}
    for key, value in form.items():
        kind, _, name = key.partition(":")
        if name not in declared or int(declared[name]["type"]) != OPTION_ATTACHMENT:
            continue
        if kind == "file" and isinstance(value, web.FileField):
            attachments[name] = LocalFile(value.filename, value.file.read(), value.content_type)
        elif kind == "sample" and str(value) in BY_NAME:
            attachments[name] = sample_file(str(value))
    _require_bot(stack)
    try:
        handle = await stack.actor(member, locale).run(" ".join(words), options, attachments)
    except DoubleError as exc:
        raise _bad(str(exc)) from None
    return web.json_response({"interaction": str(handle.id)})


async def press(request: web.Request) -> web.Response:
    """Press a button as a member: JSON ``{member, locale, message_id, custom_id}``."""
    stack = request.app[STACK_KEY]
    body = await request.json()
    member, locale = _member_and_locale(stack, body)
    _require_bot(stack)
    try:
        message = stack.discord.message(int(body.get("message_id", 0)))
        handle = await stack.actor(member, locale).press(message, str(body.get("custom_id", "")))
    except (DoubleError, ValueError) as exc:
        raise _bad(str(exc)) from None
    return web.json_response({"interaction": str(handle.id)})


async def timing(request: web.Request) -> web.Response:
    """How long the fake API keeps new jobs queued and generating: JSON ``{queue_s, run_s}``."""
    stack = request.app[STACK_KEY]
    body = await request.json()
    try:
        queue_s, run_s = float(body["queue_s"]), float(body["run_s"])
    except (KeyError, TypeError, ValueError):
        raise _bad("queue_s and run_s must be numbers") from None
    if not (0 <= queue_s <= MAX_TIMING_S and 0 <= run_s <= MAX_TIMING_S):
        raise _bad(f"times must be between 0 and {MAX_TIMING_S:.0f} seconds")
    stack.set_timing(queue_s=queue_s, run_s=run_s)
    await stack.feed.touch()
    return web.json_response({"queue_s": queue_s, "run_s": run_s})


def _expire_tokens(stack: Stack) -> int:
    """Age every interaction past its token's life, as if 15 minutes had gone by."""
    life = stack.discord.config.token_ttl_s
    expired = 0
    for record in stack.discord.world.interactions.values():
        record.created_at -= life + 1
        expired += 1
    return expired


async def fault(request: web.Request) -> web.Response:
    """Arm a fault: ``api_503`` (three 503s from the API), ``failed_job`` (the next job fails),
    ``discord_429`` (three 429s on reply edits) or ``token_expiry`` (every interaction token dies)."""
    stack = request.app[STACK_KEY]
    kind = request.match_info["kind"]
    if kind == "api_503":
        stack.runcomfy.inject(Fault.http(503, endpoint="status", times=3, retry_after=1))
        note = "the API answers the next 3 status checks with 503"
    elif kind == "failed_job":
        stack.runcomfy.fail_next_jobs(1, message="The generation failed (injected in the playground).")
        note = "the next job submitted fails at the API"
    elif kind == "discord_429":
        stack.discord.inject(DISCORD_EDIT_ROUTE, 429, headers={"Retry-After": "1"}, times=3)
        note = "Discord answers the next 3 reply edits with 429"
    elif kind == "token_expiry":
        note = f"{_expire_tokens(stack)} interaction tokens expired"
    else:
        raise web.HTTPNotFound
    await stack.feed.touch()
    return web.json_response({"armed": kind, "note": note})


async def _end_streams(app: web.Application) -> None:
    """Open pages would otherwise hold the server up: their feeds never end on their own."""
    streams: set[asyncio.Task[Any]] = app[STREAMS_KEY]
    for task in tuple(streams):
        task.cancel()


def build_app(stack: Stack) -> web.Application:
    app = web.Application(client_max_size=MAX_UPLOAD)
    app[STACK_KEY] = stack
    app[RENDERER_KEY] = Renderer(stack)
    app[STREAMS_KEY] = set()
    app.on_shutdown.append(_end_streams)
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/samples", samples)
    app.router.add_get("/samples/{name}", sample)
    app.router.add_get("/files/{attachment_id}/{filename}", file)
    app.router.add_get("/api/state", state)
    app.router.add_get("/events", events)
    app.router.add_post("/api/command", command)
    app.router.add_post("/api/press", press)
    app.router.add_post("/api/timing", timing)
    app.router.add_post("/api/fault/{kind}", fault)
    return app


@contextlib.asynccontextmanager
async def serving(stack: Stack, host: str, port: int) -> Any:
    """Serve the page for ``stack``; yields the address."""
    runner = web.AppRunner(build_app(stack), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    bound = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
    try:
        yield f"http://{host}:{bound}/"
    finally:
        await runner.shutdown()
        await runner.cleanup()
