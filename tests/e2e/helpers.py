"""Shared helpers for end-to-end tests of the real bot: invoking /animate, reading the job card, and the
checks every test makes (no unknown Discord or RunComfy routes, no refused bodies, no secret in the bot's
output).

Readers take a :class:`StoredMessage` or one of its payloads (``versions(message)`` gives every payload a
message has shown, so a test can look at the waiting card after the job has finished).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.i18n import catalog, language_for
from discord_double import (
    DiscordDouble,
    InteractionHandle,
    LocalFile,
    StoredMessage,
    UserSpec,
    make_image,
    rules,
)
from tests.conftest import RUNCOMFY_TOKEN, EndToEnd

CHANNEL_MESSAGE = 4
DEFERRED_MESSAGE = 5
RESPONSE_DEADLINE_S = 3.0
COMMANDS_ROUTE = "PUT /applications/{application_id}/commands"
CANCEL_PREFIX = "animate:cancel:"
VIDEO_WAIT_S = 20.0
PROMPT = "the cat slowly turns its head and blinks"
JSON = dict[str, Any]
Shown = StoredMessage | Mapping[str, Any]

_HANGUL = re.compile("[\uac00-\ud7a3]")
_SHORT_JOB_ID = re.compile(r"\b([0-9a-f]{8})\b")


def has_hangul(text: str) -> bool:
    return bool(_HANGUL.search(text))


def text_pattern(locale: str, key: str) -> re.Pattern[str]:
    """A regex matching the catalog text ``key`` in ``locale``'s language with any placeholder values."""
    template = catalog(language_for(locale))[key]
    parts = re.split(r"\{\w+\}", template)
    return re.compile(".+?".join(re.escape(part) for part in parts), re.DOTALL)


async def animate(
    e2e: EndToEnd,
    prompt: str | None = PROMPT,
    image: LocalFile | None = None,
    *,
    locale: str = "en-US",
    last_frame: LocalFile | None = None,
    without_image: bool = False,
    user: UserSpec | None = None,
    **options: Any,
) -> InteractionHandle:
    """Type ``/animate`` as ``user`` (the default member). ``image`` defaults to a valid 640×480 PNG; a
    ``None`` prompt or ``without_image`` leaves that required option out (as only a broken client could)."""
    values: dict[str, Any] = dict(options)
    if prompt is not None:
        values["prompt"] = prompt
    files: dict[str, LocalFile] = {}
    if not without_image:
        files["image"] = image if image is not None else make_image(640, 480)
    if last_frame is not None:
        files["last_frame"] = last_frame
    return await e2e.discord.invoke_command("animate", values, files, locale=locale, user=user)


def attachment_option(handle: InteractionHandle, name: str = "image") -> JSON:
    """The attachment object Discord sent the bot for the command option ``name``."""
    data = handle.record.payload["data"]
    option = next(o for o in data["options"] if o["name"] == name)
    return dict(data["resolved"]["attachments"][option["value"]])


def versions(message: StoredMessage) -> list[JSON]:
    """Every payload the message has shown, oldest first, the current one last."""
    return [*message.history, message.payload]


def _payload(shown: Shown) -> Mapping[str, Any]:
    return shown.payload if isinstance(shown, StoredMessage) else shown


def card(shown: Shown) -> JSON:
    """The job card: the message's only embed."""
    embeds = list(_payload(shown).get("embeds") or [])
    assert len(embeds) == 1, f"expected one embed, got {embeds!r}"
    return dict(embeds[0])


def has_card(shown: Shown) -> bool:
    return len(_payload(shown).get("embeds") or []) == 1


def message_text(shown: Shown) -> str:
    """Everything a member reads in a message: content, and each embed's title, text, fields and footer."""
    payload = _payload(shown)
    parts = [str(payload.get("content") or "")]
    for embed in payload.get("embeds") or []:
        parts += [str(embed.get("title", "")), str(embed.get("description", ""))]
        parts += [f"{f.get('name', '')} {f.get('value', '')}" for f in embed.get("fields", [])]
        parts.append(str((embed.get("footer") or {}).get("text", "")))
    return "\n".join(parts)


def status_line(shown: Shown) -> str:
    """The first line of the card's description: the job's state in words."""
    return str(card(shown).get("description", "")).split("\n", 1)[0]


def field_values(shown: Shown) -> list[str]:
    return [str(f["value"]) for f in card(shown).get("fields", [])]


def short_job_id(shown: Shown) -> str:
    """The job id the card's footer shows."""
    footer = str((card(shown).get("footer") or {}).get("text", ""))
    found = _SHORT_JOB_ID.search(footer)
    assert found, f"no job id in footer {footer!r}"
    return found.group(1)


