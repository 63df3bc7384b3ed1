"""Message limits, upload size, permissions and unknown things, as discord.py meets them."""

from __future__ import annotations

import io
import json
from typing import Any

import aiohttp
import discord
import pytest
from discord.http import Route

from discord_double import DiscordDouble, rules
from tests.discord_double.conftest import ProbeBot


def _post(channel_id: int) -> Route:
    return Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)


def _patch(channel_id: int, message_id: int | str) -> Route:
    route = "/channels/{channel_id}/messages/{message_id}"
    return Route("PATCH", route, channel_id=channel_id, message_id=message_id)


async def _invalid(
    http: discord.http.HTTPClient, double: DiscordDouble, body: dict[str, Any]
) -> dict[str, Any]:
    with pytest.raises(discord.HTTPException) as caught:
        await http.request(_post(double.channel.id), json=body)
    assert caught.value.status == 400
    assert caught.value.code == rules.INVALID_FORM_BODY
    errors: dict[str, Any] = caught.value._errors or {}
    return errors


async def test_content_over_2000_names_content(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()

    with pytest.raises(discord.HTTPException) as caught:
        await interaction.response.send_message("x" * 2001)
    assert caught.value.code == rules.INVALID_FORM_BODY
    assert "In data.content: Must be 2000 or fewer in length." in caught.value.text
    assert handle.response_type is None
    await interaction.response.send_message("x" * 2000)
    assert handle.response_type == 4


async def test_embed_field_limits_name_the_field(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    embed = {
        "title": "t" * 257,
        "description": "d" * 4097,
        "footer": {"text": "f" * 2049},
        "author": {"name": "a" * 257},
        "fields": [{"name": "n" * 257, "value": "v" * 1025}],
    }
    errors = await _invalid(bot_http, double, {"embeds": [embed]})
    bad = errors["embeds"]["0"]
    assert set(bad) == {"title", "description", "footer", "author", "fields"}
    assert bad["footer"]["text"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert set(bad["fields"]["0"]) == {"name", "value"}


async def test_too_many_embeds_fields_and_total_text(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    errors = await _invalid(bot_http, double, {"embeds": [{"title": "t"}] * 11})
    assert "Must be 10 or fewer" in errors["embeds"]["_errors"][0]["message"]
    fields = [{"name": "n", "value": "v"}] * 26
    errors = await _invalid(bot_http, double, {"embeds": [{"fields": fields}]})
    assert "fields" in errors["embeds"]["0"]
    big = {"description": "d" * 4000}
    errors = await _invalid(bot_http, double, {"embeds": [big, big]})
    assert errors["embeds"]["_errors"][0]["code"] == "MAX_EMBED_SIZE_EXCEEDED"
    assert not double.messages(double.channel)


async def test_component_limits(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    button = {"type": 2, "style": 1, "label": "x", "custom_id": "c" * 101}
    errors = await _invalid(bot_http, double, {"components": [{"type": 1, "components": [button]}]})
    assert "custom_id" in errors["components"]["0"]["components"]["0"]
    row = {"type": 1, "components": [{**button, "custom_id": "ok"}]}
    errors = await _invalid(bot_http, double, {"components": [row] * 6})
    assert "Must be 5 or fewer" in errors["components"]["_errors"][0]["message"]


async def test_an_upload_over_the_guild_limit_is_refused(probe_bot: ProbeBot) -> None:
    probe_bot.double.set_upload_limit(1000)
    handle, interaction = await probe_bot.invoke()
    assert interaction.filesize_limit == 1000
    await interaction.response.defer()

    with pytest.raises(discord.HTTPException) as caught:
        await interaction.followup.send(file=discord.File(io.BytesIO(b"v" * 1001), "big.mp4"))
    assert caught.value.status == 413
    assert caught.value.code == rules.REQUEST_TOO_LARGE
    await interaction.edit_original_response(attachments=[discord.File(io.BytesIO(b"v" * 1000), "ok.mp4")])
    original = handle.original
    assert original is not None
    assert [a["filename"] for a in original.attachments] == ["ok.mp4"]


async def test_the_default_upload_limit_is_10_mib(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    channel = discordpy_at_double.channel.id
    too_big = discord.File(io.BytesIO(b"\0" * (10 * 1024 * 1024 + 1)), "big.bin")
    with (
        discord.http.handle_message_parameters(file=too_big) as params,
        pytest.raises(discord.HTTPException) as caught,
    ):
        await bot_http.send_message(channel, params=params)
    assert caught.value.code == rules.REQUEST_TOO_LARGE


async def test_missing_send_or_attach_permission_is_403(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    quiet, no_files = double.add_channel("quiet"), double.add_channel("no-files")
    double.deny_bot(quiet, send_messages=True)
    double.deny_bot(no_files, attach_files=True)

    with pytest.raises(discord.Forbidden) as caught:
        await bot_http.request(_post(quiet.id), json={"content": "hi"})
    assert caught.value.code == rules.MISSING_PERMISSIONS
    await bot_http.request(_post(no_files.id), json={"content": "text is fine"})
    picture = discord.File(io.BytesIO(b"x"), "a.png")
    with (
        discord.http.handle_message_parameters(file=picture) as params,
        pytest.raises(discord.Forbidden) as caught,
    ):
        await bot_http.send_message(no_files.id, params=params)
    assert caught.value.code == rules.MISSING_PERMISSIONS
    assert [m.content for m in double.messages(no_files)] == ["text is fine"]


async def test_the_bots_channel_permissions_reach_the_interaction(probe_bot: ProbeBot) -> None:
    double = probe_bot.double
    double.deny_bot(double.channel, attach_files=True)
    _, interaction = await probe_bot.invoke()
    assert not interaction.app_permissions.attach_files
    assert interaction.app_permissions.send_messages


async def test_unknown_message_and_channel(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    with pytest.raises(discord.NotFound) as caught:
        await bot_http.get_message(double.channel.id, 1234)
    assert caught.value.code == rules.UNKNOWN_MESSAGE
    with pytest.raises(discord.NotFound) as caught:
        await bot_http.request(_post(4321), json={"content": "hi"})
    assert caught.value.code == rules.UNKNOWN_CHANNEL
    with pytest.raises(discord.NotFound) as caught:
        await bot_http.request(_patch(double.channel.id, 1234), json={"content": "x"})
    assert caught.value.code == rules.UNKNOWN_MESSAGE


async def test_channel_messages_are_created_edited_listed_and_deleted(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    channel = double.channel.id
    sent = await bot_http.request(_post(channel), json={"content": "one"})
    await bot_http.request(_patch(channel, sent["id"]), json={"content": "two"})
    listed = await bot_http.logs_from(channel, 10)

    assert [m["content"] for m in listed] == ["two"]
    stored = double.message(int(sent["id"]))
    assert [v["content"] for v in stored.history] == ["one"]
    await bot_http.delete_message(channel, sent["id"])
    assert stored.deleted
    assert await bot_http.logs_from(channel, 10) == []


async def test_unknown_routes_are_404_and_recorded(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    with pytest.raises(discord.NotFound) as caught:
        await bot_http.request(Route("GET", "/guilds/{guild_id}/audit-logs", guild_id=1))
    assert caught.value.code == 0
    assert caught.value.text == "404: Not Found"
    assert [r.path for r in discordpy_at_double.unknown_requests] == ["/guilds/1/audit-logs"]


async def test_a_wrong_bot_token_is_401(discordpy_at_double: DiscordDouble) -> None:
    import asyncio

    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        with pytest.raises(discord.LoginFailure):
            await http.static_login("not-the-token")
    finally:
        await http.close()
    answer = discordpy_at_double.requests_to("GET /users/@me")[-1]
    assert answer.status == 401
    assert answer.response == {"message": "401: Unauthorized", "code": 0}


async def test_without_read_message_history_the_history_is_empty_not_forbidden(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    await bot_http.request(_post(double.channel.id), json={"content": "hello"})
    history = Route("GET", "/channels/{channel_id}/messages", channel_id=double.channel.id)
    assert [m["content"] for m in await bot_http.request(history)] == ["hello"]

    double.deny_bot(double.channel, read_message_history=True)

    assert await bot_http.request(history) == []


async def test_a_known_path_with_the_wrong_method_is_405(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    with pytest.raises(discord.HTTPException) as caught:
        await bot_http.request(Route("PUT", "/channels/{channel_id}/messages", channel_id=double.channel.id))
    assert caught.value.status == 405
    with pytest.raises(discord.NotFound):
        await bot_http.request(Route("GET", "/channels/{channel_id}/nothing", channel_id=double.channel.id))
    assert [r.status for r in double.unknown_requests] == [405, 404]


async def test_a_reply_needs_its_message_and_read_message_history_and_has_type_19(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    double = discordpy_at_double
    channel = double.channel.id
    original = await bot_http.request(_post(channel), json={"content": "original"})
    reference = {"message_id": original["id"], "channel_id": str(channel)}

    reply = await bot_http.request(_post(channel), json={"content": "reply", "message_reference": reference})
    assert reply["type"] == discord.MessageType.reply.value
    assert reply["message_reference"]["message_id"] == original["id"]
    assert reply["referenced_message"]["content"] == "original"

    missing = {"message_id": "1", "channel_id": str(channel)}
    errors = await _invalid(bot_http, double, {"content": "x", "message_reference": missing})
    assert errors["message_reference"]["_errors"][0]["code"] == "REPLIES_UNKNOWN_MESSAGE"
    lenient = await bot_http.request(
        _post(channel),
        json={"content": "plain", "message_reference": {**missing, "fail_if_not_exists": False}},
    )
    assert lenient["type"] == discord.MessageType.default.value
    assert "message_reference" not in lenient

    double.deny_bot(double.channel, read_message_history=True)
    with pytest.raises(discord.Forbidden) as caught:
        await bot_http.request(_post(channel), json={"content": "reply", "message_reference": reference})
    assert caught.value.code == rules.MISSING_PERMISSIONS


async def test_empty_embed_texts_and_bad_links_are_named(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    embed = {
        "title": "t",
        "url": "ftp://example.com/x",
        "footer": {"text": ""},
        "thumbnail": {"url": "data:image/png;base64,AAAA"},
        "image": {"url": "attachment://cat.png"},
        "fields": [{"name": "", "value": "v"}, {"name": "n", "value": ""}],
    }
    errors = await _invalid(bot_http, discordpy_at_double, {"embeds": [embed]})
    bad = errors["embeds"]["0"]

    required = {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
    assert bad["footer"]["text"]["_errors"] == [required]
    assert bad["fields"]["0"]["name"]["_errors"] == [required]
    assert bad["fields"]["1"]["value"]["_errors"] == [required]
    assert set(bad["fields"]["0"]) == {"name"}
    assert bad["url"]["_errors"][0]["code"] == "URL_TYPE_INVALID_SCHEME"
    assert bad["url"]["_errors"][0]["message"].startswith('Scheme "ftp" is not supported.')
    assert bad["thumbnail"]["url"]["_errors"][0]["code"] == "URL_TYPE_INVALID_SCHEME"
    assert "image" not in bad


async def test_button_labels_and_custom_ids_are_checked(
    bot_http: discord.http.HTTPClient, discordpy_at_double: DiscordDouble
) -> None:
    buttons = [
        {"type": 2, "style": 1, "label": "x" * 81, "custom_id": "long"},
        {"type": 2, "style": 2, "label": "no id"},
        {"type": 2, "style": 5, "label": "link", "url": "https://example.com"},
        {"type": 2, "style": 1, "label": "x" * 80, "custom_id": "fits"},
    ]
    errors = await _invalid(
        bot_http, discordpy_at_double, {"content": "c", "components": [{"type": 1, "components": buttons}]}
    )
    row = errors["components"]["0"]["components"]

    assert row["0"]["label"]["_errors"][0] == {
        "code": "BASE_TYPE_MAX_LENGTH",
        "message": "Must be 80 or fewer in length.",
    }
    assert row["1"]["custom_id"]["_errors"][0]["code"] == "BASE_TYPE_REQUIRED"
    assert set(row) == {"0", "1"}


async def test_an_edit_keeps_only_the_attachments_it_lists(probe_bot: ProbeBot) -> None:
    double = probe_bot.double
    handle, interaction = await probe_bot.invoke()
    files = [discord.File(io.BytesIO(b"a"), "a.txt"), discord.File(io.BytesIO(b"b"), "b.txt")]
    await interaction.response.send_message("two", files=files)
    sent = await interaction.original_response()

    edited = await interaction.edit_original_response(
        attachments=[sent.attachments[0], discord.File(io.BytesIO(b"c"), "c.txt")]
    )
    assert [a.filename for a in edited.attachments] == ["a.txt", "c.txt"]
    assert edited.attachments[0].id == sent.attachments[0].id

    form = aiohttp.FormData(quote_fields=False)
    payload = json.dumps({"attachments": [{"id": str(sent.attachments[0].id)}]})
    form.add_field("payload_json", payload, content_type="application/json")
    form.add_field("files[0]", b"d", filename="d.txt", content_type="text/plain")
    url = f"{double.api_base}/channels/{double.channel.id}/messages/{sent.id}"
    headers = {"Authorization": f"Bot {double.token}"}
    async with aiohttp.ClientSession() as http, http.patch(url, data=form, headers=headers) as answer:
        assert answer.status == 200
    assert handle.original is not None
    assert [a["filename"] for a in handle.original.attachments] == ["a.txt"]
