"""Keeps every job's public reply in step with the stored job, within Discord's edit limits.

Edits are coalesced per reply: at most one every ``edit_interval_s`` (an end state does not wait), and only
when the rendered card differs from the last one shown. A running job's card is refreshed every
``refresh_running_s`` for its elapsed time. Which edits go first, and how many optional ones (queue places,
the running clock) a channel gets, is :mod:`bot.edit_budget`'s rule. End states are always shown, retried
until Discord takes them; then the member is mentioned and the job is marked ``reply_final``. A completed
job is delivered (video uploaded, or linked when too large) before it becomes ``delivered``.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.backoff import Backoff
from bot.due_times import DueTimes
from bot.edit_budget import ChannelEditBudget, EditCandidate, Urgency, plan_edits, rank, shown_place
from bot.jobs import FailureReason, Job, JobState, ReplyTarget
from bot.queue_policy import QueueView
from bot.render import Card, render_card
from bot.service_health import ServiceHealth
from bot.transitions import JobWriter, Transition
from bot.wakeup import PassGap, Wakeup

log = logging.getLogger(__name__)

# A reply Discord keeps refusing (the channel deleted, the bot removed) is given up after this many tries,
# about seven minutes with the growing pause between them; the job itself is stored either way.
GIVE_UP_AFTER = 10
RETRY_CAP = 12
"""The pause between tries grows from ``retry_base_s`` to this many times it."""
PASS_GAP_S = 0.05
"""A pass starts no sooner than this long after the one before it ended, so changes that come within it
are served by one pass (a burst of them plans its edits together, against one look at the channels'
budgets), while a change after a quiet moment is served at once."""
SAVE_TARGET_BEFORE_TOKEN_ENDS = timedelta(minutes=3)
"""The reply's message id, learned from its first edit, waits to be saved with the job's next change (while
the interaction token lives, the reply is edited without it) until this long before the token ends."""
SAVE_TARGET_RETRY = timedelta(seconds=30)


class DeliveryError(Exception):
    """The video could not be delivered; ``permanent`` when trying again cannot help, and the job then
    fails for ``reason``."""

    def __init__(
        self, message: str, *, permanent: bool, reason: FailureReason = FailureReason.DELIVERY_FAILED
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.reason = reason


class ReplyPort(Protocol):
    """What the core needs from Discord to show a job. Implemented by the Discord adapter."""

    async def show(self, job: Job, card: Card) -> ReplyTarget:
        """Make the job's reply show ``card``; returns where the reply now lives."""

    async def deliver(self, job: Job, card: Card) -> ReplyTarget:
        """Show the finished card with the video attached when it fits, linked otherwise."""

    async def announce(self, job: Job) -> None:
        """Tell the member who asked that the job ended (a message that mentions them)."""


@dataclass
class _Reply:
    job: Job
    position: int | None = None
    paused: bool = False
    awaiting_approval: bool = False
    shown: Card | None = None
    shown_state: JobState | None = None
    last_edit: datetime | None = None
    not_before: datetime | None = None
    failures: int = 0
    dirty: bool = True
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    look_at: datetime | None = None
    """When the reply is to be looked at again (an edit it waits for is allowed, its clock is stale)."""
    ready_in: int | None = None
    """The channel whose ready optional edits hold it; None when it is not one of them."""


def _place(position: int | None) -> object:
    return None if position is None else shown_place(position)


def _learns_message_id(known: ReplyTarget, target: ReplyTarget) -> bool:
    """``target`` only adds the message id of the reply that ``known`` edits while its token lives."""
    return known.message_id is None and target == replace(known, message_id=target.message_id)


def _target_learned(known: ReplyTarget, target: ReplyTarget) -> Transition:
    def change(job: Job, now: datetime) -> Job | None:
        return job.with_changes(at=now, reply=target) if job.reply == known else None

    return change


