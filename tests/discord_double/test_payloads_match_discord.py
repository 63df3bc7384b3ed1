"""Fields Discord's own schema requires in the double's answers, which discord.py would not miss."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from discord_double import DiscordDouble
from tests.discord_double.conftest import ProbeBot

JSON = dict[str, Any]


async def _call(double: DiscordDouble, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bot {double.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, double.api_base + path, json=body, headers=headers) as response,
    ):
        return response.status, await response.json() if response.status != 204 else None


def _row(*buttons: JSON) -> JSON:
    return {"type": 1, "components": list(buttons)}


def _button(custom_id: str, **extra: Any) -> JSON:
    return {"type": 2, "style": 1, "label": custom_id, "custom_id": custom_id, **extra}


async def test_users_carry_a_null_primary_guild(discord_double: DiscordDouble) -> None:
    status, user = await _call(discord_double, "GET", f"/users/{discord_double.member.id}")
    _, me = await _call(discord_double, "GET", "/users/@me")

    assert status == 200
    assert "primary_guild" in user
    assert user["primary_guild"] is None
    assert me["primary_guild"] is None


async def test_components_get_ids_numbered_depth_first(discord_double: DiscordDouble) -> None:
    body = {"components": [_row(_button("a"), _button("b")), _row(_button("c"))]}

    status, message = await _call(
        discord_double, "POST", f"/channels/{discord_double.channel.id}/messages", body
    )

    assert status == 200
    rows = message["components"]
    assert [rows[0]["id"], *(c["id"] for c in rows[0]["components"])] == [1, 2, 3]
    assert [rows[1]["id"], rows[1]["components"][0]["id"]] == [4, 5]
    assert "id" not in body["components"][0], "the request body is left as it was"


async def test_component_ids_the_sender_gave_are_kept_and_never_reused(discord_double: DiscordDouble) -> None:
    body = {"components": [_row(_button("a", id=2), _button("b"))]}
    channel = discord_double.channel.id

    _, message = await _call(discord_double, "POST", f"/channels/{channel}/messages", body)
    row = message["components"][0]
    assert [row["id"], row["components"][0]["id"], row["components"][1]["id"]] == [1, 2, 3]

    edit = {"components": [_row(_button("c"), _button("d", id=1))]}
    _, edited = await _call(discord_double, "PATCH", f"/channels/{channel}/messages/{message['id']}", edit)
    row = edited["components"][0]
    assert [row["id"], row["components"][0]["id"], row["components"][1]["id"]] == [2, 3, 1]


@pytest.mark.parametrize("scope", ["", "/guilds/{guild}"])
async def test_explicit_nulls_in_a_command_overwrite_keep_the_defaults(
    discord_double: DiscordDouble, scope: str
) -> None:
    command = {
        "name": "ping",
        "description": "Ping",
        "integration_types": None,
        "nsfw": None,
        "options": None,
        "contexts": None,
        "default_member_permissions": None,
    }
    path = f"/applications/{discord_double.application_id}{scope}/commands"
    path = path.format(guild=discord_double.guild.id)

    status, stored = await _call(discord_double, "PUT", path, [command])

    assert status == 200
    assert stored[0]["integration_types"] == [0]
    assert stored[0]["nsfw"] is False
    assert stored[0]["options"] == []
    assert stored[0]["contexts"] is None
    assert stored[0]["default_member_permissions"] is None


@pytest.mark.parametrize("path", ["/oauth2/applications/@me", "/applications/@me"])
async def test_application_info_has_every_field_discord_always_sends(
    discord_double: DiscordDouble, path: str
) -> None:
    status, info = await _call(discord_double, "GET", path)

    assert status == 200
    assert info["type"] is None
    assert info["flags_new"] == str(info["flags"])
    assert info["role_connections_verification_url"] is None
    assert info["approximate_user_install_count"] == 0
    assert info["approximate_user_authorization_count"] == 0
    assert info["explicit_content_filter"] == 0
    assert set(info["eligible_oauth2_scopes"]) == {"bot", "applications.commands"}


async def test_an_answer_to_a_button_names_the_message_it_was_on(probe_bot: ProbeBot) -> None:
    discord_double = probe_bot.double
    channel = discord_double.channel.id
    _, posted = await _call(
        discord_double, "POST", f"/channels/{channel}/messages", {"components": [_row(_button("go"))]}
    )
    handle = await discord_double.click(discord_double.message(int(posted["id"])), "go")
    callback = f"/interactions/{handle.id}/{handle.record.token}/callback?with_response=true"

    status, answer = await _call(discord_double, "POST", callback, {"type": 4, "data": {"content": "went"}})

    assert status == 200
    metadata = answer["resource"]["message"]["interaction_metadata"]
    assert metadata["type"] == 3
    assert metadata["interacted_message_id"] == posted["id"]


async def test_a_slash_command_answer_names_no_interacted_message(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.send_message("pong")

    metadata = handle.original.payload["interaction_metadata"] if handle.original else {}
    assert metadata["type"] == 2
    assert "interacted_message_id" not in metadata
