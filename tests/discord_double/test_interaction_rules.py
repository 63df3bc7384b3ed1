"""Interaction rules, enforced against discord.py's own calls: deadline, token life, one first answer."""

from __future__ import annotations

import asyncio
import io

import discord
import pytest

from discord_double import DoubleError, rules
from tests.discord_double.conftest import ProbeBot


async def test_first_answer_within_the_deadline_is_accepted(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.send_message("hi", ephemeral=True)

    answer = await handle.wait_original()
    assert answer.content == "hi"
    assert answer.ephemeral
    assert answer.payload["interaction_metadata"]["user"]["id"] == str(probe_bot.double.member.id)


async def test_a_late_first_answer_gets_unknown_interaction(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    handle.age(3.5)

    with pytest.raises(discord.NotFound) as caught:
        await interaction.response.defer()
    assert caught.value.code == rules.UNKNOWN_INTERACTION
    assert handle.response_type is None


@pytest.mark.double_config(response_deadline_s=10.0)
async def test_the_deadline_is_configurable(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    handle.age(3.5)
    await interaction.response.defer()
    assert handle.response_type == 5


async def test_a_second_first_answer_is_rejected(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.defer()

    with pytest.raises(discord.HTTPException) as caught:
        await discord.InteractionResponse(interaction).send_message("again")
    assert caught.value.status == 400
    assert caught.value.code == rules.ALREADY_ACKNOWLEDGED
    assert handle.response_type == 5


@pytest.mark.double_config(token_ttl_s=60.0)
async def test_an_expired_token_is_refused_on_webhook_routes(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.defer()
    await interaction.edit_original_response(content="still fresh")
    handle.age(61)

    with pytest.raises(discord.HTTPException) as caught:
        await interaction.edit_original_response(content="too late")
    assert caught.value.status == 401
    assert caught.value.code == rules.INVALID_WEBHOOK_TOKEN
    with pytest.raises(discord.HTTPException) as caught:
        await interaction.followup.send("too late")
    assert caught.value.code == rules.INVALID_WEBHOOK_TOKEN
    original = handle.original
    assert original is not None
    assert original.content == "still fresh"


async def test_deferred_answer_is_loading_until_edited(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.defer(thinking=True)
    loading = await handle.wait_original()
    assert loading.flags & rules.FLAG_LOADING

    message = await interaction.edit_original_response(content="done", view=probe_bot.press_view())

    assert message.content == "done"
    assert not loading.flags & rules.FLAG_LOADING
    assert loading.custom_ids == ["press"]
    assert [m.get("content") for m in loading.history] == [""]
    fetched = await interaction.original_response()
    assert fetched.id == loading.id


async def test_ephemeral_deferral_keeps_the_answer_private(
    probe_bot: ProbeBot, bot_http: discord.http.HTTPClient
) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.defer(ephemeral=True, thinking=True)
    await interaction.edit_original_response(content="only you")

    original = await handle.wait_original(lambda m: m.content == "only you")
    assert original.ephemeral
    with pytest.raises(discord.NotFound) as caught:
        await bot_http.get_message(original.channel_id, original.id)
    assert caught.value.code == rules.UNKNOWN_MESSAGE


async def test_followups_are_sent_edited_and_deleted(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.send_message("first")
    followup = await interaction.followup.send("second", wait=True)
    await followup.edit(content="second, edited")

    stored = handle.followups[0]
    assert stored.content == "second, edited"
    assert stored.history[0]["content"] == "second"
    await followup.delete()
    assert stored.deleted
    await interaction.delete_original_response()
    with pytest.raises(discord.NotFound) as caught:
        await interaction.original_response()
    assert caught.value.code == rules.UNKNOWN_MESSAGE


async def test_a_button_click_carries_its_message_and_can_update_it(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.send_message("card", view=probe_bot.press_view())
    card = await handle.wait_original()

    click, pressed = await probe_bot.click(card.id)
    assert pressed.message is not None
    assert pressed.message.id == card.id
    assert pressed.data is not None
    assert pressed.data.get("custom_id") == "press"
    await pressed.response.edit_message(content="pressed", view=None)

    assert click.response_type == 7
    assert card.content == "pressed"
    assert card.components == []


async def test_a_deferred_update_then_edit_changes_the_clicked_message(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.send_message("card", view=probe_bot.press_view())
    card = await handle.wait_original()
    click, pressed = await probe_bot.click(card.id)

    await pressed.response.defer()
    await pressed.edit_original_response(content="changed later")

    assert click.response_type == 6
    assert card.content == "changed later"


async def test_a_modal_is_recorded(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    modal = discord.ui.Modal(title="Why?", custom_id="why")
    modal.add_item(discord.ui.TextInput(label="Reason", custom_id="reason"))
    await interaction.response.send_modal(modal)

    assert handle.response_type == 9
    assert handle.record.modal is not None
    assert handle.record.modal["custom_id"] == "why"


async def test_the_attachment_option_is_resolved_and_served(probe_bot: ProbeBot) -> None:
    from discord_double import make_image

    _, interaction = await probe_bot.invoke({"text": "go"}, make_image(320, 200, "JPEG"))
    attachment = interaction.namespace.image
    assert isinstance(attachment, discord.Attachment)
    assert (attachment.width, attachment.height) == (320, 200)
    assert attachment.content_type == "image/jpeg"
    assert interaction.filesize_limit == probe_bot.double.guild.upload_limit
    assert interaction.locale == discord.Locale.american_english
    data = await attachment.read()
    assert data[:2] == b"\xff\xd8"
    assert attachment.size == len(data)


async def test_files_in_the_first_answer_are_stored(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.send_message(
        "video", file=discord.File(io.BytesIO(b"\0\0\0 ftypmp4"), "out.mp4")
    )

    original = await handle.wait_original()
    assert probe_bot.double.attachment_bytes(original.attachments[0]) == ("out.mp4", b"\0\0\0 ftypmp4")
    assert original.attachments[0]["content_type"] == "video/mp4"


async def test_a_forgotten_session_makes_discordpy_identify_again(probe_bot: ProbeBot) -> None:
    double = probe_bot.double
    await double.gateway.invalidate()

    await double.wait_for(lambda: double.gateway.identify_count == 2 and double.bot_ready(), timeout=15)
    invalid = [e for e in double.gateway_log if e.direction == "out" and e.op == 9]
    assert len(invalid) == 1
    handle, _ = await probe_bot.invoke()
    assert handle.record.payload["guild_id"] == str(double.guild.id)


async def test_mentions_in_content_are_readable(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    await interaction.response.send_message(f"done {interaction.user.mention}")
    original = await handle.wait_original()
    assert original.mentioned_user_ids == [probe_bot.double.member.id]


async def test_with_response_carries_a_resource_message_only_for_types_4_and_7(probe_bot: ProbeBot) -> None:
    handle, interaction = await probe_bot.invoke()
    sent = await interaction.response.send_message("card", view=probe_bot.press_view())
    card = await handle.wait_original()
    assert isinstance(sent.resource, discord.InteractionMessage)
    assert sent.resource.id == card.id

    deferring_handle, deferring = await probe_bot.invoke()
    deferred = await deferring.response.defer(thinking=True)
    assert deferred is not None
    assert deferred.resource is None
    assert deferred.is_thinking()
    assert deferring_handle.original is not None
    assert deferred.message_id == deferring_handle.original.id

    _, quiet = await probe_bot.click(card.id)
    acknowledged = await quiet.response.defer()
    assert acknowledged is not None
    assert acknowledged.resource is None
    assert acknowledged.message_id is None

    _, updating = await probe_bot.click(card.id)
    updated = await updating.response.edit_message(content="updated")
    assert updated is not None
    assert isinstance(updated.resource, discord.InteractionMessage)
    assert updated.resource.content == "updated"

    callbacks = probe_bot.double.requests_to("POST /interactions/{interaction_id}/{token}/callback")
    assert all(r.query.get("with_response") in ("1", "true") for r in callbacks)
    assert [r.response.get("resource", {}).get("type") for r in callbacks] == [4, None, None, 7]


async def test_a_disabled_button_cannot_be_pressed_unless_the_client_is_stale(probe_bot: ProbeBot) -> None:
    double = probe_bot.double
    handle, interaction = await probe_bot.invoke()
    view = probe_bot.press_view()
    await interaction.response.send_message("card", view=view)
    card = await handle.wait_original()
    for item in view.children:
        assert isinstance(item, discord.ui.Button)
        item.disabled = True
    await interaction.edit_original_response(view=view)
    assert card.components[0]["components"][0]["disabled"] is True

    with pytest.raises(DoubleError, match="disabled"):
        await double.click(card, "press")
    stale = await double.click(card, "press", stale=True)
    async with asyncio.timeout(5):
        pressed = await probe_bot.received.get()
    assert pressed.id == stale.id

    await interaction.edit_original_response(view=None)
    with pytest.raises(DoubleError, match="no component"):
        await double.click(card, "press")
    older = await double.click(card, "press", stale=True)
    async with asyncio.timeout(5):
        assert (await probe_bot.received.get()).id == older.id