def buttons(shown: Shown) -> list[JSON]:
    rows = _payload(shown).get("components") or []
    return [dict(child) for row in rows for child in row.get("components", [])]


def cancel_button(shown: Shown) -> JSON | None:
    return next((b for b in buttons(shown) if str(b.get("custom_id", "")).startswith(CANCEL_PREFIX)), None)


def video_attachment(shown: Shown) -> JSON | None:
    attachments = _payload(shown).get("attachments") or []
    return next((dict(a) for a in attachments if str(a["filename"]).endswith(".mp4")), None)


def has_video(shown: Shown) -> bool:
    return video_attachment(shown) is not None


def public_messages(discord: DiscordDouble) -> list[StoredMessage]:
    return [m for m in discord.messages() if not m.ephemeral]


def end_notices(discord: DiscordDouble, user_id: int) -> list[StoredMessage]:
    """Public messages that mention ``user_id`` in their content and were sent allowing that mention to
    ping (Discord keeps ``allowed_mentions`` only in the request, so it is read from the request log)."""
    pinging: set[str] = set()
    for request in discord.requests:
        body = request.json if isinstance(request.json, Mapping) else {}
        allowed = body.get("allowed_mentions") or {}
        users = [str(u) for u in allowed.get("users") or []]
        answer = request.response
        if (str(user_id) in users or "users" in allowed.get("parse", [])) and isinstance(answer, Mapping):
            pinging.add(str(answer.get("id")))
    return [m for m in public_messages(discord) if f"<@{user_id}>" in m.content and str(m.id) in pinging]


def refused_bodies(discord: DiscordDouble) -> list[Any]:
    """Answers in which the double refused a body for breaking Discord's limits (50035 Invalid Form Body)."""
    return [
        r.response
        for r in discord.requests
        if isinstance(r.response, Mapping) and r.response.get("code") == rules.INVALID_FORM_BODY
    ]


def assert_clean(e2e: EndToEnd, *, secrets: Sequence[str] = ()) -> None:
    """No unknown Discord or RunComfy route, no refused body, and no token or key in the bot's output."""
    discord = e2e.discord
    assert not discord.unknown_requests, discord.unknown_requests
    unknown_api = [f"{r.method} {r.path}" for r in e2e.runcomfy.unknown_requests]
    assert not unknown_api, f"the bot called routes RunComfy does not have: {unknown_api}"
    assert not refused_bodies(discord), refused_bodies(discord)
    output = e2e.bot.output()
    tokens = [discord.token, RUNCOMFY_TOKEN, *(r.token for r in discord.world.interactions.values())]
    leaked = [index for index, secret in enumerate([*tokens, *secrets]) if secret in output]
    assert not leaked, "a token or key appeared in the bot's output"


def showing(text: str) -> Callable[[StoredMessage], bool]:
    """A predicate for ``wait_original``: the message shows ``text`` anywhere."""
    return lambda message: text in message_text(message)


def only_request_id(e2e: EndToEnd) -> str:
    """The request id of the one job the fake RunComfy API holds."""
    [request_id] = list(e2e.runcomfy.jobs)
    return request_id


async def run_to_completion(e2e: EndToEnd, handle: InteractionHandle, request_id: str) -> StoredMessage:
    """Finish the manual fake's job and wait for the reply to hold the video."""
    fake = e2e.runcomfy
    while fake.jobs[request_id].status != "completed":
        fake.advance(request_id)
    return await handle.wait_original(has_video, timeout=VIDEO_WAIT_S)


async def wait_notices(e2e: EndToEnd, count: int) -> list[StoredMessage]:
    """Wait until ``count`` end notices mention the member who asked; return them all."""
    member = e2e.discord.member.id

    def enough() -> list[StoredMessage] | None:
        notices = end_notices(e2e.discord, member)
        return notices if len(notices) >= count else None

    return await e2e.discord.wait_for(enough)


async def wait_notice(e2e: EndToEnd) -> StoredMessage:
    """The one end notice that mentions (and pings) the member who asked."""
    notices = await wait_notices(e2e, 1)
    assert len(notices) == 1
    return notices[0]


async def first_public_message(
    e2e: EndToEnd,
    predicate: Callable[[StoredMessage], bool],
    timeout: float = VIDEO_WAIT_S,  # noqa: ASYNC109
) -> StoredMessage:
    """Wait for the first public message that satisfies ``predicate``."""
    discord = e2e.discord
    return await discord.wait_for(
        lambda: next((m for m in public_messages(discord) if predicate(m)), None), timeout
    )


def assert_holds_the_video(e2e: EndToEnd, message: StoredMessage) -> None:
    """``message`` carries the very video the fake RunComfy API served, whole."""
    video = video_attachment(message)
    assert video is not None
    assert e2e.discord.attachment_bytes(video)[1] == e2e.runcomfy.video
