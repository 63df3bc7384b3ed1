"""/help and the application commands the real bot syncs: what a member sees in English and Korean, the
options and choices of /animate, and no second sync when the bot restarts with the same commands."""

from __future__ import annotations

from typing import Any

import pytest

from bot.i18n import t
from discord_double import rules
from tests.conftest import EndToEnd
from tests.e2e.helpers import CHANNEL_MESSAGE, COMMANDS_ROUTE, assert_clean, has_hangul

OPTION_STRING, OPTION_INTEGER, OPTION_ATTACHMENT = 3, 4, 11
MANAGE_GUILD = 0x20
GUILD_CONTEXT = 0
JSON = dict[str, Any]


def _synced(e2e: EndToEnd) -> dict[str, JSON]:
    """The commands as the bot last sent them to Discord, by name."""
    put = e2e.discord.requests_to(COMMANDS_ROUTE)[-1]
    assert put.status == 200
    return {command["name"]: command for command in put.json}


def _korean(thing: JSON) -> tuple[str, str]:
    return thing["name_localizations"]["ko"], thing["description_localizations"]["ko"]


@pytest.mark.parametrize(("locale", "korean"), [("en-GB", False), ("ko", True)], ids=["english", "korean"])
async def test_help_answers_privately_in_the_members_language(
    e2e: EndToEnd, locale: str, korean: bool
) -> None:
    handle = await e2e.discord.invoke_command("help", locale=locale)

    assert await handle.wait_response() == CHANNEL_MESSAGE
    answer = await handle.wait_original()
    assert answer.ephemeral
    assert answer.flags & rules.FLAG_EPHEMERAL
    assert has_hangul(answer.content) is korean
    assert answer.content.startswith("**/animate**")
    for fact in ("1900", "480p, 720p, 1080p", "5, 10", "300", "6000", "0.4", "2.5", "30"):
        assert fact in answer.content, fact
    assert len(answer.content) <= rules.CONTENT_MAX
    assert not e2e.runcomfy.requests
    assert_clean(e2e)


async def test_synced_commands_carry_korean_localisations(e2e: EndToEnd) -> None:
    commands = _synced(e2e)
    assert set(commands) == {"animate", "help", "queue", "mod"}
    for name, command in commands.items():
        ko_name, ko_description = _korean(command)
        assert ko_name != name
        assert has_hangul(ko_name)
        assert ko_description == t("ko", f"command.{name}.description")
        assert command["description"] == t("en", f"command.{name}.description")

    animate = commands["animate"]
    options = {option["name"]: option for option in animate["options"]}
    assert list(options) == ["image", "prompt", "last_frame", "resolution", "duration"]
    for name, option in options.items():
        ko_name, ko_description = _korean(option)
        assert has_hangul(ko_name)
        assert ko_description == t("ko", f"command.animate.{name}")
        assert option["description"] == t("en", f"command.animate.{name}")


def _every_option(thing: JSON) -> list[JSON]:
    """Subcommands and options of a command, at every depth."""
    inner = list(thing.get("options") or [])
    return inner + [deeper for option in inner for deeper in _every_option(option)]


async def test_every_mod_subcommand_and_option_reads_in_korean(e2e: EndToEnd) -> None:
    commands = _synced(e2e)
    for name in ("queue", "mod"):
        options = _every_option(commands[name])
        assert options
        for option in options:
            ko_name, ko_description = _korean(option)
            assert has_hangul(ko_name), option["name"]
            assert has_hangul(ko_description), option["name"]
            assert option["description"]
            assert not has_hangul(option["description"])
    subcommands = {option["name"] for option in commands["mod"]["options"]}
    assert subcommands == {
        "pause", "resume", "clear", "cancel", "front", "block", "unblock",
        "settings", "channels", "roles", "words",
    }  # fmt: skip
    assert int(commands["mod"]["default_member_permissions"]) == MANAGE_GUILD
    settings = next(o for o in commands["mod"]["options"] if o["name"] == "settings")
    assert [o["name"] for o in settings["options"]] == [
        "member_active", "member_daily", "cooldown_s", "queue_max", "max_resolution",
        "max_duration", "daily_budget", "approval", "log_channel", "moderator_role", "unset",
    ]  # fmt: skip


async def test_animate_declares_its_options_and_choices_and_is_for_servers_only(e2e: EndToEnd) -> None:
    animate = _synced(e2e)["animate"]
    options = {option["name"]: option for option in animate["options"]}

    assert animate["contexts"] == [GUILD_CONTEXT]
    assert animate["dm_permission"] is False
    assert [(o["type"], o.get("required", False)) for o in options.values()] == [
        (OPTION_ATTACHMENT, True),
        (OPTION_STRING, True),
        (OPTION_ATTACHMENT, False),
        (OPTION_STRING, False),
        (OPTION_INTEGER, False),
    ]
    assert options["prompt"]["min_length"] == 1
    assert options["prompt"]["max_length"] == 1900
    assert [c["value"] for c in options["resolution"]["choices"]] == ["480p", "720p", "1080p"]
    durations = options["duration"]["choices"]
    assert [c["value"] for c in durations] == [5, 10]
    for choice in durations:
        seconds = choice["value"]
        assert choice["name"] == t("en", f"command.animate.duration.{seconds}")
        assert choice["name_localizations"]["ko"] == t("ko", f"command.animate.duration.{seconds}")


async def test_a_restart_with_the_same_commands_does_not_sync_again(e2e: EndToEnd) -> None:
    assert len(e2e.discord.requests_to(COMMANDS_ROUTE)) == 1
    registered = e2e.discord.world.commands.all()

    await e2e.restart(clean=True)
    await e2e.restart(clean=True)

    assert len(e2e.discord.requests_to(COMMANDS_ROUTE)) == 1
    assert e2e.discord.world.commands.all() == registered
    handle = await e2e.discord.invoke_command("help")
    assert await handle.wait_response() == CHANNEL_MESSAGE
    assert_clean(e2e)
