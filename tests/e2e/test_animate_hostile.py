"""/animate against hostile input and a misbehaving upstream: an output URL that serves something else,
request ids that are not URL-safe, a store that fails right after RunComfy accepted a job, a button whose
handling fails, markup in a prompt, invisible prompts, and interaction tokens kept after their job ended."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from bot.i18n import t
from bot.store.sql import MIGRATIONS_DIR
from tests.conftest import EndToEnd
from tests.e2e.helpers import (
    VIDEO_WAIT_S,
    animate,
    assert_clean,
    cancel_button,
    card,
    has_card,
    has_video,
    message_text,
    public_messages,
    showing,
    versions,
    wait_notice,
)

AT_RUNCOMFY = "Waiting at RunComfy"
QUEUED_HERE = "Waiting in this server's queue"
UNSAFE_VIDEO = t("en", "failure.unsafe_video.what")
UNEXPECTED_ANSWER = t("en", "failure.unexpected_answer.what")
BODY = b"not a video: the body a hostile output URL serves"


def database(e2e: EndToEnd) -> Path:
    return e2e.bot.workdir / "bot.sqlite3"


def stored_tokens(e2e: EndToEnd) -> dict[str, str]:
    with sqlite3.connect(database(e2e)) as db:
        return dict(db.execute("SELECT id, interaction_token FROM jobs").fetchall())


def run_sql(e2e: EndToEnd, *statements: str) -> None:
    """Change the bot's SQLite database behind its back (it keeps running; WAL lets both write)."""
    with sqlite3.connect(database(e2e), timeout=10) as db:
        for statement in statements:
            db.execute(statement)


def migrate_down_to(e2e: EndToEnd, revision: str) -> None:
    """Take the bot's stopped database back to ``revision``, as an earlier version of the bot left it."""
    engine = sa.create_engine(f"sqlite:///{database(e2e)}")
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()


async def stopped_while(e2e: EndToEnd, *statements: str) -> None:
    """Kill the bot, run ``statements`` on its database (as an earlier version would have left it), and
    start it again."""
    before = e2e.discord.gateway.identify_count
    await e2e.kill9()
    run_sql(e2e, *statements)
    await e2e.bot.start()
    await e2e.wait_ready(after_identifies=before)


def no_attachment_anywhere(e2e: EndToEnd) -> bool:
    return not any(v.get("attachments") for m in e2e.discord.messages() for v in versions(m))


# ---- 1. the output URL -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "redirect_elsewhere"),
    [("text/plain", False), ("video/mp4", False), ("video/mp4", True)],
    ids=["serves-text", "text-labelled-mp4", "redirects-to-another-host-over-http"],
)
async def test_an_output_url_that_serves_no_mp4_fails_the_job_and_posts_nothing(
    e2e: EndToEnd, content_type: str, redirect_elsewhere: bool
) -> None:
    fake = e2e.runcomfy
    body_url = fake.serve_file("notes", BODY, content_type=content_type)
    if redirect_elsewhere:
        # Plain http to a host other than RUNCOMFY_API_BASE's (same machine, another name) is refused.
        elsewhere = body_url.replace("127.0.0.1", "localhost")
        fake.set_output_url(fake.serve_file("hop", redirect_to=elsewhere))
    else:
        fake.set_output_url(body_url)
    handle = await animate(e2e)
    final = await handle.wait_original(showing(UNSAFE_VIDEO), VIDEO_WAIT_S)
    notice = await wait_notice(e2e)

    assert no_attachment_anywhere(e2e)
    shown = "\n".join(message_text(v) for m in e2e.discord.messages() for v in versions(m))
    assert BODY.decode() not in shown
    assert "/files/" not in shown  # the refused URL is not shown either
    assert cancel_button(final) is None
    assert "<@" in notice.content
    assert_clean(e2e)


