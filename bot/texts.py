"""Short member-facing messages the Discord adapter sends besides the job card.

Each function takes the member's Discord locale first and returns plain message content within Discord's
2000-character limit. :func:`command_texts` gives the slash commands' descriptions in every language.
"""

from __future__ import annotations

from bot.cancellation import CancelResult
from bot.i18n import LANGUAGES, Lang, catalog, shorten, t
from bot.input_check import MAX_ASPECT_RATIO_TEXT, MIN_ASPECT_RATIO_TEXT
from bot.jobs import Job, JobState
from bot.markdown_safety import shown_url
from bot.render import failure_summary
from client.image_rules import MAX_FILE_BYTES, MAX_SIDE_PX, MIN_SIDE_PX
from client.models import DURATIONS, PROMPT_MAX_CHARS, RESOLUTIONS

CONTENT_LIMIT = 2000
COMMAND_DESCRIPTION_LIMIT = 100
_COMMAND_TEXT_PREFIX = "command."


_CANCEL_TEXT_KEYS: dict[CancelResult, str] = {
    CancelResult.CANCELLED_LOCALLY: "cancel.cancelled_local",
    CancelResult.CANCELLED_AT_RUNCOMFY: "cancel.cancelled_runcomfy",
    CancelResult.WILL_CANCEL: "cancel.will_cancel",
    CancelResult.ALREADY_RUNNING: "cancel.already_generating",
    CancelResult.ALREADY_FINISHED: "cancel.already_finished",
    CancelResult.TRY_AGAIN: "cancel.try_again",
    CancelResult.NOT_FOUND: "cancel.not_found",
    CancelResult.NOT_PERMITTED: "not_yours",
}


def help_text(locale: str | None) -> str:
    """The answer to ``/help``: what the bot does, its options, the picture rules and how cancelling works."""
    text = t(
        locale,
        "help.text",
        max_prompt=PROMPT_MAX_CHARS,
        resolutions=", ".join(RESOLUTIONS),
        durations=", ".join(str(d) for d in DURATIONS),
        min_side=MIN_SIDE_PX,
        max_side=MAX_SIDE_PX,
        min_ratio=MIN_ASPECT_RATIO_TEXT,
        max_ratio=MAX_ASPECT_RATIO_TEXT,
        max_mb=MAX_FILE_BYTES // 1_000_000,
    )
    return shorten(text, CONTENT_LIMIT)


def not_yours(locale: str | None) -> str:
    """Someone other than the requester or a moderator pressed Cancel."""
    return cancel_outcome(locale, CancelResult.NOT_PERMITTED)


def cancel_outcome(locale: str | None, outcome: str) -> str:
    """The ephemeral answer to a Cancel press; ``outcome`` is a :class:`CancelResult` (or its value)."""
    return t(locale, _CANCEL_TEXT_KEYS[CancelResult(outcome)])


def button_failed(locale: str | None) -> str:
    """Handling a button press failed: the member is told to try again, privately."""
    return t(locale, "button.failed")


def guild_only(locale: str | None) -> str:
    """The command was used outside a server."""
    return t(locale, "guild_only")


# The channel permissions the bot needs to keep a job's reply alive after the interaction token dies; in a
# thread, posting is governed by send_messages_in_threads instead.
REQUIRED_CHANNEL_PERMISSIONS = ("view_channel", "send_messages", "embed_links")
REQUIRED_THREAD_PERMISSIONS = ("view_channel", "send_messages_in_threads", "embed_links")


def missing_permissions(locale: str | None, permissions: list[str]) -> str:
    """The bot lacks ``permissions`` (names from :data:`REQUIRED_CHANNEL_PERMISSIONS` or
    :data:`REQUIRED_THREAD_PERMISSIONS`) in this channel."""
    names = ", ".join(t(locale, f"permission.{name}") for name in permissions)
    return shorten(t(locale, "missing_permissions", permissions=names), CONTENT_LIMIT)


def service_unavailable(locale: str | None) -> str:
    """The bot cannot take jobs now (for example RunComfy refused its key or credits); no details."""
    return t(locale, "service_unavailable")


def end_notice(locale: str | None, job: Job, jump_url: str | None = None) -> str:
    """The message that mentions the member when the job ends, linking to the card when ``jump_url`` is
    given. Raises ``ValueError`` for a job that has not ended."""
    mention = f"<@{job.user_id}>"
    match job.state:
        case JobState.COMPLETED | JobState.DELIVERED:
            text = t(locale, "notice.ready", mention=mention)
        case JobState.CANCELLED:
            text = t(locale, "notice.cancelled", mention=mention)
        case JobState.FAILED:
            text = t(
                locale, "notice.failed", mention=mention, reason=failure_summary(locale, job.failure_reason)
            )
        case _:
            raise ValueError(f"job {job.id} has not ended ({job.state})")
    if jump_url:
        text = f"{text} {t(locale, 'notice.jump', url=jump_url)}"
    return shorten(text, CONTENT_LIMIT)


def card_moved(locale: str | None, user_id: int) -> str:
    """Posted with the card's new message once the interaction token expired and the old reply froze."""
    return t(locale, "notice.moved", mention=f"<@{user_id}>")


def video_too_large(locale: str | None, video_url: str) -> str:
    """The video could not be uploaded to the channel, so the message carries its link instead."""
    return shorten(t(locale, "notice.video_too_large", url=shown_url(video_url) or ""), CONTENT_LIMIT)


def command_texts() -> dict[str, dict[Lang, str]]:
    """Slash-command descriptions for Discord's localisations, e.g. ``"animate.prompt" → {"en", "ko"}``.

    Keys: ``animate.description``, ``animate.<option>`` for each option, ``animate.duration.<seconds>`` for
    the duration choices, and ``help.description``. Command and option names are not translated.
    """
    keys = [key for key in catalog("en") if key.startswith(_COMMAND_TEXT_PREFIX)]
    return {
        key.removeprefix(_COMMAND_TEXT_PREFIX): {
            lang: shorten(t(lang, key), COMMAND_DESCRIPTION_LIMIT) for lang in LANGUAGES
        }
        for key in keys
    }
