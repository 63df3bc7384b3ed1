"""A moderator's action as an audit entry, and its line in the server's log channel."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from bot.i18n import shorten, t

MAX_REASON_CHARS = 300
LOG_LINE_LIMIT = 2000
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]])")
_MENTION_START = re.compile(r"([@<])")


class ModAction(enum.StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CLEAR = "clear"
    CANCEL = "cancel"
    FRONT = "front"
    BLOCK = "block"
    UNBLOCK = "unblock"
    SETTING = "setting"
    UNSET = "unset"
    CHANNEL = "channel"
    ROLE = "role"
    WORD = "word"
    APPROVE = "approve"
    DENY = "deny"
    REMOVE_VIDEO = "remove_video"


class TargetKind(enum.StrEnum):
    NONE = "none"
    JOB = "job"
    MEMBER = "member"
    CHANNEL = "channel"
    ROLE = "role"
    SETTING = "setting"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what to whom, why and when. ``detail`` carries what the action changed (a setting's new
    value, a word, a block's length) as text."""

    guild_id: int
    moderator_id: int
    action: ModAction
    at: datetime
    target_kind: TargetKind = TargetKind.NONE
    target: str = ""
    """A job id, a snowflake, or a setting's name, per ``target_kind``."""
    detail: str = ""
    reason: str | None = None


def escape_text(text: str) -> str:
    """Member- or moderator-written ``text`` shown literally: Markdown escaped and mentions (``@everyone``,
    ``<@id>``) broken with a zero-width space, so it can neither format nor ping."""
    flat = " ".join(text.split())
    return _MENTION_START.sub("\\1\u200b", _MARKDOWN.sub(r"\\\1", flat))


def _target(entry: AuditEntry) -> str:
    match entry.target_kind:
        case TargetKind.MEMBER:
            return f"<@{int(entry.target)}>"
        case TargetKind.CHANNEL:
            return f"<#{int(entry.target)}>"
        case TargetKind.ROLE:
            return f"<@&{int(entry.target)}>"
        case TargetKind.JOB | TargetKind.SETTING:
            return f"`{' '.join(entry.target.replace('`', '').split())}`"  # code shows text as it is
        case _:
            return ""


def log_line(locale: str | None, entry: AuditEntry) -> str:
    """The entry as one log-channel message. Mentions render as names; post it with mentions disabled so
    nobody is pinged."""
    reason = shorten(escape_text(entry.reason), MAX_REASON_CHARS) if entry.reason else ""
    text = t(
        locale,
        f"audit.{entry.action.value}",
        moderator=f"<@{entry.moderator_id}>",
        target=_target(entry),
        detail=escape_text(entry.detail),
    )
    line = f"<t:{int(entry.at.timestamp())}:f> {text}"
    if reason:
        line = f"{line} {t(locale, 'audit.reason', reason=reason)}"
    return shorten(line, LOG_LINE_LIMIT)
