"""The playground's web server against both doubles; no bot process, a bare gateway session stands in."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from client.fake import Endpoint, JobStatus
from discord_double.state import StoredMessage, snowflake_time
from playground.samples import SAMPLES, sample_bytes
from playground.server import DISCORD_EDIT_ROUTE, build_app
from playground.stack import Stack
from playground.views import Renderer

SUNSET_URI = "data:image/png;base64," + base64.b64encode(sample_bytes("sunset")).decode()
ANIMATE = {
    "name": "animate",
    "type": 1,
    "description": "Turn a picture into a short video",
    "options": [
        {"name": "image", "type": 11, "description": "picture", "required": True},
        {"name": "prompt", "type": 3, "description": "prompt", "required": True},
        {"name": "duration", "type": 4, "description": "seconds", "choices": [{"name": "5 s", "value": 5}]},
        {"name": "last_frame", "type": 11, "description": "end"},
    ],
}


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """Both doubles, and a gateway session standing in for the bot (it only receives)."""
    stack = Stack(tmp_path)
    await stack.discord.start()
    await stack.runcomfy.start()
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(stack.discord.gateway_url) as ws:
            await ws.receive_json(timeout=5)
            await ws.send_json({"op": 2, "d": {"token": stack.discord.token, "intents": 1, "properties": {}}})
            await stack.discord.wait_for(lambda: stack.discord.bot_ready(require_commands=False))
            yield stack
    finally:
        await stack.runcomfy.stop()
        await stack.discord.stop()


@pytest.fixture
async def page(stack: Stack) -> AsyncIterator[TestClient[aiohttp.web.Request, aiohttp.web.Application]]:
    async with TestClient(TestServer(build_app(stack))) as client:
        yield client


def register(stack: Stack, *commands: dict[str, Any]) -> None:
    """What the bot does when it syncs its commands."""
    stack.discord.world.commands.by_scope[None] = [
        {**c, "id": str(stack.discord.world.ids.next()), "application_id": str(stack.discord.application_id)}
        for c in commands
    ]


def animate_form(member: str = "jun", locale: str = "ko", **options: Any) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("member", member)
    form.add_field("locale", locale)
    form.add_field("command", "animate")
    form.add_field("options", json.dumps({"prompt": "the sun sets", **options}))
    return form


async def test_a_command_runs_as_the_chosen_member_in_their_language_with_a_sample(
    stack: Stack, page: TestClient[Any, Any]
) -> None:
    register(stack, ANIMATE)
    form = animate_form(duration="5")
    form.add_field("sample:image", "banner")
    form.add_field("file:last_frame", b"\x89PNG dropped", filename="mine.png", content_type="image/png")
    answer = await page.post("/api/command", data=form)
    assert answer.status == 200, await answer.text()
    [record] = stack.discord.world.interactions.values()
    assert record.user is stack.members["jun"].user
    assert record.payload["locale"] == "ko"
    options = {o["name"]: o["value"] for o in record.payload["data"]["options"]}
    assert options["prompt"] == "the sun sets"
    assert options["duration"] == 5
    attachments = record.payload["data"]["resolved"]["attachments"]
    image, last = attachments[options["image"]], attachments[options["last_frame"]]
    assert (image["filename"], image["width"], image["height"]) == ("banner.png", 1500, 400)
    assert stack.discord.attachment_bytes(last) == ("mine.png", b"\x89PNG dropped")


async def test_the_moderator_acts_with_manage_messages_and_manage_server_and_members_without(
    stack: Stack, page: TestClient[Any, Any]
) -> None:
    register(stack, ANIMATE)
    for member in ("mina", "sora"):
        form = animate_form(member=member, locale="en-US")
        form.add_field("sample:image", "sunset")
        assert (await page.post("/api/command", data=form)).status == 200
    mina, sora = stack.discord.world.interactions.values()
    moderating = (1 << 13) | (1 << 5)  # Manage Messages (Cancel) and Manage Server (/mod)
    assert not int(mina.payload["member"]["permissions"]) & moderating
    assert int(sora.payload["member"]["permissions"]) & moderating == moderating


async def test_a_subcommand_with_a_member_option_runs_as_registered(
    stack: Stack, page: TestClient[Any, Any]
) -> None:
    """Commands the page knows nothing about (moderation, once the bot has it) run from their definition."""
    user_option = {"name": "member", "type": 6, "description": "who", "required": True}
    flag_option = {"name": "all", "type": 5, "description": "every job"}
    subcommand = {"name": "clear", "type": 1, "description": "d", "options": [user_option, flag_option]}
    register(stack, {"name": "mod", "type": 1, "description": "moderation", "options": [subcommand]})
    form = aiohttp.FormData()
    for name, value in {"member": "sora", "locale": "en-US", "command": "mod clear"}.items():
        form.add_field(name, value)
    form.add_field("options", json.dumps({"member": "jun", "all": "true"}))
    assert (await page.post("/api/command", data=form)).status == 200
    [record] = stack.discord.world.interactions.values()
    [sub] = record.payload["data"]["options"]
    values = {o["name"]: o["value"] for o in sub["options"]}
    assert sub["name"] == "clear"
    assert values == {"member": str(stack.members["jun"].user.id), "all": True}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"member": "mallory"}, "unknown member"),
        ({"locale": "fr"}, "unknown language"),
        ({"command": "queue"}, "that command is not registered"),
        ({"options": "{not json"}, "options must be JSON"),
        ({"options": json.dumps({"prompt": "x", "duration": "five"})}, "wrong kind"),
    ],
)
async def test_a_bad_command_request_is_refused_and_nothing_reaches_the_bot(
    stack: Stack, page: TestClient[Any, Any], change: dict[str, str], problem: str
) -> None:
    register(stack, ANIMATE)
    fields = {"member": "mina", "locale": "en-US", "command": "animate", "options": '{"prompt": "x"}'}
    fields.update(change)
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("sample:image", "sunset")
    answer = await page.post("/api/command", data=form)
    assert answer.status == 400
    assert problem in (await answer.json())["error"]
    assert not stack.discord.world.interactions


async def test_each_fault_button_arms_its_double(stack: Stack, page: TestClient[Any, Any]) -> None:
    register(stack, ANIMATE)
    form = animate_form()
    form.add_field("sample:image", "sunset")
    await page.post("/api/command", data=form)
    [record] = stack.discord.world.interactions.values()

    assert (await page.post("/api/fault/api_503")).status == 200
    [armed] = stack.runcomfy.pending_faults
    assert (armed.status, armed.endpoint, armed.times) == (503, Endpoint.STATUS, 3)

    assert (await page.post("/api/fault/discord_429")).status == 200
    assert stack.discord.rest.faults.pending(DISCORD_EDIT_ROUTE) == 3
    assert not stack.discord.world.token_expired(record, time.monotonic())
    assert (await page.post("/api/fault/token_expiry")).status == 200
    assert stack.discord.world.token_expired(record, time.monotonic())
    assert (await page.post("/api/fault/everything")).status == 404


async def test_nothing_is_run_while_the_bot_is_not_connected(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    await stack.discord.start()
    try:
        register(stack, ANIMATE)
        async with TestClient(TestServer(build_app(stack))) as page:
            form = animate_form()
            form.add_field("sample:image", "sunset")
            answer = await page.post("/api/command", data=form)
            assert answer.status == 409
            assert "not connected" in (await answer.json())["error"]
    finally:
        await stack.discord.stop()


async def test_discord_429s_are_planted_on_the_route_the_bot_edits_replies_with(stack: Stack) -> None:
    assert DISCORD_EDIT_ROUTE in stack.discord.rest.route_keys()


async def test_new_timings_apply_to_the_next_job_and_are_bounded(
    stack: Stack, page: TestClient[Any, Any]
) -> None:
    stack.set_timing(queue_s=3600, run_s=3600)
    assert (await page.post("/api/timing", json={"queue_s": 0, "run_s": 0})).status == 200
    assert (await page.post("/api/timing", json={"queue_s": -1, "run_s": 0})).status == 400
    assert (await page.post("/api/timing", json={"queue_s": "soon"})).status == 400
    assert (stack.queue_s, stack.run_s) == (0, 0)
    async with aiohttp.ClientSession() as http:
        submitted = await http.post(
            stack.runcomfy.base_url + "/v1/models/bytedance/seedance-1-0/lite/image-to-video",
            headers={"Authorization": f"Bearer {stack._runcomfy_token}"},
            json={"prompt": "a cat waves", "first_frame_image_url": SUNSET_URI},
        )
        assert submitted.status == 200, await submitted.text()
        request_id = (await submitted.json())["request_id"]
    await stack.runcomfy.wait_for_status(request_id, JobStatus.COMPLETED)


async def test_files_are_served_whole_or_by_byte_range(stack: Stack, page: TestClient[Any, Any]) -> None:
    attachment = stack.discord.world.store_file(stack.discord.channel.id, "v.mp4", b"0123456789", "video/mp4")
    url = f"/files/{attachment['id']}/v.mp4"
    whole = await page.get(url)
    assert (whole.status, await whole.read(), whole.headers["Accept-Ranges"]) == (200, b"0123456789", "bytes")
    part = await page.get(url, headers={"Range": "bytes=2-5"})
    assert (part.status, await part.read(), part.headers["Content-Range"]) == (206, b"2345", "bytes 2-5/10")
    tail = await page.get(url, headers={"Range": "bytes=-3"})
    assert await tail.read() == b"789"
    assert (await page.get(url, headers={"Range": "bytes=20-"})).status == 416
    assert (await page.get("/files/12345/v.mp4")).status == 404


async def test_a_dropped_file_that_is_no_picture_or_video_is_only_ever_downloaded(
    stack: Stack, page: TestClient[Any, Any]
) -> None:
    attachment = stack.discord.world.store_file(stack.discord.channel.id, "x.html", b"<script>", "text/html")
    served = await page.get(f"/files/{attachment['id']}/x.html")
    assert served.content_type == "application/octet-stream"
    assert served.headers["Content-Disposition"] == "attachment"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    index = await page.get("/")
    assert "script-src 'self'" in index.headers["Content-Security-Policy"]


async def test_every_sample_is_served_and_the_rule_breakers_break_them(page: TestClient[Any, Any]) -> None:
    listed = await (await page.get("/samples")).json()
    assert [s["name"] for s in listed] == [s.name for s in SAMPLES]
    for sample in SAMPLES:
        served = await page.get(f"/samples/{sample.name}")
        assert (served.status, served.content_type) == (200, sample.content_type)
        assert await served.read() == sample_bytes(sample.name)
    by_name = {s.name: s for s in SAMPLES}
    assert min(by_name["tiny"].width, by_name["tiny"].height) <= 300
    assert by_name["banner"].width / by_name["banner"].height >= 2.5
    assert by_name["loop"].fmt == "GIF"
    assert (await page.get("/static/../server.py")).status == 404


async def test_the_feed_sends_the_state_then_each_change(stack: Stack, page: TestClient[Any, Any]) -> None:
    events = await page.get("/events")
    first = json.loads((await events.content.readline()).removeprefix(b"data: "))
    await events.content.readline()
    assert first["messages"] == []
    assert [m["key"] for m in first["members"]] == ["mina", "jun", "sora"]
    register(stack, ANIMATE)
    await stack.feed.touch()
    second = json.loads((await events.content.readline()).removeprefix(b"data: "))
    assert [c["name"] for c in second["commands"]] == ["animate"]
    events.close()


async def test_text_is_rendered_with_names_and_local_links(stack: Stack) -> None:
    world = stack.discord.world
    attachment = world.store_file(stack.discord.channel.id, "a.png", b"x", "image/png")
    mina = stack.members["mina"].user
    message = StoredMessage(
        id=world.ids.next(),
        channel_id=stack.discord.channel.id,
        payload={
            "content": f"<@{mina.id}> <b>hi</b> {attachment['url']}",
            "embeds": [{"title": "t", "thumbnail": {"url": "https://example.com/x.png"}}],
        },
    )
    shown = Renderer(stack).message(message)
    assert shown["content"] == f"@Mina <b>hi</b> /files/{attachment['id']}/a.png"
    assert shown["embeds"][0]["thumbnail"] is None
    assert shown["time"] == snowflake_time(message.id)