# ---- 2. request ids that are not URL-safe ------------------------------------------------------------------


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.parametrize("request_id", ["../../admin", "has space"])
async def test_an_accepted_request_id_that_is_not_url_safe_fails_that_job_and_frees_its_slot(
    e2e: EndToEnd, request_id: str
) -> None:
    e2e.runcomfy.answer_request_ids(request_id)
    broken = await animate(e2e, "the first cat waves")
    failed = await broken.wait_original(showing(UNEXPECTED_ANSWER), VIDEO_WAIT_S)
    after = await animate(e2e, "the second cat waves")
    delivered = await after.wait_original(has_video, VIDEO_WAIT_S)

    assert "refused the picture or the prompt" not in message_text(failed)  # it did not: it took the job
    assert has_video(delivered)
    assert [r.json["prompt"] for r in e2e.runcomfy.requests_to("submit")] == [
        "the first cat waves",
        "the second cat waves",
    ]
    paths = [r.path for r in e2e.runcomfy.requests]
    assert not [p for p in paths if "admin" in p or " " in p]
    assert "Traceback" not in e2e.bot.output()
    assert_clean(e2e)


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.runcomfy_config(manual=True)
async def test_a_stored_request_id_that_is_not_url_safe_fails_that_job_once_and_the_queue_moves_on(
    e2e: EndToEnd,
) -> None:
    first = await animate(e2e, "the first cat waves")
    waiting = await first.wait_original(showing(AT_RUNCOMFY))
    second = await animate(e2e, "the second cat waves")
    await second.wait_original(showing(QUEUED_HERE))

    # A database written before request ids were checked: the job holds one that is not URL-safe.
    await stopped_while(e2e, "UPDATE jobs SET request_id = '../../admin' WHERE request_id IS NOT NULL")
    click = await e2e.discord.click(waiting, str(cancel_button(waiting)["custom_id"]))  # type: ignore[index]
    answer = await click.wait_original()
    failed = await first.wait_original(showing(UNEXPECTED_ANSWER), VIDEO_WAIT_S)
    await e2e.runcomfy.wait_for_requests("submit", 2)
    second_id = list(e2e.runcomfy.jobs)[-1]
    e2e.runcomfy.advance(second_id)
    e2e.runcomfy.advance(second_id)
    delivered = await second.wait_original(has_video, VIDEO_WAIT_S)

    assert answer.ephemeral
    assert answer.content
    assert cancel_button(failed) is None
    assert has_video(delivered)
    assert not [r.path for r in e2e.runcomfy.requests if "admin" in r.path]
    output = e2e.bot.output()
    assert "Traceback" not in output
    assert output.count("status unavailable") <= 1
    assert_clean(e2e)


# ---- 3. the store fails right after RunComfy accepted a job ------------------------------------------------


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.runcomfy_config(manual=True)
async def test_an_accepted_job_is_kept_while_the_store_refuses_it_and_tracked_once_it_takes_it(
    e2e: EndToEnd,
) -> None:
    # The store refuses every save that records a request id (as a full disk or a broken database
    # would) while the test holds this trigger; everything before that still works.
    run_sql(
        e2e,
        "CREATE TRIGGER refuse_request_ids BEFORE UPDATE ON jobs WHEN NEW.request_id IS NOT NULL "
        "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
    )
    first = await animate(e2e, "the first cat waves")
    accepted = await first.wait_original(showing(AT_RUNCOMFY), VIDEO_WAIT_S)
    second = await animate(e2e, "the second cat waves")
    await second.wait_original(showing(QUEUED_HERE))
    await e2e.discord.wait_for(lambda: e2e.bot.output().count("could not record RunComfy's answer") >= 1)

    assert len(e2e.runcomfy.requests_to("submit")) == 1  # the slot stays counted
    run_sql(e2e, "DROP TRIGGER refuse_request_ids")
    [request_id] = list(e2e.runcomfy.jobs)
    await e2e.runcomfy.wait_for_requests("result", 1, timeout=VIDEO_WAIT_S)  # tracked once stored
    e2e.runcomfy.advance(request_id)
    e2e.runcomfy.advance(request_id)
    delivered = await first.wait_original(has_video, VIDEO_WAIT_S)

    assert accepted.id == delivered.id
    assert e2e.runcomfy.requests_to("submit")[0].json["prompt"] == "the first cat waves"
    assert e2e.bot.output().count("could not record RunComfy's answer") == 1
    assert_clean(e2e)


# ---- 4. every button answers -------------------------------------------------------------------------------


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.runcomfy_config(manual=True)
async def test_a_cancel_press_whose_handling_fails_gets_a_private_answer(e2e: EndToEnd) -> None:
    first = await animate(e2e, "the first cat waves")
    await first.wait_original(showing(AT_RUNCOMFY))
    second = await animate(e2e, "the second cat waves")
    waiting = await second.wait_original(showing(QUEUED_HERE))
    run_sql(e2e, "CREATE TRIGGER refuse_all BEFORE UPDATE ON jobs BEGIN SELECT RAISE(ABORT, 'locked'); END")

    click = await e2e.discord.click(waiting, str(cancel_button(waiting)["custom_id"]))  # type: ignore[index]
    answer = await e2e.discord.wait_for(lambda: next((m for m in click.messages if m.content), None))

    assert answer.ephemeral
    assert answer.content == t("en", "button.failed")
    run_sql(e2e, "DROP TRIGGER refuse_all")
    assert_clean(e2e)


