"""Moderation end to end, the real bot against the doubles: /mod refused to members without rights, pause
and resume, limits and their private refusals, blocks, blocked words, the fair turn order with a
moderator's front, /queue, and settings and blocks surviving a restart, in English and Korean."""

from __future__ import annotations

from typing import Any

import pytest

from bot.i18n import t
from discord_double import ChannelSpec, InteractionHandle, StoredMessage, UserSpec, make_image
from tests.conftest import EndToEnd
from tests.e2e.helpers import (
    animate,
    assert_clean,
    buttons,
    end_notices,
    has_hangul,
    has_video,
    message_text,
    only_request_id,
    run_to_completion,
    short_job_id,
    showing,
    text_pattern,
    wait_notices,
)

MANAGE_GUILD = 0x20
WAITING_HERE = "Waiting in this server's queue"
AT_RUNCOMFY = "Waiting at RunComfy"


async def mod(
    e2e: EndToEnd,
    subcommand: str,
    options: dict[str, Any] | None = None,
    *,
    user: UserSpec | None = None,
    permissions: int | None = MANAGE_GUILD,
    locale: str = "en-US",
) -> StoredMessage:
    """Type ``/mod <subcommand>`` (with Manage Server by default) and return the private answer. Sent even
    when the member lacks the command's default permissions, as a tampered client could."""
    handle = await e2e.discord.invoke_command(
        f"mod {subcommand}", options, user=user, permissions=permissions, locale=locale, force=True
    )
    return await private_answer(handle)


async def private_answer(handle: InteractionHandle) -> StoredMessage:
    answer = await handle.wait_original(lambda m: bool(m.content))
    assert answer.ephemeral
    return answer


def refused_as(answer: StoredMessage, locale: str, reason: str) -> bool:
    return answer.ephemeral and bool(text_pattern(locale, f"refusal.{reason}").search(answer.content))


@pytest.mark.parametrize("locale", ["en-US", "ko"], ids=["english", "korean"])
async def test_a_member_without_rights_is_refused_every_mod_command(e2e: EndToEnd, locale: str) -> None:
    member = e2e.discord.member
    for subcommand, options in [
        ("pause", {"reason": "mine now"}),
        ("resume", None),
        ("clear", None),
        ("cancel", {"job": "abcd1234"}),
        ("front", {"job": "abcd1234"}),
        ("block", {"member": member}),
        ("unblock", {"member": member}),
        ("settings", {"member_daily": 1}),
        ("words", {"action": "add", "word": "cat"}),
    ]:
        answer = await mod(e2e, subcommand, options, permissions=0, locale=locale)
        assert answer.content == t(locale, "mod.not_moderator"), subcommand
        assert has_hangul(answer.content) is (locale == "ko")

    shown = await mod(e2e, "settings", locale=locale)
    assert t(locale, "settings.paused") not in shown.content
    assert "`member_daily` — " in shown.content
    assert t(locale, "settings.no_limit") in shown.content
    assert "cat" not in shown.content
    handle = await animate(e2e, "a cat waves")
    await handle.wait_original(showing("a cat waves"))
    assert_clean(e2e)


