"""Per-server queue settings, their limits, a moderator's validated change, and their storage form.

The defaults are permissive: a server that never touched a setting behaves as the bot did before
moderation existed (no limits, every channel and role, nothing paused). ``None`` means "no limit"; a
moderator sets that with ``0`` for the numeric limits.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from client.models import DURATIONS, RESOLUTIONS

MAX_MEMBER_ACTIVE = 100
MAX_MEMBER_DAILY = 1000
MAX_COOLDOWN_S = 86_400
MAX_QUEUE = 1000
MAX_DAILY_BUDGET = 100_000
MAX_BLOCKED_WORDS = 200
MAX_WORD_CHARS = 60
MAX_ALLOWED_IDS = 100
MAX_PAUSE_REASON_CHARS = 300

LIMIT_SETTINGS: dict[str, int] = {
    "member_active": MAX_MEMBER_ACTIVE,
    "member_daily": MAX_MEMBER_DAILY,
    "queue_max": MAX_QUEUE,
    "daily_budget": MAX_DAILY_BUDGET,
}
"""Optional limits: ``0`` from a moderator (or ``None``) means no limit; otherwise 1 to the value."""

MODERATOR_SETTINGS = (
    "member_active",
    "member_daily",
    "cooldown_s",
    "queue_max",
    "max_resolution",
    "max_duration",
    "daily_budget",
    "approval",
    "log_channel",
    "moderator_role",
)
"""The options of ``/mod settings``, in the order the command shows them."""
UNSETTABLE = ("log_channel", "moderator_role")
"""The settings ``/mod settings unset:`` removes (the others are lifted with 0 or set to another value)."""


class SettingProblem(enum.StrEnum):
    UNKNOWN = "unknown"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    NOT_A_CHOICE = "not_a_choice"
    TOO_LONG = "too_long"
    EMPTY = "empty"
    TOO_MANY = "too_many"
    NEEDS_LOG_CHANNEL = "needs_log_channel"
    """Approval mode posts its requests in the log channel: it cannot be on without one."""


class SettingError(ValueError):
    """A setting's value was refused; ``setting`` names it, ``problem`` says why, the rest says what fits."""

    def __init__(
        self,
        setting: str,
        problem: SettingProblem,
        *,
        low: int | None = None,
        high: int | None = None,
        choices: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"setting {setting!r}: {problem}")
        self.setting = setting
        self.problem = problem
        self.low = low
        self.high = high
        self.choices = choices