def _final(job: Job, now: datetime) -> Job:
    """The reply shows the end and the member was told: nothing is left to do for this job."""
    return job.with_changes(at=now, reply_final=True)


class Presenter:
    def __init__(
        self,
        writer: JobWriter,
        port: ReplyPort,
        health: ServiceHealth,
        *,
        edit_interval_s: float,
        queue_view: Callable[[], Awaitable[QueueView]],
        refresh_running_s: float = 10.0,
        retry_base_s: float = 5.0,
    ) -> None:
        """Listens to ``writer`` (it registers itself) and writes through it. ``queue_view`` reads the
        queue's places, the servers whose moderators paused their queue and the jobs a moderator has yet
        to approve, so waiting cards say so."""
        self._writer = writer
        self._port = port
        self._health = health
        self._edit_interval = timedelta(seconds=edit_interval_s)
        self._refresh_running = timedelta(seconds=refresh_running_s)
        self._retry = Backoff(timedelta(seconds=retry_base_s), timedelta(seconds=retry_base_s * RETRY_CAP))
        self._queue_view = queue_view
        self._clock = writer.clock
        self._replies: dict[str, _Reply] = {}
        self._urgent: dict[str, None] = {}
        """Replies whose essential edit may start now (ordered, as a set)."""
        self._optional: dict[int, dict[str, None]] = {}
        """Per channel, replies whose optional edit may start once the channel's budget has room."""
        self._timers = DueTimes()
        """When to look at a reply again; an entry counts only while it matches the reply's ``look_at``."""
        self._save_targets = DueTimes()
        """When a reply's message id, still riding along with the job's next change, is saved on its own."""
        self._budget = ChannelEditBudget()
        self._budget_retry_s: float | None = None
        self._queue_dirty = True
        self._shown_degraded = False
        self._wake = Wakeup()
        self._gap = PassGap(self._clock)
        writer.add_listener(self)

    def job_changed(self, job: Job) -> None:
        reply = self._replies.get(job.id)
        if reply is None:
            self._replies[job.id] = reply = _Reply(job)
        elif job.version >= reply.job.version:
            if job.state is not reply.job.state:
                reply.failures = 0  # an end state gets its own full count of tries
            reply.job = job
        reply.dirty = True
        self._file(reply, self._clock())
        if self._urgency(reply) is Urgency.END:
            self._end_now(reply)
        self._wake()

    def _end_now(self, reply: _Reply) -> None:
        """An end goes out as soon as it is known, without waiting for the next pass over the replies."""
        now = self._clock()
        if reply.task is not None or self._wake.stopped or not self._edit_allowed(reply, Urgency.END, now):
            return
        plan = plan_edits(
            [EditCandidate(reply.job.id, reply.job.channel_id, Urgency.END, None)], self._budget, now
        )
        if plan.start:
            self._start(reply)

    def queue_changed(self) -> None:
        self._queue_dirty = True
        self._wake()

    async def run(self) -> None:
        await self._wake.run(self._pass)

    async def _pass(self) -> float:
        await self._gap.wait(PASS_GAP_S)
        try:
            return await self._one_pass()
        finally:
            self._gap.ended()

    async def _one_pass(self) -> float:
        if self._queue_dirty:
            self._queue_dirty = False
            try:
                await self._refresh_positions()
            except Exception:
                log.exception("could not read the queue")
        if self._wake.stopped:
            return 0.0
        now = self._clock()
        self._show_service_change(now)
        await self._save_due_targets(now)
        self._look_at_due(now)
        candidates = [self._candidate(self._replies[job_id]) for job_id in self._urgent]
        full_in: list[float] = []
        for channel_id, ready in self._optional.items():
            room = self._budget.room(channel_id, now)
            if room > 0:
                waiting = (self._candidate(self._replies[job_id]) for job_id in ready)
                candidates += heapq.nsmallest(room, waiting, key=rank)
            elif ready:
                full_in.append(self._budget.seconds_to_room(channel_id, now))
        plan = plan_edits(candidates, self._budget, now)
        if plan.retry_in_s is not None:
            full_in.append(plan.retry_in_s)
        self._budget_retry_s = min(full_in, default=None)
        for job_id in plan.start:
            self._start(self._replies[job_id])
        return self._seconds_to_next(now)

    def _show_service_change(self, now: datetime) -> None:
        """Waiting cards say whether RunComfy refuses the bot: when that changes, each is shown again."""
        if self._health.degraded is self._shown_degraded:
            return
        self._shown_degraded = self._health.degraded
        for reply in self._replies.values():
            if reply.job.state is JobState.QUEUED:
                reply.dirty = True
                self._file(reply, now)

    def _candidate(self, reply: _Reply) -> EditCandidate[str]:
        place = reply.position if reply.job.state is JobState.QUEUED else None
        return EditCandidate(reply.job.id, reply.job.channel_id, self._urgency(reply), place)

    def _start(self, reply: _Reply) -> None:
        self._unready(reply)
        reply.look_at = None
        reply.task = asyncio.create_task(self._flush(reply), name=f"reply-{reply.job.id}")

    def _file(self, reply: _Reply, now: datetime) -> None:
        """Put the reply where the next pass finds it: ready for an edit now, or looked at again when one is
        allowed or its running clock goes stale; nowhere while an edit of it is under way or none is due."""
        self._unready(reply)
        if reply.task is not None or self._replies.get(reply.job.id) is not reply:
            return
        if not reply.dirty:
            if reply.job.state is not JobState.IN_PROGRESS or reply.last_edit is None:
                return
            stale_at = reply.last_edit + self._refresh_running
            if stale_at > now:
                self._look_again(reply, stale_at)
                return
            reply.dirty = True
        urgency = self._urgency(reply)
        allowed_at = self._allowed_at(reply, urgency)
        if allowed_at is not None and now < allowed_at:
            self._look_again(reply, allowed_at)
            return
        reply.look_at = None
        if urgency.optional:
            reply.ready_in = reply.job.channel_id
            self._optional.setdefault(reply.ready_in, {})[reply.job.id] = None
        else:
            self._urgent[reply.job.id] = None

    def _unready(self, reply: _Reply) -> None:
        self._urgent.pop(reply.job.id, None)
        if reply.ready_in is not None:
            ready = self._optional.get(reply.ready_in)
            if ready is not None:
                ready.pop(reply.job.id, None)
                if not ready:
                    del self._optional[reply.ready_in]
            reply.ready_in = None

    def _look_again(self, reply: _Reply, at: datetime) -> None:
        if reply.look_at != at:
            reply.look_at = at
            self._timers.plan(reply.job.id, at)

    def _look_at_due(self, now: datetime) -> None:
        for job_id, at in self._timers.pop_due(now):
            reply = self._replies.get(job_id)
            if reply is not None and reply.look_at == at:
                reply.look_at = None
                self._file(reply, now)

    async def stop(self, grace_s: float = 2.0) -> None:
        """Let edits under way finish for ``grace_s``, then drop the rest: every job is stored, so the
        next process shows it again. Message ids still waiting to ride along are saved meanwhile."""
        self._wake.stop()
        tasks = [r.task for r in self._replies.values() if r.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace_s)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        waiting = [job_id for job_id in self._replies if self._writer.rides_along(job_id)]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_s):
                for job_id in waiting:
                    await self._save_waiting_target(job_id, retry_at=None)

    async def _refresh_positions(self) -> None:
        view = await self._queue_view()
        now = self._clock()
        for job_id, reply in self._replies.items():
            if reply.job.state is not JobState.QUEUED:
                continue
            position = view.places.get(job_id)
            shown_before = (_place(reply.position), reply.paused, reply.awaiting_approval)
            reply.position = position
            reply.paused = reply.job.guild_id in view.paused_servers
            reply.awaiting_approval = job_id in view.awaiting_approval
            if (_place(position), reply.paused, reply.awaiting_approval) != shown_before:
                reply.dirty = True  # only when what the card shows changes
                self._file(reply, now)

    def _urgency(self, reply: _Reply) -> Urgency:
        job = reply.job
        if job.state is JobState.COMPLETED or (job.state.is_terminal and not job.reply_final):
            return Urgency.END
        if reply.shown is None:
            return Urgency.FIRST
        if reply.shown_state is not job.state:
            return Urgency.STATE
        return Urgency.POSITION if job.state is JobState.QUEUED else Urgency.REFRESH

    def _allowed_at(self, reply: _Reply, urgency: Urgency) -> datetime | None:
        """The first moment an edit of ``urgency`` may go: after a failed try's pause and, but for an end,
        ``edit_interval_s`` after the last edit. None when nothing holds it back."""
        holds = [reply.not_before] if reply.not_before is not None else []
        if urgency is not Urgency.END and reply.last_edit is not None:
            holds.append(reply.last_edit + self._edit_interval)
        return max(holds, default=None)

    def _edit_allowed(self, reply: _Reply, urgency: Urgency, now: datetime) -> bool:
        allowed_at = self._allowed_at(reply, urgency)
        return allowed_at is None or now >= allowed_at

    def _seconds_to_next(self, now: datetime) -> float:
        waits = [self._refresh_running.total_seconds()]
        if self._budget_retry_s is not None:
            waits.append(self._budget_retry_s)
        for due in (self._timers.first(), self._save_targets.first()):
            if due is not None:
                waits.append((due[1] - now).total_seconds())
        return max(min(waits), 0.01)

    async def _flush(self, reply: _Reply) -> None:
        reply.dirty = False
        job = reply.job
        try:
            if job.state.is_terminal:
                job = await self._latest(reply)
            if job.state is JobState.COMPLETED:
                await self._finish(reply, deliver=True)
            elif job.state.is_terminal and not job.reply_final:
                await self._finish(reply, deliver=False)
            elif not job.state.is_terminal:
                await self._show(reply)
            reply.failures = 0
        except Exception as exc:
            reply.failures += 1
            ending = job.state is JobState.COMPLETED or job.state.is_terminal
            if ending and reply.failures >= GIVE_UP_AFTER:
                await self._give_up(reply, exc)
            else:
                self._retry_later(reply, exc)
        finally:
            reply.task = None
            if reply.job.reply_final:
                self._unready(reply)
                self._replies.pop(reply.job.id, None)
                self._writer.forget(reply.job.id)
            else:
                self._file(reply, self._clock())
            self._wake()

    async def _latest(self, reply: _Reply) -> Job:
        """The job as stored now: another writer (a cancel, a restart's recovery) may have moved it."""
        stored = await self._writer.read(reply.job.id)
        if stored is not None and stored.version > reply.job.version:
            if stored.state is not reply.job.state:
                reply.failures = 0
            reply.job = stored
        return reply.job

    def _card(self, reply: _Reply) -> Card:
        return render_card(
            reply.job,
            now=self._clock(),
            local_position=reply.position,
            paused=reply.paused,
            awaiting_approval=reply.awaiting_approval,
            service_down=self._health.degraded,
        )

    async def _show(self, reply: _Reply) -> None:
        card = self._card(reply)
        if card == reply.shown and reply.job.reply.message_id is not None:
            return
        target = await self._port.show(reply.job, card)
        reply.shown = card
        reply.shown_state = reply.job.state
        reply.last_edit = self._clock()
        await self._remember_target(reply, target)

    async def _finish(self, reply: _Reply, *, deliver: bool) -> None:
        if deliver:
            await self._deliver(reply)
            return
        target = await self._port.show(reply.job, self._card(reply))
        await self._remember_target(reply, target)
        reply.last_edit = self._clock()
        # The mention goes out before reply_final is stored: after a crash in between the member may be
        # told twice, never not at all.
        await self._port.announce(reply.job)
        await self._save(reply, _final)

    async def _deliver(self, reply: _Reply) -> None:
        """Upload the video, tell the member, then record both in one write. A crash before that write
        edits the same reply with the video again and tells the member twice, never not at all. A notice
        Discord refuses leaves the delivery recorded, so that trying the notice again uploads nothing."""
        job = reply.job
        # The video goes out with the card it keeps: the delivered one, not "posting the video".
        delivered = job.moved_to(JobState.DELIVERED, at=job.finished_at or self._clock())
        try:
            target = await self._port.deliver(job, render_card(delivered, now=self._clock()))
        except DeliveryError as exc:
            if not exc.permanent:
                raise
            detail, reason = str(exc), exc.reason
            await self._save(reply, lambda j, now: j.failed(reason, detail, at=now))
            reply.dirty = True  # the next flush shows the failure and tells the member
            return
        reply.last_edit = self._clock()

        def recorded(j: Job, now: datetime) -> Job:
            return j.moved_to(JobState.DELIVERED, at=now).with_changes(at=now, reply=target)

        try:
            await self._port.announce(replace(delivered, reply=target))
        except Exception:
            await self._save(reply, recorded)
            raise
        await self._save(reply, lambda j, now: _final(recorded(j, now), now))

    async def _remember_target(self, reply: _Reply, target: ReplyTarget) -> None:
        known = reply.job.reply
        if target == known:
            return
        save_by = known.token_expires_at - SAVE_TARGET_BEFORE_TOKEN_ENDS
        if _learns_message_id(known, target) and not reply.job.state.is_terminal and self._clock() < save_by:
            reply.job = replace(reply.job, reply=target)
            self._writer.ride_along(reply.job.id, _target_learned(known, target))
            self._save_targets.plan(reply.job.id, save_by)
            return
        await self._save(reply, lambda j, now: j.with_changes(at=now, reply=target))

    async def _save_due_targets(self, now: datetime) -> None:
        for job_id, _ in list(self._save_targets.pop_due(now)):
            if self._writer.rides_along(job_id):
                await self._save_waiting_target(job_id, retry_at=now + SAVE_TARGET_RETRY)

    async def _save_waiting_target(self, job_id: str, *, retry_at: datetime | None) -> None:
        try:
            written = await self._writer.settle(job_id, by=self)
        except Exception as exc:
            log.warning("job %s: could not save where its reply lives (%s)", job_id, type(exc).__name__)
            if retry_at is not None:
                self._save_targets.plan(job_id, retry_at)
            return
        reply = self._replies.get(job_id)
        if reply is not None and written.after is not None:
            reply.job = written.after

    async def _save(self, reply: _Reply, change: Transition) -> None:
        written = await self._writer.apply(reply.job.id, change, by=self)
        assert written.job is not None
        reply.job = written.job

    async def _give_up(self, reply: _Reply, exc: Exception) -> None:
        log.error(
            "job %s: Discord refused the reply %d times (%s: %s); giving up on showing its end",
            reply.job.id,
            reply.failures,
            type(exc).__name__,
            exc,
        )
        detail = f"{type(exc).__name__}: {exc}"
        try:
            if reply.job.state is JobState.COMPLETED:
                await self._save(
                    reply,
                    lambda j, now: _final(j.failed(FailureReason.DELIVERY_FAILED, detail, at=now), now),
                )
            else:
                await self._save(reply, _final)
        except Exception as store_exc:
            self._retry_later(reply, store_exc)

    def _retry_later(self, reply: _Reply, exc: Exception) -> None:
        delay = self._retry.delay(reply.failures - 1)
        log.warning(
            "job %s: updating the reply failed (%s: %s); retrying in %ss",
            reply.job.id,
            type(exc).__name__,
            exc,
            delay.total_seconds(),
        )
        reply.not_before = self._clock() + delay
        reply.dirty = True