@pytest.mark.parametrize("locale", ["en-US", "ko"], ids=["english", "korean"])
async def test_pause_refuses_new_jobs_privately_and_resume_lets_them_in(e2e: EndToEnd, locale: str) -> None:
    paused = await mod(e2e, "pause", {"reason": "upkeep tonight"}, locale=locale)
    assert paused.content.startswith(t(locale, "mod.done", line="").strip())

    refused = await private_answer(await animate(e2e, locale=locale))
    assert refused_as(refused, locale, "paused")
    assert "upkeep tonight" in refused.content
    assert not e2e.runcomfy.requests_to("submit")

    await mod(e2e, "resume", locale=locale)
    accepted = await animate(e2e, locale=locale)
    card = await accepted.wait_original(lambda m: bool(m.embeds))
    assert not card.ephemeral
    await e2e.runcomfy.wait_for_requests("submit", 1)
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_each_member_limit_refuses_privately_and_costs_nothing(e2e: EndToEnd) -> None:
    await mod(e2e, "settings", {"member_active": 1, "max_resolution": "720p", "max_duration": 5})

    first = await animate(e2e, "the first cat waves")
    await first.wait_original(showing(AT_RUNCOMFY))
    too_many = await private_answer(await animate(e2e, "the second cat waves"))
    too_big = await private_answer(await animate(e2e, "a big cat", resolution="1080p"))
    too_long = await private_answer(await animate(e2e, "a long cat", duration=10))

    assert refused_as(too_many, "en-US", "too_many_active")
    assert refused_as(too_big, "en-US", "resolution_too_high")
    assert refused_as(too_long, "en-US", "duration_too_long")
    assert len(e2e.runcomfy.requests_to("submit")) == 1
    await run_to_completion(e2e, first, only_request_id(e2e))
    await wait_notices(e2e, 1)  # the job has ended, not only shown its video
    again = await animate(e2e, "the third cat waves")
    await again.wait_original(showing(AT_RUNCOMFY))
    assert_clean(e2e)


async def test_a_blocked_word_refuses_the_prompt_and_can_be_removed(e2e: EndToEnd) -> None:
    await mod(e2e, "words", {"action": "add", "word": "Dragon"})
    listed = await mod(e2e, "words", {"action": "list"})
    assert "`Dragon`" in listed.content

    refused = await private_answer(await animate(e2e, "a dragon flies over the hills"))
    assert refused_as(refused, "en-US", "blocked_word")

    await mod(e2e, "words", {"action": "remove", "word": "dragon"})
    accepted = await animate(e2e, "a dragon flies over the hills")
    await accepted.wait_original(lambda m: bool(m.embeds))
    assert_clean(e2e)


