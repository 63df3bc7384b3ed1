"""Whether a new ``/animate`` job may join this server's queue, decided over plain facts.

"A day" is any rolling 24 hours: a member's daily jobs and the server's daily budget count what was
submitted in the 24 hours before ``now``, so the limit frees up exactly when the oldest counted job turns
24 hours old (no midnight in any time zone to wait for). A job counts when it did not fail and was not
cancelled before generation started (:func:`counts_against_quota`).

Checks run cheapest and most personal first, and the first that fails is the answer: the member's block,
the server's pause, the channel, the member's roles, resolution, duration, the cooldown, the member's
unfinished jobs, their jobs today, the queue's length, the server's budget, then the prompt against the
server's blocked words and its AutoMod rules (the only checks that scan text).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.jobs import Job, JobState
from bot.moderation.automod import PromptRules
from bot.moderation.blocked_words import find_blocked_word
from bot.moderation.cost import cost_units
from bot.moderation.server_settings import ServerSettings
from client.models import DURATIONS, RESOLUTIONS

DAY = timedelta(hours=24)


class RefusalReason(enum.StrEnum):
    BLOCKED = "blocked"
    PAUSED = "paused"
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    RESOLUTION_TOO_HIGH = "resolution_too_high"
    DURATION_TOO_LONG = "duration_too_long"
    COOLDOWN = "cooldown"
    TOO_MANY_ACTIVE = "too_many_active"
    DAILY_LIMIT = "daily_limit"
    QUEUE_FULL = "queue_full"
    BUDGET_SPENT = "budget_spent"
    BLOCKED_WORD = "blocked_word"
    AUTOMOD = "automod"


@dataclass(frozen=True, slots=True)
class SpentJob:
    """A counted job of the last 24 hours: when it was submitted and what it costs."""

    at: datetime
    units: int


@dataclass(frozen=True, slots=True)
class AdmissionFacts:
    """Everything admission looks at; the caller reads it from the interaction and the store."""

    member_id: int
    role_ids: frozenset[int]
    channel_id: int
    prompt: str
    resolution: str
    duration: int
    settings: ServerSettings
    now: datetime
    blocked_until: datetime | None = None
    """The member's block ends then; ``None`` when not blocked. A block already over is ignored."""
    unfinished_jobs: int = 0
    """The member's jobs in this server not yet ended (queued, waiting approval, running, undelivered)."""
    member_jobs_last_day: Sequence[datetime] = ()
    """When the member's counted jobs of the last 24 hours were submitted."""
    last_submission_at: datetime | None = None
    queue_length: int = 0
    """Jobs waiting in this server's queue (not yet sent to RunComfy)."""
    server_spent_last_day: Sequence[SpentJob] = ()
    """The server's counted jobs of the last 24 hours."""
    automod: PromptRules | None = None
    """The server's AutoMod keyword rules, when the bot may read them (Manage Server)."""


@dataclass(frozen=True, slots=True)
class Admitted:
    units: int
    """The job's cost units, to show on its card before it runs."""
    needs_approval: bool = False
    """The server is in approval mode: the job waits for a moderator's Approve before it may run."""


@dataclass(frozen=True, slots=True)
class Refused:
    """The job may not join the queue. ``retry_at`` is when the same request would pass this check, when
    that is known; ``details`` fills the refusal text's placeholders."""

    reason: RefusalReason
    retry_at: datetime | None = None
    details: Mapping[str, str | int] = field(default_factory=dict)


Admission = Admitted | Refused


def counts_against_quota(job: Job) -> bool:
    """Whether ``job`` uses up a daily job and budget: not failed, not cancelled before generation."""
    if job.state is JobState.FAILED:
        return False
    return not (job.state is JobState.CANCELLED and job.started_at is None)


def _frees_at(times: Sequence[datetime], now: datetime, keep: int) -> datetime | None:
    """When at most ``keep`` of ``times`` are still within the 24 hours before that moment."""
    recent = sorted(t for t in times if t > now - DAY)
    if len(recent) <= keep:
        return None
    return recent[len(recent) - keep - 1] + DAY


def _budget_frees_at(spent: Sequence[SpentJob], now: datetime, budget: int, units: int) -> datetime | None:
    """When the spending of the 24 hours before that moment leaves room for ``units`` more."""
    recent = sorted((s for s in spent if s.at > now - DAY), key=lambda s: s.at)
    total = sum(s.units for s in recent)
    for job in recent:
        total -= job.units
        if total + units <= budget:
            return job.at + DAY
    return None