# ---- 5. a long 429 on one reply ----------------------------------------------------------------------------

WEBHOOK_EDIT = "PATCH /webhooks/{application_id}/{token}/messages/{message_id}"
LONG_WAIT_S = 3600


async def test_a_reply_discord_refuses_for_long_is_retried_later_while_others_go_on(e2e: EndToEnd) -> None:
    discord = e2e.discord
    body = {"message": "You are being rate limited.", "retry_after": LONG_WAIT_S, "global": False}
    headers = {"Retry-After": str(LONG_WAIT_S), "Via": "1.1 google", "X-RateLimit-Scope": "user"}
    discord.inject(WEBHOOK_EDIT, 429, body, headers)
    refused = await animate(e2e, "the first cat waves")
    await discord.wait_for(lambda: any(r.status == 429 for r in discord.requests_to(WEBHOOK_EDIT)))
    other = await animate(e2e, "the second cat waves")
    other_final = await other.wait_original(has_video, VIDEO_WAIT_S)
    refused_final = await refused.wait_original(has_video, VIDEO_WAIT_S)

    assert has_video(other_final)
    assert has_video(refused_final)
    edits = discord.requests_to(WEBHOOK_EDIT)
    assert [r.status for r in edits].count(429) == 1
    assert_clean(e2e)


# ---- 6. markup in a prompt ---------------------------------------------------------------------------------


async def test_a_prompt_with_a_masked_link_is_shown_as_text(e2e: EndToEnd) -> None:
    prompt = "[free nitro](https://evil.example) @everyone **now**"
    handle = await animate(e2e, prompt)
    final = await handle.wait_original(has_video, VIDEO_WAIT_S)
    await wait_notice(e2e)

    shown_cards = [v for v in versions(final) if has_card(v)]
    assert shown_cards
    for shown in shown_cards:
        description = card(shown)["description"]
        assert "[free nitro](https://evil.example)" not in description
        assert r"\[free nitro\]\(https\://evil\.example\)" in description
        assert "@everyone" not in description
    assert_clean(e2e)


# ---- 7. invisible prompts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "locale", "key"),
    [
        ("\u200b\u200b\u2060", "en-US", "problem.prompt_missing"),
        ("\u2060\u200b", "ko", "problem.prompt_missing"),
        ("\x07\x1b\x08", "en-US", "problem.prompt_control"),
        ("the cat \x1b[2J waves", "ko", "problem.prompt_control"),
    ],
    ids=["zero-width-en", "word-joiner-ko", "controls-en", "escape-ko"],
)
async def test_an_invisible_or_control_prompt_is_refused_privately_and_nothing_is_sent(
    e2e: EndToEnd, prompt: str, locale: str, key: str
) -> None:
    handle = await animate(e2e, prompt, locale=locale)
    answer = await handle.wait_original()

    assert answer.ephemeral
    assert t(locale, key) in answer.content
    assert not e2e.runcomfy.requests_to("submit")
    assert not public_messages(e2e.discord)
    assert_clean(e2e)


# ---- 8. interaction tokens ---------------------------------------------------------------------------------


async def test_a_finished_job_keeps_no_interaction_token_and_old_ones_are_cleared(e2e: EndToEnd) -> None:
    handle = await animate(e2e)
    await handle.wait_original(has_video, VIDEO_WAIT_S)
    await wait_notice(e2e)
    await e2e.terminate()  # lets the last write land
    [(job_id, token)] = stored_tokens(e2e).items()
    assert token == ""

    # A database an earlier version left: an ended job still holds its token.
    migrate_down_to(e2e, "0002")
    run_sql(e2e, "UPDATE jobs SET interaction_token = 'old-token'")
    before = e2e.discord.gateway.identify_count
    await e2e.bot.start()
    await e2e.wait_ready(after_identifies=before)
    assert stored_tokens(e2e) == {job_id: ""}
    assert_clean(e2e)