async def test_a_block_refuses_only_that_member_until_lifted_and_survives_a_restart(e2e: EndToEnd) -> None:
    member = e2e.discord.member
    blocked = await mod(e2e, "block", {"member": member, "hours": 2, "reason": "spam"})
    assert f"<@{member.id}>" in blocked.content

    other = e2e.discord.add_user("other")
    await e2e.restart()
    refused = await private_answer(await animate(e2e))
    assert refused_as(refused, "en-US", "blocked")
    assert "<t:" in refused.content  # when the block ends
    welcome = await e2e.discord.invoke_command(
        "animate", {"prompt": "another cat"}, {"image": make_image(640, 480)}, user=other
    )
    await welcome.wait_original(lambda m: bool(m.embeds))

    await mod(e2e, "unblock", {"member": member})
    again = await mod(e2e, "unblock", {"member": member})
    assert again.content == t("en-US", "mod.not_blocked", member=f"<@{member.id}>")
    accepted = await animate(e2e)
    await accepted.wait_original(lambda m: bool(m.embeds))
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)  # the first job stays waiting at RunComfy, shown as such
async def test_settings_survive_a_restart(e2e: EndToEnd) -> None:
    await mod(e2e, "settings", {"cooldown_s": 3600, "queue_max": 5})
    first = await animate(e2e)
    await first.wait_original(showing(AT_RUNCOMFY))  # accepted, so it counts for the cooldown

    await e2e.restart()
    shown = await mod(e2e, "settings")
    refused = await private_answer(await animate(e2e))

    assert "`cooldown_s` — " in shown.content
    assert "3600" in shown.content
    assert refused_as(refused, "en-US", "cooldown")
    assert_clean(e2e)


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.runcomfy_config(manual=True)
async def test_members_take_turns_and_a_moderator_moves_a_job_to_the_front(e2e: EndToEnd) -> None:
    busy, patient = e2e.discord.member, e2e.discord.add_user("patient")
    blocker = await animate(e2e, "busy 1")
    await blocker.wait_original(showing(AT_RUNCOMFY))
    waiting = [await animate(e2e, f"busy {n}") for n in (2, 3)]
    for handle in waiting:
        await handle.wait_original(showing(WAITING_HERE))
    other = await e2e.discord.invoke_command(
        "animate", {"prompt": "patient 1"}, {"image": make_image(640, 480)}, user=patient
    )
    await other.wait_original(showing(WAITING_HERE))
    busy_3 = short_job_id(await waiting[1].wait_original(showing(WAITING_HERE)))

    listing = await private_answer(await e2e.discord.invoke_command("queue", user=patient))
    rows = listing.content.splitlines()[1:]
    assert all(f"<@{user.id}>" in row for row, user in zip(rows, [busy, patient, busy, busy], strict=True))
    assert [t("en-US", "queue.own") in row for row in rows] == [False, True, False, False]
    front = await mod(e2e, "front", {"job": busy_3})
    assert busy_3 in front.content

    for submitted in range(1, 5):
        await e2e.runcomfy.wait_for_requests("submit", submitted)
        latest = list(e2e.runcomfy.jobs)[-1]
        while e2e.runcomfy.jobs[latest].status != "completed":
            e2e.runcomfy.advance(latest)
    await other.wait_original(has_video)
    prompts = [r.json["prompt"] for r in e2e.runcomfy.requests_to("submit")]
    assert prompts == ["busy 1", "busy 3", "patient 1", "busy 2"]
    assert_clean(e2e)


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.runcomfy_config(manual=True)
async def test_a_waiting_card_says_the_queue_is_paused_until_it_resumes(e2e: EndToEnd) -> None:
    paused_note = t("en-US", "card.status.paused")
    blocker = await animate(e2e, "the first cat waves")
    await blocker.wait_original(showing(AT_RUNCOMFY))
    waiting = await animate(e2e, "the second cat waves")
    await waiting.wait_original(showing(WAITING_HERE))

    await mod(e2e, "pause")
    await waiting.wait_original(showing(paused_note))
    await mod(e2e, "resume")
    await waiting.wait_original(lambda m: paused_note not in message_text(m))

    await run_to_completion(e2e, blocker, only_request_id(e2e))
    await e2e.runcomfy.wait_for_requests("submit", 2)
    assert_clean(e2e)


async def log_entries(e2e: EndToEnd, channel: ChannelSpec, count: int) -> list[StoredMessage]:
    """Wait until the log channel holds ``count`` public messages; return them, oldest first."""

    def posted() -> list[StoredMessage] | None:
        public = [m for m in e2e.discord.messages(channel) if not m.ephemeral]
        return public if len(public) >= count else None

    return await e2e.discord.wait_for(posted, timeout=10)


def posted_without_pings(e2e: EndToEnd, message: StoredMessage) -> bool:
    request = next(
        r
        for r in e2e.discord.requests
        if isinstance(r.response, dict) and r.response.get("id") == str(message.id)
    )
    allowed = (request.json or {}).get("allowed_mentions")
    return allowed is not None and not allowed.get("parse") and not allowed.get("users")


@pytest.mark.parametrize("locale", ["en-US", "ko"], ids=["english", "korean"])
async def test_every_action_is_posted_to_the_log_channel_without_pinging(e2e: EndToEnd, locale: str) -> None:
    log = e2e.discord.add_channel("mod-log")
    moderator = e2e.discord.member
    await mod(e2e, "settings", {"log_channel": log}, locale=locale)
    await mod(e2e, "pause", {"reason": "night <@&1> @everyone"}, locale=locale)
    await mod(e2e, "block", {"member": e2e.discord.owner, "hours": 3}, locale=locale)

    entries = await log_entries(e2e, log, 3)

    assert "`log_channel`" in entries[0].content
    assert f"<@{moderator.id}>" in entries[1].content
    assert "night" in entries[1].content
    assert "@everyone" not in entries[1].content  # broken, so it can neither ping nor read as a ping
    assert f"<@{e2e.discord.owner.id}>" in entries[2].content
    assert all(posted_without_pings(e2e, entry) for entry in entries)
    assert_clean(e2e)