def _snowflake(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingError(name, SettingProblem.WRONG_TYPE)
    if not 0 < value < 2**64:
        raise SettingError(name, SettingProblem.OUT_OF_RANGE, low=1, high=2**64 - 1)
    return value


def _integer(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingError(name, SettingProblem.WRONG_TYPE)
    if not low <= value <= high:
        raise SettingError(name, SettingProblem.OUT_OF_RANGE, low=low, high=high)
    return value


def _limit(name: str, value: object) -> int | None:
    if value is None or value == 0:
        return None
    return _integer(name, value, 1, LIMIT_SETTINGS[name])


def normalise_word(word: str) -> str:
    """A blocked word as stored: trimmed, inner whitespace collapsed."""
    return " ".join(word.split())


def _word(value: object) -> str:
    if not isinstance(value, str):
        raise SettingError("words", SettingProblem.WRONG_TYPE)
    word = normalise_word(value)
    if not word:
        raise SettingError("words", SettingProblem.EMPTY)
    if len(word) > MAX_WORD_CHARS:
        raise SettingError("words", SettingProblem.TOO_LONG, high=MAX_WORD_CHARS)
    return word


def _ids(name: str, value: object) -> frozenset[int]:
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise SettingError(name, SettingProblem.WRONG_TYPE)
    ids = frozenset(i for i in (_snowflake(name, item) for item in value) if i is not None)
    if len(ids) > MAX_ALLOWED_IDS:
        raise SettingError(name, SettingProblem.TOO_MANY, high=MAX_ALLOWED_IDS)
    return ids


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Every per-server setting of the queue. Build changed copies with the ``with_…`` methods, which
    validate; the constructor does not."""

    member_active: int | None = None
    """Unfinished jobs (queued, running or not yet delivered) one member may have at once."""
    member_daily: int | None = None
    """Jobs one member may submit in any 24 hours (failed and never-generated cancelled ones not counted)."""
    cooldown_s: int = 0
    """Seconds a member waits between two submissions."""
    queue_max: int | None = None
    """Jobs this server's queue may hold waiting (not yet sent to RunComfy)."""
    max_resolution: str = RESOLUTIONS[-1]
    max_duration: int = DURATIONS[-1]
    daily_budget: int | None = None
    """Cost units (see :mod:`bot.moderation.cost`) the server may spend in any 24 hours."""
    approval: bool = False
    """Each new job waits for a moderator's Approve before it may run."""
    log_channel: int | None = None
    moderator_role: int | None = None
    allowed_channels: frozenset[int] = frozenset()
    """Channels ``/animate`` works in; empty means every channel."""
    allowed_roles: frozenset[int] = frozenset()
    """Roles that may use ``/animate`` (holding any one is enough); empty means everyone."""
    blocked_words: tuple[str, ...] = ()
    """Words or phrases a prompt may not contain (whole words, see :mod:`bot.moderation.blocked_words`)."""
    paused: bool = False
    pause_reason: str | None = None

    @property
    def limits_by_history(self) -> bool:
        """Whether admission needs the member's and the server's recent jobs: a cooldown, a cap on
        unfinished or daily jobs, on the queue's length or on the daily budget is set."""
        counted = (self.member_active, self.member_daily, self.queue_max, self.daily_budget)
        return self.cooldown_s > 0 or any(limit is not None for limit in counted)

    def with_setting(self, name: str, value: object) -> Self:
        """A copy with one ``/mod settings`` option changed; raises :class:`SettingError` naming it."""
        match name:
            case "member_active" | "member_daily" | "queue_max" | "daily_budget":
                checked: object = _limit(name, value)
            case "cooldown_s":
                checked = _integer(name, value, 0, MAX_COOLDOWN_S)
            case "max_resolution":
                if value not in RESOLUTIONS:
                    raise SettingError(name, SettingProblem.NOT_A_CHOICE, choices=RESOLUTIONS)
                checked = value
            case "max_duration":
                if isinstance(value, bool) or value not in DURATIONS:
                    raise SettingError(
                        name, SettingProblem.NOT_A_CHOICE, choices=tuple(str(d) for d in DURATIONS)
                    )
                checked = value
            case "approval":
                if not isinstance(value, bool):
                    raise SettingError(name, SettingProblem.WRONG_TYPE)
                checked = value
            case "log_channel" | "moderator_role":
                checked = _snowflake(name, value)
            case _:
                raise SettingError(name, SettingProblem.UNKNOWN, choices=MODERATOR_SETTINGS)
        changes: dict[str, Any] = {name: checked}
        return dataclasses.replace(self, **changes)

    def with_channel(self, channel_id: int, *, allowed: bool) -> Self:
        """Allow or disallow one channel for ``/animate``."""
        return dataclasses.replace(
            self, allowed_channels=_toggled("channels", self.allowed_channels, channel_id, allowed)
        )

    def with_role(self, role_id: int, *, allowed: bool) -> Self:
        """Allow or disallow one role for ``/animate``."""
        return dataclasses.replace(
            self, allowed_roles=_toggled("roles", self.allowed_roles, role_id, allowed)
        )

    def with_word(self, word: str) -> Self:
        """A copy that also blocks ``word``; adding a word already there (in any case) changes nothing."""
        checked = _word(word)
        if any(w.casefold() == checked.casefold() for w in self.blocked_words):
            return self
        if len(self.blocked_words) >= MAX_BLOCKED_WORDS:
            raise SettingError("words", SettingProblem.TOO_MANY, high=MAX_BLOCKED_WORDS)
        return dataclasses.replace(self, blocked_words=(*self.blocked_words, checked))

    def without_word(self, word: str) -> Self:
        """A copy that no longer blocks ``word`` (matched regardless of case and spacing)."""
        key = normalise_word(word).casefold()
        return dataclasses.replace(
            self, blocked_words=tuple(w for w in self.blocked_words if w.casefold() != key)
        )

    def paused_for(self, reason: str | None) -> Self:
        if reason is not None and len(reason) > MAX_PAUSE_REASON_CHARS:
            raise SettingError("pause", SettingProblem.TOO_LONG, high=MAX_PAUSE_REASON_CHARS)
        return dataclasses.replace(self, paused=True, pause_reason=reason or None)

    def resumed(self) -> Self:
        return dataclasses.replace(self, paused=False, pause_reason=None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the store (id sets as sorted lists)."""
        data = dataclasses.asdict(self)
        data["allowed_channels"] = sorted(self.allowed_channels)
        data["allowed_roles"] = sorted(self.allowed_roles)
        data["blocked_words"] = list(self.blocked_words)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Settings from :meth:`to_dict`'s form, every value validated. Missing keys take their default and
        unknown keys are ignored, so a newer or older stored form still loads."""
        settings = cls()
        for name in MODERATOR_SETTINGS:
            if name in data:
                settings = settings.with_setting(name, data[name])
        for word in data.get("blocked_words", ()):
            settings = settings.with_word(word)
        paused = data.get("paused", False)
        if not isinstance(paused, bool):
            raise SettingError("paused", SettingProblem.WRONG_TYPE)
        reason = data.get("pause_reason")
        if reason is not None and not isinstance(reason, str):
            raise SettingError("pause_reason", SettingProblem.WRONG_TYPE)
        if paused:
            settings = settings.paused_for(reason)
        return dataclasses.replace(
            settings,
            allowed_channels=_ids("channels", data.get("allowed_channels", [])),
            allowed_roles=_ids("roles", data.get("allowed_roles", [])),
        )


def _toggled(name: str, ids: frozenset[int], item: int, allowed: bool) -> frozenset[int]:
    checked = _snowflake(name, item)
    if checked is None:
        raise SettingError(name, SettingProblem.WRONG_TYPE)
    if not allowed:
        return ids - {checked}
    if checked not in ids and len(ids) >= MAX_ALLOWED_IDS:
        raise SettingError(name, SettingProblem.TOO_MANY, high=MAX_ALLOWED_IDS)
    return ids | {checked}
