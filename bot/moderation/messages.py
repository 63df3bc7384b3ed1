"""The moderation texts a member or moderator reads: refusals, ``/queue``, usage, settings, setting errors.

Each function takes the reader's Discord locale first and returns message content within Discord's
2000-character limit. Times are Discord timestamps (``<t:…:R>``), which every client shows in its own
language and time zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.i18n import shorten, t
from bot.jobs import Job
from bot.moderation.admission import RefusalReason, Refused
from bot.moderation.audit import AuditEntry, escape_text, log_line
from bot.moderation.queue_listing import MemberUsage, QueuePage, QueueRow
from bot.moderation.server_settings import (
    LIMIT_SETTINGS,
    MODERATOR_SETTINGS,
    ServerSettings,
    SettingError,
    SettingProblem,
)

CONTENT_LIMIT = 2000
_QUOTED_DETAILS = ("word", "rule", "reason")


def relative_time(at: datetime) -> str:
    """A Discord timestamp that reads "in 5 minutes" (or its Korean) on every client."""
    return f"<t:{int(at.timestamp())}:R>"


def refusal_text(locale: str | None, refused: Refused) -> str:
    """The private answer to a refused ``/animate``: why, what to do, and when to try again."""
    details = {
        key: escape_text(str(value)) if key in _QUOTED_DETAILS else value
        for key, value in refused.details.items()
    }
    lines = [t(locale, "refusal.header"), t(locale, f"refusal.{refused.reason.value}", **details)]
    if refused.reason is RefusalReason.PAUSED and details.get("reason"):
        lines.append(t(locale, "refusal.paused_reason", reason=details["reason"]))
    if refused.retry_at is not None:
        lines.append(t(locale, "refusal.retry_at", when=relative_time(refused.retry_at)))
    lines.append(t(locale, "refusal.footer"))
    return shorten("\n".join(lines), CONTENT_LIMIT)


def cost_text(locale: str | None, units: int) -> str:
    """The job's cost line for its card."""
    return t(locale, "cost.units", units=units)