async def test_channels_and_roles_limit_where_and_by_whom_animate_works(e2e: EndToEnd) -> None:
    studio = e2e.discord.add_channel("studio")
    artists = e2e.discord.add_role("artists", 0)
    await mod(e2e, "channels", {"channel": studio, "allowed": True})
    await mod(e2e, "roles", {"role": artists, "allowed": True})

    elsewhere = await private_answer(await animate(e2e))
    assert refused_as(elsewhere, "en-US", "channel_not_allowed")
    assert f"<#{studio.id}>" in elsewhere.content
    values, image = {"prompt": "a cat waves"}, {"image": make_image(640, 480)}
    no_role = await private_answer(await e2e.discord.invoke_command("animate", values, image, channel=studio))
    assert refused_as(no_role, "en-US", "role_not_allowed")
    welcome = await e2e.discord.invoke_command("animate", values, image, channel=studio, roles=[artists])
    await welcome.wait_original(lambda m: bool(m.embeds))
    assert len(e2e.runcomfy.requests_to("submit")) <= 1
    assert_clean(e2e)


async def test_the_moderator_role_lets_its_members_moderate_without_manage_server(e2e: EndToEnd) -> None:
    helpers = e2e.discord.add_role("helpers", 0)
    helper = e2e.discord.add_user("helper")
    before = await mod(e2e, "pause", user=helper, permissions=0)
    await mod(e2e, "settings", {"moderator_role": helpers})
    e2e.discord.assign_roles(helper, helpers)
    after = await mod(e2e, "pause", {"reason": "tea"}, user=helper, permissions=None)

    assert before.content == t("en-US", "mod.not_moderator")
    assert after.content != t("en-US", "mod.not_moderator")
    refused = await private_answer(await animate(e2e))
    assert refused_as(refused, "en-US", "paused")
    assert_clean(e2e)


@pytest.mark.runcomfy_config(manual=True)
async def test_a_reported_video_is_removed_by_a_moderator_and_not_by_anyone_else(e2e: EndToEnd) -> None:
    log = e2e.discord.add_channel("mod-log")
    await mod(e2e, "settings", {"log_channel": log})
    handle = await animate(e2e)
    final = await run_to_completion(e2e, handle, (await _one_request(e2e)))
    await wait_notices(e2e, 1)
    job_id = short_job_id(final)

    reported = await private_answer(await e2e.discord.click(final, f"animate:report:{job_id}"))
    assert reported.content == t("en-US", "report.sent")
    [_, report] = await log_entries(e2e, log, 2)
    remove = f"animate:remove:{job_id}"
    assert f"<@{e2e.discord.member.id}>" in report.content
    assert str(final.id) in report.content  # the link to the video's message

    stranger = e2e.discord.add_user("stranger")
    refused = await private_answer(await e2e.discord.click(report, remove, user=stranger, permissions=0))
    # A tampered client sends the Remove press from the video's own message, which never carried it.
    forged = await e2e.discord.click(final, remove, user=stranger, permissions=0, forged=True)
    assert refused.content == t("en-US", "mod.not_moderator")
    assert not e2e.discord.deleted()

    await e2e.discord.click(report, remove, permissions=MANAGE_GUILD)
    await e2e.discord.wait_for(lambda: e2e.discord.deleted())
    assert [m.id for m in e2e.discord.deleted()] == [final.id]
    [*_, removal] = await log_entries(e2e, log, 3)
    assert job_id in removal.content
    assert f"<@{e2e.discord.member.id}>" in removal.content
    assert forged.response_type is None  # discord.py drops a press its message never offered
    assert_clean(e2e)


async def _one_request(e2e: EndToEnd) -> str:
    await e2e.runcomfy.wait_for_requests("submit", 1)
    return only_request_id(e2e)