def _check_member(facts: AdmissionFacts) -> Refused | None:
    settings = facts.settings
    if facts.blocked_until is not None and facts.blocked_until > facts.now:
        return Refused(RefusalReason.BLOCKED, facts.blocked_until)
    if settings.paused:
        return Refused(RefusalReason.PAUSED, details={"reason": settings.pause_reason or ""})
    if settings.allowed_channels and facts.channel_id not in settings.allowed_channels:
        channels = " ".join(f"<#{c}>" for c in sorted(settings.allowed_channels))
        return Refused(RefusalReason.CHANNEL_NOT_ALLOWED, details={"channels": channels})
    if settings.allowed_roles and settings.allowed_roles.isdisjoint(facts.role_ids):
        roles = " ".join(f"<@&{r}>" for r in sorted(settings.allowed_roles))
        return Refused(RefusalReason.ROLE_NOT_ALLOWED, details={"roles": roles})
    return None


def _check_size(facts: AdmissionFacts) -> Refused | None:
    settings = facts.settings
    if RESOLUTIONS.index(facts.resolution) > RESOLUTIONS.index(settings.max_resolution):
        return Refused(
            RefusalReason.RESOLUTION_TOO_HIGH,
            details={"value": facts.resolution, "max": settings.max_resolution},
        )
    if facts.duration > settings.max_duration:
        return Refused(
            RefusalReason.DURATION_TOO_LONG, details={"value": facts.duration, "max": settings.max_duration}
        )
    return None


def _check_quotas(facts: AdmissionFacts, units: int) -> Refused | None:
    settings, now = facts.settings, facts.now
    if settings.cooldown_s and facts.last_submission_at is not None:
        ready = facts.last_submission_at + timedelta(seconds=settings.cooldown_s)
        if ready > now:
            return Refused(RefusalReason.COOLDOWN, ready, {"seconds": settings.cooldown_s})
    if settings.member_active is not None and facts.unfinished_jobs >= settings.member_active:
        return Refused(RefusalReason.TOO_MANY_ACTIVE, details={"limit": settings.member_active})
    if settings.member_daily is not None:
        recent = [t for t in facts.member_jobs_last_day if t > now - DAY]
        if len(recent) >= settings.member_daily:
            retry = _frees_at(recent, now, settings.member_daily - 1)
            return Refused(RefusalReason.DAILY_LIMIT, retry, {"limit": settings.member_daily})
    if settings.queue_max is not None and facts.queue_length >= settings.queue_max:
        return Refused(RefusalReason.QUEUE_FULL, details={"limit": settings.queue_max})
    if settings.daily_budget is not None:
        spent = sum(s.units for s in facts.server_spent_last_day if s.at > now - DAY)
        if spent + units > settings.daily_budget:
            retry = _budget_frees_at(facts.server_spent_last_day, now, settings.daily_budget, units)
            left = max(settings.daily_budget - spent, 0)
            return Refused(RefusalReason.BUDGET_SPENT, retry, {"units": units, "left": left})
    return None


def _check_prompt(facts: AdmissionFacts) -> Refused | None:
    word = find_blocked_word(facts.prompt, facts.settings.blocked_words)
    if word is not None:
        return Refused(RefusalReason.BLOCKED_WORD, details={"word": word})
    if facts.automod is not None:
        hit = facts.automod.first_hit(facts.prompt, role_ids=facts.role_ids, channel_id=facts.channel_id)
        if hit is not None:
            return Refused(RefusalReason.AUTOMOD, details={"rule": hit.rule_name, "word": hit.matched})
    return None


def decide_admission(facts: AdmissionFacts) -> Admission:
    """Admit the job with its cost, or refuse it with the first reason (see the module's order).

    ``resolution`` and ``duration`` must already have passed :mod:`bot.input_check`."""
    if facts.resolution not in RESOLUTIONS or facts.duration not in DURATIONS:
        raise ValueError(f"unchecked request: {facts.resolution} × {facts.duration} s")
    units = cost_units(facts.resolution, facts.duration)
    refusal = (
        _check_member(facts) or _check_size(facts) or _check_quotas(facts, units) or _check_prompt(facts)
    )
    return refusal or Admitted(units, needs_approval=facts.settings.approval)