def age_text(locale: str | None, age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 60:
        return t(locale, "age.seconds", seconds=seconds)
    if seconds < 3600:
        return t(locale, "age.minutes", minutes=seconds // 60)
    return t(locale, "age.hours", hours=seconds // 3600, minutes=seconds % 3600 // 60)


def _row_text(locale: str | None, row: QueueRow) -> str:
    place = "▶" if row.position is None else f"`{row.position}.`"
    state = t(locale, f"queue.state.{row.state.value}")
    line = f"{place} `{row.job_id}` <@{row.user_id}> — {state} — {age_text(locale, row.age)}"
    return f"**{line}** {t(locale, 'queue.own')}" if row.own else line


def queue_page_text(locale: str | None, page: QueuePage) -> str:
    """One page of ``/queue``; post it with mentions disabled, so listing members pings nobody."""
    if not page.rows:
        return t(locale, "queue.empty")
    lines = [t(locale, "queue.header", page=page.number, pages=page.total)]
    lines += [_row_text(locale, row) for row in page.rows]
    return shorten("\n".join(lines), CONTENT_LIMIT)


def usage_text(locale: str | None, usage: MemberUsage, now: datetime) -> str:
    """The viewer's own standing against the server's limits, shown privately with ``/queue``."""
    lines = [t(locale, "usage.header")]
    if usage.active_limit is None:
        lines.append(t(locale, "usage.active_unlimited", active=usage.active))
    else:
        lines.append(t(locale, "usage.active", active=usage.active, limit=usage.active_limit))
    if usage.daily_limit is None:
        lines.append(t(locale, "usage.today_unlimited", today=usage.today))
    else:
        lines.append(t(locale, "usage.today", today=usage.today, limit=usage.daily_limit))
    if usage.budget_left is not None:
        lines.append(t(locale, "usage.budget_left", left=usage.budget_left))
    if usage.cooldown_left is None:
        lines.append(t(locale, "usage.ready"))
    else:
        lines.append(t(locale, "usage.cooldown", when=relative_time(now + usage.cooldown_left)))
    return "\n".join(lines)


def _setting_value(locale: str | None, settings: ServerSettings, name: str) -> str:
    value = getattr(settings, name)
    if name in LIMIT_SETTINGS and value is None:
        return t(locale, "settings.no_limit")
    match name:
        case "cooldown_s" | "max_duration":
            return t(locale, "settings.seconds", seconds=value)
        case "daily_budget":
            return t(locale, "settings.units", units=value)
        case "approval":
            return t(locale, "settings.on" if value else "settings.off")
        case "log_channel":
            return f"<#{value}>" if value else t(locale, "settings.none")
        case "moderator_role":
            return f"<@&{value}>" if value else t(locale, "settings.none")
        case _:
            return str(value)


def settings_text(locale: str | None, settings: ServerSettings) -> str:
    """Every setting of the server, for ``/mod settings`` without options."""
    lines = [t(locale, "settings.header")]
    if settings.paused:
        lines.append(t(locale, "settings.paused"))
        if settings.pause_reason:
            lines.append(t(locale, "refusal.paused_reason", reason=escape_text(settings.pause_reason)))
    for name in MODERATOR_SETTINGS:
        label = t(locale, f"settings.label.{name}")
        lines.append(f"`{name}` — {label}: {_setting_value(locale, settings, name)}")
    channels = " ".join(f"<#{c}>" for c in sorted(settings.allowed_channels))
    roles = " ".join(f"<@&{r}>" for r in sorted(settings.allowed_roles))
    words = ", ".join(f"`{w.replace('`', '')}`" for w in settings.blocked_words)
    lines.append(
        f"`channels` — {t(locale, 'settings.label.channels')}: "
        + (channels or t(locale, "settings.all_channels"))
    )
    lines.append(
        f"`roles` — {t(locale, 'settings.label.roles')}: " + (roles or t(locale, "settings.everyone"))
    )
    lines.append(f"`words` — {t(locale, 'settings.label.words')}: " + (words or t(locale, "settings.none")))
    return shorten("\n".join(lines), CONTENT_LIMIT)


def setting_error_text(locale: str | None, error: SettingError) -> str:
    """The moderator's private answer to a refused setting change, naming the setting and what fits."""
    key = f"setting_error.{error.problem.value}"
    if error.problem is SettingProblem.NEEDS_LOG_CHANNEL:
        return approval_needs_log_channel(locale)
    if error.setting in LIMIT_SETTINGS and error.problem.value == "out_of_range":
        key = "setting_error.out_of_range_or_off"
    return t(
        locale,
        key,
        setting=error.setting.replace("`", ""),
        low=error.low if error.low is not None else "",
        high=error.high if error.high is not None else "",
        choices=", ".join(error.choices),
    )


def moderator_only(locale: str | None) -> str:
    """The answer to a ``/mod`` command or moderator button pressed by a member who may not moderate."""
    return t(locale, "mod.not_moderator")


def action_done(locale: str | None, entry: AuditEntry) -> str:
    """The moderator's private confirmation: the action as the log channel shows it."""
    return shorten(t(locale, "mod.done", line=log_line(locale, entry)), CONTENT_LIMIT)


def block_done(locale: str | None, entry: AuditEntry, until: datetime) -> str:
    return f"{action_done(locale, entry)}\n{t(locale, 'mod.block_ends', when=relative_time(until))}"


def no_such_job(locale: str | None, job_id: str) -> str:
    return t(locale, "mod.no_such_job", job_id=escape_text(job_id.replace("`", ""))[:32])


def not_blocked(locale: str | None, user_id: int) -> str:
    return t(locale, "mod.not_blocked", member=f"<@{user_id}>")


def approval_needs_log_channel(locale: str | None) -> str:
    return t(locale, "mod.approval_needs_log_channel")


def set_and_unset(locale: str | None, setting: str) -> str:
    return t(locale, "mod.set_and_unset", setting=setting)


def approval_request(locale: str | None, job: Job) -> str:
    """The approval request in the log channel; post it with mentions disabled."""
    prompt = escape_text(job.request.prompt)
    return shorten(
        t(
            locale,
            "approval.request",
            member=f"<@{job.user_id}>",
            job=f"`{job.id}`",
            resolution=job.request.resolution,
            seconds=job.request.duration,
            prompt=prompt,
        ),
        CONTENT_LIMIT,
    )


def approval_labels(locale: str | None) -> tuple[str, str]:
    """The Approve and Deny buttons' labels."""
    return t(locale, "approval.approve_button"), t(locale, "approval.deny_button")


def deny_form(locale: str | None) -> tuple[str, str]:
    """The Deny form's title and its reason field's label."""
    return t(locale, "approval.deny_title"), t(locale, "approval.deny_reason")


def denied_notice(locale: str | None, job: Job, reason: str) -> str:
    """Tells the member (mentioned) that a moderator denied their job, and why."""
    notice = t(
        locale,
        "approval.denied_notice",
        member=f"<@{job.user_id}>",
        job=f"`{job.id}`",
        reason=escape_text(reason),
    )
    return shorten(notice, CONTENT_LIMIT)


def no_longer_waiting(locale: str | None) -> str:
    return t(locale, "approval.no_longer_waiting")


def word_missing(locale: str | None) -> str:
    return t(locale, "mod.word_missing")


def words_text(locale: str | None, words: tuple[str, ...]) -> str:
    """The server's blocked words, for ``/mod words list``."""
    if not words:
        return t(locale, "mod.no_words")
    listed = ", ".join(f"`{w.replace('`', '')}`" for w in words)
    return shorten(t(locale, "mod.words", words=listed), CONTENT_LIMIT)


def report_button_label(locale: str | None) -> str:
    return t(locale, "report.button")


def remove_button_label(locale: str | None) -> str:
    return t(locale, "report.remove_button")


def report_post(locale: str | None, reporter_id: int, job_id: str, link: str) -> str:
    """The report in the log channel; post it with mentions disabled."""
    return t(locale, "report.posted", reporter=f"<@{reporter_id}>", job=f"`{job_id}`", link=link)


def report_sent(locale: str | None) -> str:
    return t(locale, "report.sent")


def report_without_log_channel(locale: str | None) -> str:
    return t(locale, "report.no_log_channel")


def video_gone(locale: str | None) -> str:
    return t(locale, "report.not_found")


def video_removed(locale: str | None, moderator_id: int) -> str:
    return t(locale, "report.removed", moderator=f"<@{moderator_id}>")