async def test_the_servers_automod_keywords_refuse_a_prompt_where_the_bot_may_read_them(
    e2e: EndToEnd,
) -> None:
    discord = e2e.discord
    bot_role = next(r for r in discord.guild.roles if r.id == discord.world.bot_role_ids[discord.guild.id])
    bot_role.permissions |= MANAGE_GUILD
    await e2e.discord.add_automod_rule("no dragons", keyword_filter=["dragon*"])

    refused = await private_answer(await animate(e2e, "a dragonfly over the pond"))
    accepted = await animate(e2e, "a frog on a leaf")

    assert refused_as(refused, "en-US", "automod")
    assert "no dragons" in refused.content
    await accepted.wait_original(lambda m: bool(m.embeds))
    assert_clean(e2e)


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.runcomfy_config(manual=True)
async def test_the_job_option_offers_this_servers_waiting_jobs_to_moderators_only(e2e: EndToEnd) -> None:
    blocker = await animate(e2e, "the first cat waves")
    await blocker.wait_original(showing(AT_RUNCOMFY))
    waiting = await animate(e2e, "the second cat waves")
    job_id = short_job_id(await waiting.wait_original(showing(WAITING_HERE)))
    moderators = e2e.discord.add_role("mods", MANAGE_GUILD)

    offered = await e2e.discord.autocomplete(
        "mod cancel", {"job": job_id[:3]}, focused="job", roles=[moderators]
    )
    hidden = await e2e.discord.autocomplete("mod cancel", {"job": ""}, focused="job", roles=[])

    await e2e.discord.wait_for(lambda: offered.choices is not None and hidden.choices is not None)
    assert [choice["value"] for choice in offered.choices or []] == [job_id]
    assert "the second cat waves" in (offered.choices or [{}])[0]["name"]
    assert hidden.choices == []
    assert_clean(e2e)


async def approval_request(e2e: EndToEnd, log: ChannelSpec, job_id: str) -> StoredMessage:
    """The request in the log channel that carries the job's Approve button."""
    wanted = f"animate:approve:{job_id}"
    return await e2e.discord.wait_for(
        lambda: next(
            (m for m in e2e.discord.messages(log) if any(b.get("custom_id") == wanted for b in buttons(m))),
            None,
        )
    )


async def waiting_for_approval(
    e2e: EndToEnd, locale: str = "en-US"
) -> tuple[ChannelSpec, InteractionHandle, str]:
    log = e2e.discord.add_channel("mod-log")
    await mod(e2e, "settings", {"log_channel": log, "approval": True}, locale=locale)
    handle = await animate(e2e, "a cat asks politely", locale=locale)
    card = await handle.wait_original(showing(t(locale, "card.status.awaiting_approval")))
    return log, handle, short_job_id(card)


async def test_approval_mode_needs_a_log_channel(e2e: EndToEnd) -> None:
    refused = await mod(e2e, "settings", {"approval": True})
    shown = await mod(e2e, "settings")

    assert refused.content == t("en-US", "mod.approval_needs_log_channel")
    assert (
        f"`approval` — {t('en-US', 'settings.label.approval')}: {t('en-US', 'settings.off')}" in shown.content
    )


@pytest.mark.runcomfy_config(manual=True)
async def test_a_job_runs_only_once_a_moderator_approves_it(e2e: EndToEnd) -> None:
    log, handle, job_id = await waiting_for_approval(e2e)
    request = await approval_request(e2e, log, job_id)
    assert "a cat asks politely" in request.content
    assert f"<@{e2e.discord.member.id}>" in request.content

    refused = await private_answer(
        await e2e.discord.click(request, f"animate:approve:{job_id}", permissions=0)
    )
    assert refused.content == t("en-US", "mod.not_moderator")
    assert not e2e.runcomfy.requests_to("submit")

    await e2e.discord.click(request, f"animate:approve:{job_id}", permissions=MANAGE_GUILD)
    await e2e.runcomfy.wait_for_requests("submit", 1)
    decided = await e2e.discord.wait_for(lambda: _decided(e2e, request))
    assert job_id in decided.content.splitlines()[-1]
    await handle.wait_original(lambda m: t("en-US", "card.status.awaiting_approval") not in message_text(m))
    assert_clean(e2e)


