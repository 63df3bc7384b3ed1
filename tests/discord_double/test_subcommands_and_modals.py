"""Subcommands, typed options with ``resolved``, default_member_permissions, autocomplete and modals,
against discord.py's own command tree and modal classes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands

from discord_double import DiscordDouble, DoubleError, InteractionHandle, rules
from tests.discord_double.conftest import ProbeBot, connected

MANAGE_GUILD = discord.Permissions(manage_guild=True).value


class Reason(discord.ui.Modal, title="Deny the job"):
    reason: discord.ui.TextInput[Reason] = discord.ui.TextInput(
        label="Reason", custom_id="reason", min_length=3, max_length=50
    )
    note: discord.ui.TextInput[Reason] = discord.ui.TextInput(
        label="Note", custom_id="note", required=False, style=discord.TextStyle.paragraph
    )

    def __init__(self, seen: asyncio.Queue[Any]) -> None:
        super().__init__(custom_id="deny-modal")
        self.seen = seen

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.seen.put((interaction, self.reason.value, self.note.value))
        if self.reason.value != "silent":
            await interaction.response.send_message("denied", ephemeral=True)


class ModBot:
    """A client with ``/mod`` (Manage Server by default) whose callbacks hand their arguments to the test."""

    def __init__(self) -> None:
        self.client = discord.Client(intents=discord.Intents(guilds=True))
        self.tree = app_commands.CommandTree(self.client)
        self.seen: asyncio.Queue[Any] = asyncio.Queue()
        seen = self.seen
        mod = app_commands.Group(
            name="mod", description="Moderation", default_permissions=discord.Permissions(manage_guild=True)
        )
        words = app_commands.Group(name="words", description="Blocked words", parent=mod)

        @mod.command(name="settings", description="Settings")
        async def settings(
            interaction: discord.Interaction,
            member_active: int | None = None,
            approval: bool | None = None,
            log_channel: discord.TextChannel | None = None,
            moderator_role: discord.Role | None = None,
        ) -> None:
            await seen.put((member_active, approval, log_channel, moderator_role))
            await interaction.response.send_message("ok", ephemeral=True)

        @mod.command(name="block", description="Block a member")
        async def block(
            interaction: discord.Interaction,
            member: discord.Member,
            hours: app_commands.Range[int, 1, 720] = 24,
        ) -> None:
            await seen.put((member, hours))
            await interaction.response.send_message("blocked", ephemeral=True)

        @mod.command(name="cancel", description="Cancel a job")
        async def cancel(interaction: discord.Interaction, job: str, reason: str | None = None) -> None:
            await seen.put(job)
            await interaction.response.send_modal(Reason(seen))

        @cancel.autocomplete("job")
        async def jobs(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            await seen.put(("typed", current))
            return [
                app_commands.Choice(name=f"job {j}", value=j) for j in ("abc", "abd") if j.startswith(current)
            ]

        @words.command(name="add", description="Add a word")
        async def add(interaction: discord.Interaction, word: str) -> None:
            await seen.put(("word", word))
            if word != "silent":
                await interaction.response.send_message("added", ephemeral=True)

        self.tree.add_command(mod)

    async def next(self) -> Any:
        async with asyncio.timeout(5):
            return await self.seen.get()


@pytest.fixture
async def mod_bot(discordpy_at_double: DiscordDouble) -> AsyncIterator[ModBot]:
    bot = ModBot()
    async with connected(discordpy_at_double, bot.client, bot.tree):
        yield bot


def _moderator(double: DiscordDouble) -> Any:
    return double.add_user("moderator", roles=[double.add_role("mods", MANAGE_GUILD)])


async def test_subcommand_options_arrive_typed_with_resolved_channels_and_roles(
    mod_bot: ModBot, discord_double: DiscordDouble
) -> None:
    double = discord_double
    log = double.guild.channels[0]
    role = double.add_role("helpers", 0)
    handle = await double.invoke_command(
        "mod settings",
        {"member_active": 3, "approval": True, "log_channel": log, "moderator_role": role},
        user=_moderator(double),
    )
    member_active, approval, channel, picked = await mod_bot.next()

    assert (member_active, approval) == (3, True)
    assert channel.id == log.id
    assert picked.id == role.id
    resolved = handle.record.payload["data"]["resolved"]
    assert set(resolved) == {"channels", "roles"}
    assert resolved["channels"][str(log.id)]["permissions"] == str(
        double.permissions_of(double.guild.members[-1], log)
    )
    assert await handle.wait_response() == 4


async def test_a_user_option_resolves_the_member_with_roles(
    mod_bot: ModBot, discord_double: DiscordDouble
) -> None:
    double = discord_double
    regulars = double.add_role("regulars", 0)
    target = double.add_user("target", roles=[regulars])
    handle = await double.invoke_command("mod block", {"member": target, "hours": 2}, user=_moderator(double))
    member, hours = await mod_bot.next()

    assert (member.id, hours) == (target.id, 2)
    resolved = handle.record.payload["data"]["resolved"]
    assert resolved["members"][str(target.id)]["roles"] == [str(regulars.id)]
    assert resolved["users"][str(target.id)]["username"] == "target"


async def test_a_subcommand_group(mod_bot: ModBot, discord_double: DiscordDouble) -> None:
    await discord_double.invoke_command("mod words add", {"word": "spam"}, user=_moderator(discord_double))
    assert await mod_bot.next() == ("word", "spam")


@pytest.mark.double_config(strict_options=True)
async def test_the_client_refuses_what_discord_would_not_send(
    mod_bot: ModBot, discord_double: DiscordDouble
) -> None:
    double = discord_double
    moderator = _moderator(double)
    with pytest.raises(DoubleError, match="required"):
        await double.invoke_command("mod cancel", {}, user=moderator)
    with pytest.raises(DoubleError, match="takes a number"):
        await double.invoke_command("mod settings", {"member_active": "3"}, user=moderator)
    with pytest.raises(DoubleError, match="subcommand"):
        await double.invoke_command("mod", {}, user=moderator)
    with pytest.raises(DoubleError, match=r"outside 1\.\.720"):
        await double.invoke_command("mod block", {"member": double.member, "hours": 0}, user=moderator)


async def test_without_strict_options_a_tampered_client_may_leave_out_required_ones(
    mod_bot: ModBot, discord_double: DiscordDouble
) -> None:
    double = discord_double
    handle = await double.invoke_command("mod block", {"hours": 2}, user=_moderator(double))
    assert handle.record.payload["data"]["options"][0]["options"] == [
        {"name": "hours", "type": 4, "value": 2}
    ]
    with pytest.raises(DoubleError, match="takes a number"):
        await double.invoke_command("mod settings", {"member_active": "3"}, user=_moderator(double))


async def test_default_member_permissions_hide_the_command_unless_forced(
    mod_bot: ModBot, discord_double: DiscordDouble
) -> None:
    double = discord_double
    with pytest.raises(DoubleError, match="force=True"):
        await double.invoke_command("mod settings", {"member_active": 1})
    handle = await double.invoke_command("mod settings", {"member_active": 1}, force=True)
    assert (await mod_bot.next())[0] == 1
    assert not int(handle.record.payload["member"]["permissions"]) & MANAGE_GUILD
    await double.invoke_command("mod settings", {"member_active": 2}, user=double.owner)
    assert (await mod_bot.next())[0] == 2


async def test_autocomplete_sends_the_focused_option_and_records_the_choices(
    mod_bot: ModBot, discord_double: DiscordDouble
) -> None:
    double = discord_double
    handle = await double.autocomplete("mod cancel", {"job": "ab"}, focused="job", user=_moderator(double))
    assert await mod_bot.next() == ("typed", "ab")
    assert await handle.wait_response() == 8
    assert handle.choices == [{"name": "job abc", "value": "abc"}, {"name": "job abd", "value": "abd"}]
    option = handle.record.payload["data"]["options"][0]["options"][0]
    assert option == {"name": "job", "type": 3, "value": "ab", "focused": True}


async def _opened(mod_bot: ModBot, double: DiscordDouble) -> tuple[InteractionHandle, Any]:
    moderator = _moderator(double)
    handle = await double.invoke_command("mod cancel", {"job": "abc"}, user=moderator)
    assert await mod_bot.next() == "abc"
    assert await handle.wait_response() == 9
    return handle, moderator


async def test_a_modal_is_submitted_by_the_member_it_was_opened_for(
    mod_bot: ModBot, discord_double: DiscordDouble
) -> None:
    double = discord_double
    opened, moderator = await _opened(mod_bot, double)
    assert opened.modal is not None
    assert opened.modal["title"] == "Deny the job"

    with pytest.raises(DoubleError, match="opened for moderator"):
        await double.submit_modal(opened, {"reason": "spam"}, user=double.member)
    with pytest.raises(DoubleError, match="required"):
        await double.submit_modal(opened, {"note": "x"})
    with pytest.raises(DoubleError, match=r"3\.\.50"):
        await double.submit_modal(opened, {"reason": "no"})

    submitted = await double.submit_modal(opened, {"reason": "off topic"})
    interaction, reason, note = await mod_bot.next()
    assert (reason, note) == ("off topic", "")
    assert interaction.type is discord.InteractionType.modal_submit
    assert interaction.user.id == moderator.id
    assert (await submitted.wait_original()).content == "denied"
    with pytest.raises(DoubleError, match="already submitted"):
        await double.submit_modal(opened, {"reason": "again"})


async def test_callback_types_and_modal_bodies_are_checked(
    bot_http: discord.http.HTTPClient, mod_bot: ModBot, discord_double: DiscordDouble
) -> None:
    double = discord_double
    moderator = _moderator(double)
    typed = await double.autocomplete("mod cancel", {"job": "zz"}, focused="job", user=moderator)
    await mod_bot.next()
    await typed.wait_response()

    invoked = await double.invoke_command("mod words add", {"word": "x"}, user=moderator)
    await mod_bot.next()
    await invoked.wait_response()
    opened, _ = await _opened(mod_bot, double)
    submitted = await double.submit_modal(opened, {"reason": "silent"})
    await mod_bot.next()

    async def answer(handle: InteractionHandle, body: dict[str, Any]) -> discord.HTTPException:
        route = discord.http.Route(
            "POST", "/interactions/{i}/{t}/callback", i=handle.id, t=handle.record.token
        )
        with pytest.raises(discord.HTTPException) as caught:
            await bot_http.request(route, json=body)
        return caught.value

    fresh = await double.invoke_command("mod words add", {"word": "silent"}, user=moderator)
    await mod_bot.next()
    assert (await answer(fresh, {"type": 8, "data": {"choices": []}})).code == rules.INVALID_FORM_BODY
    long_title = {"custom_id": "m", "title": "t" * 46, "components": []}
    refused = await answer(fresh, {"type": 9, "data": long_title})
    assert "data.title" in refused.text
    assert "data.components" in refused.text
    assert fresh.response_type is None
    assert (await answer(submitted, {"type": 9, "data": long_title})).code == rules.INVALID_FORM_BODY


async def test_a_modal_opened_from_a_button_may_update_that_message(probe_bot: ProbeBot) -> None:
    double = probe_bot.double
    handle, interaction = await probe_bot.invoke()
    await interaction.response.send_message("card", view=probe_bot.press_view())
    card = await handle.wait_original()
    pressed, press = await probe_bot.click(card.id)

    modal: discord.ui.Modal = discord.ui.Modal(title="Why", custom_id="why")
    modal.add_item(discord.ui.TextInput(label="Reason", custom_id="reason"))
    received = probe_bot.received

    async def submitted(interaction: discord.Interaction) -> None:
        await received.put(interaction)

    modal.on_submit = submitted  # type: ignore[method-assign]
    await press.response.send_modal(modal)
    assert await pressed.wait_response() == 9

    submit = await double.submit_modal(pressed, {"reason": "duplicate"})
    async with asyncio.timeout(5):
        answer = await received.get()
    assert answer.id == submit.id
    assert submit.record.payload["message"]["id"] == str(card.id)
    await answer.response.edit_message(content="denied: duplicate", view=None)
    assert submit.response_type == 7
    assert double.message(card.id).content == "denied: duplicate"
