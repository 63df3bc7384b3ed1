"""The real bot process against the double: it connects, syncs its commands, answers, and resumes."""

from __future__ import annotations

from discord_double import InteractionHandle, make_image, rules
from discord_double.gateway import GatewayEvent
from tests.conftest import EndToEnd

INTERACTION_RESPONSE_MESSAGE = 4
DEFERRED_MESSAGE = 5


async def test_bot_connects_syncs_and_answers_help(e2e: EndToEnd) -> None:
    discord = e2e.discord
    names = {command["name"] for command in discord.world.commands.all()}
    assert {"help", "animate"} <= names
    assert discord.requests_to("GET /gateway/bot")
    assert discord.requests_to("GET /users/@me")[0].status == 200
    assert discord.gateway.identify_count == 1

    handle = await discord.invoke_command("help")

    assert await handle.wait_response() == INTERACTION_RESPONSE_MESSAGE
    answer = await handle.wait_original()
    assert answer.ephemeral
    assert answer.flags & rules.FLAG_EPHEMERAL
    assert answer.content
    assert not discord.unknown_requests


async def _animate(e2e: EndToEnd) -> InteractionHandle:
    return await e2e.discord.invoke_command("animate", {"prompt": "waves"}, {"image": make_image(640, 480)})


def _bot_frames(e2e: EndToEnd, *ops: int) -> list[GatewayEvent]:
    return [e for e in e2e.discord.gateway_log if e.direction == "in" and e.op in ops]


async def test_bot_resumes_after_the_websocket_drops(e2e: EndToEnd) -> None:
    discord = e2e.discord
    await discord.drop_gateway()

    def resumed() -> bool:
        session = discord.gateway.current
        return session is not None and session.resumes == 1 and discord.gateway.connected

    await discord.wait_for(resumed, timeout=10)
    handle = await _animate(e2e)
    assert await handle.wait_response() == DEFERRED_MESSAGE
    assert discord.gateway.identify_count == 1
    assert [e.op for e in _bot_frames(e2e, 2, 6)] == [2, 6]


async def test_events_missed_while_disconnected_are_replayed_on_resume(e2e: EndToEnd) -> None:
    discord = e2e.discord
    session = discord.gateway.current
    assert session is not None
    await discord.drop_gateway()
    handle = await _animate(e2e)  # dispatched while the bot is away

    assert await handle.wait_response(timeout=10) == DEFERRED_MESSAGE
    resume = _bot_frames(e2e, 6)[-1].data
    assert resume["seq"] < session.seq
    await discord.gateway.request_heartbeat()
    beat = await discord.wait_for(lambda: [e for e in _bot_frames(e2e, 1) if e.data == session.seq])
    assert beat


async def test_bot_restarts_without_syncing_again(e2e: EndToEnd) -> None:
    syncs_before = len(e2e.discord.requests_to("PUT /applications/{application_id}/commands"))
    await e2e.restart()

    handle = await _animate(e2e)
    assert await handle.wait_response() == DEFERRED_MESSAGE
    assert e2e.discord.gateway.identify_count == 2
    assert len(e2e.discord.requests_to("PUT /applications/{application_id}/commands")) == syncs_before


async def test_sigterm_stops_the_bot_cleanly(e2e: EndToEnd) -> None:
    assert await e2e.terminate() == 0