@pytest.mark.parametrize("locale", ["en-US", "ko"], ids=["english", "korean"])
async def test_a_denied_job_is_cancelled_and_the_member_told_why(e2e: EndToEnd, locale: str) -> None:
    log, handle, job_id = await waiting_for_approval(e2e, locale)
    request = await approval_request(e2e, log, job_id)

    moderators = e2e.discord.add_role("mods", MANAGE_GUILD)
    moderator = e2e.discord.add_user("moderator")
    opened = await e2e.discord.click(
        request, f"animate:deny:{job_id}", user=moderator, roles=[moderators], locale=locale
    )
    await opened.wait_response()
    assert opened.modal is not None
    await e2e.discord.submit_modal(opened, {"reason": "off-topic for this server"}, locale=locale)

    notice = await e2e.discord.wait_for(
        lambda: next(
            (
                m
                for m in e2e.discord.messages(e2e.discord.channel)
                if "off-topic for this server" in m.content and not m.ephemeral
            ),
            None,
        )
    )
    assert f"<@{e2e.discord.member.id}>" in notice.content
    assert notice in end_notices(e2e.discord, e2e.discord.member.id)  # the member is pinged
    assert has_hangul(notice.content) is (locale == "ko")
    await handle.wait_original(showing(t(locale, "card.title.cancelled")))
    decided = await e2e.discord.wait_for(lambda: _decided(e2e, request))
    assert "off-topic for this server" in decided.content
    assert not e2e.runcomfy.requests_to("submit")
    assert_clean(e2e)


def _decided(e2e: EndToEnd, request: StoredMessage) -> StoredMessage | None:
    """The approval request once its buttons are gone (a moderator decided)."""
    current = e2e.discord.message(request.id)
    return current if not current.components else None


def setting_shown(answer: StoredMessage, name: str) -> str:
    """What ``/mod settings`` shows for one setting."""
    line = next(line for line in answer.content.splitlines() if line.startswith(f"`{name}`"))
    return line.rsplit(": ", 1)[1]


async def test_the_log_channel_and_the_moderator_role_can_be_unset_but_not_the_channel_approval_needs(
    e2e: EndToEnd,
) -> None:
    log = e2e.discord.add_channel("mod-log")
    role = e2e.discord.add_role("helpers", 0)
    await mod(e2e, "settings", {"log_channel": log, "moderator_role": role, "approval": True})

    unset = await mod(e2e, "settings", {"unset": "moderator_role"})
    refused = await mod(e2e, "settings", {"unset": "log_channel"})
    both = await mod(e2e, "settings", {"log_channel": log, "unset": "log_channel"})
    shown = await mod(e2e, "settings")

    assert "moderator_role" in unset.content
    assert setting_shown(shown, "moderator_role") == t("en-US", "settings.none")
    assert refused.content == t("en-US", "mod.approval_needs_log_channel")
    assert both.content == t("en-US", "mod.set_and_unset", setting="log_channel")
    assert setting_shown(shown, "log_channel") == f"<#{log.id}>"
    [*_, entry] = await log_entries(e2e, log, 4)  # three settings, then the unset
    assert t("en-US", "audit.unset", moderator=f"<@{e2e.discord.member.id}>", target="`moderator_role`") in (
        entry.content
    )

    await mod(e2e, "settings", {"approval": False})
    await mod(e2e, "settings", {"unset": "log_channel"})
    assert setting_shown(await mod(e2e, "settings"), "log_channel") == t("en-US", "settings.none")
    assert_clean(e2e)
