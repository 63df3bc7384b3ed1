"""When the presenter edits and saves, on a clock the test moves: a running card's refresh, a channel's
budget, and when the message id of a reply is saved."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.edit_budget import CHANNEL_EDIT_LIMIT, CHANNEL_EDIT_WINDOW
from bot.i18n import t
from bot.jobs import Job, JobState, ReplyTarget
from bot.presenter import SAVE_TARGET_BEFORE_TOKEN_ENDS, Presenter
from bot.queue_policy import QueueView
from bot.render import Card
from bot.service_health import ServiceHealth
from bot.store import JobStore
from bot.transitions import JobWriter, NewJob
from tests.bot.engine_harness import RecordingReplies, WatchingListener, cancel_and_wait_final, new_job

REFRESH_S = 10.0
TOKEN_LIFE = timedelta(minutes=15)


@dataclass
class ClockedReplies(RecordingReplies):
    """Also remembers, for each card shown, the job's state and the clock's time."""

    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    edits: list[tuple[str, JobState, datetime]] = field(default_factory=list)

    async def show(self, job: Job, card: Card) -> ReplyTarget:
        self.edits.append((job.id, job.state, self.clock()))
        return await super().show(job, card)

    def times(self, state: JobState) -> list[datetime]:
        return [at for _, shown, at in self.edits if shown is state]


class SteppedClock:
    """The presenter's clock, moved by the test; each step waits for the pass it starts."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)  # the cards count elapsed time from the jobs' real creation
        self.passes = 0
        self.passed = asyncio.Condition()
        self.presenter: Presenter | None = None

    def __call__(self) -> datetime:
        return self.now

    async def queue_view(self) -> QueueView:
        async with self.passed:
            self.passes += 1
            self.passed.notify_all()
        return QueueView()

    async def step(self, seconds: float) -> None:
        assert self.presenter is not None
        self.now += timedelta(seconds=seconds)
        passes = self.passes
        self.presenter.queue_changed()
        async with self.passed, asyncio.timeout(30):
            await self.passed.wait_for(lambda: self.passes > passes)
        await edits_under_way()


async def edits_under_way() -> None:
    """Wait for the edits the pass started, so each is shown at the time it was planned for."""
    edits = [task for task in asyncio.all_tasks() if task.get_name().startswith("reply-")]
    async with asyncio.timeout(30):
        await asyncio.gather(*edits)


@asynccontextmanager
async def stepped_presenter(
    store: JobStore, listener: WatchingListener, health: ServiceHealth | None = None
) -> AsyncIterator[tuple[SteppedClock, JobWriter, ClockedReplies, Presenter]]:
    clock = SteppedClock()
    writer = JobWriter(store, listeners=[listener], clock=clock)
    replies = ClockedReplies(clock=clock)
    presenter = Presenter(
        writer,
        replies,
        health or ServiceHealth(),
        edit_interval_s=0.0,
        refresh_running_s=REFRESH_S,
        queue_view=clock.queue_view,
    )
    clock.presenter = presenter
    loop = asyncio.create_task(presenter.run())
    try:
        yield clock, writer, replies, presenter
    finally:
        await presenter.stop()
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def running(writer: JobWriter, replies: ClockedReplies) -> Job:
    """A job shown with its first card, then generating."""
    job = await writer.create(new_job())
    async with replies.changed, asyncio.timeout(30):
        await replies.changed.wait_for(lambda: bool(replies.cards(job.id)))
    await writer.apply(job.id, lambda j, now: j.moved_to(JobState.SUBMITTING, at=now))
    await writer.apply(job.id, lambda j, now: j.moved_to(JobState.IN_QUEUE, at=now, request_id=f"r-{j.id}"))
    written = await writer.apply(job.id, lambda j, now: j.moved_to(JobState.IN_PROGRESS, at=now))
    assert written.job is not None
    return written.job


async def wait_for_edits(replies: ClockedReplies, state: JobState, count: int) -> None:
    async with replies.changed, asyncio.timeout(30):
        await replies.changed.wait_for(lambda: len(replies.times(state)) >= count)


async def test_a_running_card_is_refreshed_each_time_its_clock_goes_stale_and_not_in_between(
    store: JobStore,
) -> None:
    async with stepped_presenter(store, WatchingListener()) as (clock, writer, replies, presenter):
        await running(writer, replies)
        await wait_for_edits(replies, JobState.IN_PROGRESS, 1)
        for _ in range(25):
            await clock.step(1.0)
        await presenter.stop()  # lets the edits under way finish

    shown = replies.times(JobState.IN_PROGRESS)
    assert len(shown) == 3, shown  # the running card, then a refresh at about 10 s and 20 s
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(shown)]
    assert all(gap >= REFRESH_S for gap in gaps), gaps


async def test_a_busy_channel_gets_its_optional_edits_within_its_budget_and_its_ends_at_once(
    store: JobStore,
) -> None:
    listener = WatchingListener()
    async with stepped_presenter(store, listener) as (clock, writer, replies, presenter):
        # Each first card goes whatever the budget; the running cards are optional and wait for room.
        jobs = [await running(writer, replies) for _ in range(CHANNEL_EDIT_LIMIT + 3)]
        start = clock.now

        ending = jobs[-1]
        await cancel_and_wait_final(writer, listener, ending.id)
        assert replies.times(JobState.CANCELLED) == [clock.now]  # at once, on a spent budget

        for _ in range(int(3 * REFRESH_S)):
            await clock.step(1.0)
        await presenter.stop()

    optional = sorted(replies.times(JobState.IN_PROGRESS))
    still_running = {job.id for job in jobs[:-1]}
    assert {job_id for job_id, state, _ in replies.edits if state is JobState.IN_PROGRESS} == still_running
    # No window of the channel's budget holds more than its limit of edits.
    spent = sorted([*optional, *replies.times(JobState.QUEUED), *replies.times(JobState.CANCELLED)])
    late = [at for at in spent if at > start]
    for first, last in zip(late, late[CHANNEL_EDIT_LIMIT:], strict=False):
        assert last - first >= CHANNEL_EDIT_WINDOW, (first, last)
    assert len(optional) > len(still_running)  # some cards were also refreshed for their running clock


async def test_waiting_cards_say_when_runcomfy_refuses_the_bot_and_when_it_takes_it_again(
    store: JobStore,
) -> None:
    health = ServiceHealth()
    down = t("en", "card.status.service_down")
    async with stepped_presenter(store, WatchingListener(), health) as (clock, writer, replies, _):
        job = await writer.create(new_job())
        await wait_for_edits(replies, JobState.QUEUED, 1)
        assert down not in replies.cards(job.id)[-1].description

        health.trip("AuthenticationError", clock.now)
        await clock.step(CHANNEL_EDIT_WINDOW.total_seconds())
        await wait_for_edits(replies, JobState.QUEUED, 2)
        assert down in replies.cards(job.id)[-1].description

        health.accepted()
        await clock.step(CHANNEL_EDIT_WINDOW.total_seconds())
        await wait_for_edits(replies, JobState.QUEUED, 3)
        assert down not in replies.cards(job.id)[-1].description


def new_job_with_live_token(clock: SteppedClock) -> NewJob:
    """A job whose interaction token lives fifteen minutes from the clock's now, as Discord's does."""
    build = new_job()

    def job(job_id: str, now: datetime) -> Job:
        built = build(job_id, now)
        return replace(built, reply=replace(built.reply, token_expires_at=clock.now + TOKEN_LIFE))

    return job


async def first_card_shown(writer: JobWriter, replies: ClockedReplies, clock: SteppedClock) -> Job:
    job = await writer.create(new_job_with_live_token(clock))
    await wait_for_edits(replies, JobState.QUEUED, 1)
    await edits_under_way()
    return job


async def test_the_message_id_of_the_first_edit_is_saved_with_the_jobs_next_change(store: JobStore) -> None:
    async with stepped_presenter(store, WatchingListener()) as (clock, writer, replies, _):
        job = await first_card_shown(writer, replies, clock)
        assert await store.get(job.id) == job  # no write of its own

        written = await writer.apply(job.id, lambda j, now: j.moved_to(JobState.SUBMITTING, at=now))

        assert written.after is not None
        assert written.after.version == job.version + 1
        assert written.after.reply.message_id == 4242


async def test_a_message_id_no_change_carries_is_saved_before_the_token_ends(store: JobStore) -> None:
    listener = WatchingListener()
    async with stepped_presenter(store, listener) as (clock, writer, replies, _):
        job = await first_card_shown(writer, replies, clock)
        save_at = job.reply.token_expires_at - SAVE_TARGET_BEFORE_TOKEN_ENDS

        await clock.step((save_at - clock.now).total_seconds() - 1)
        assert await store.get(job.id) == job

        await clock.step(1)
        await listener.wait_for(lambda: listener.latest[job.id].reply.message_id == 4242)
        stored = await store.get(job.id)
        assert stored is not None
        assert (stored.state, stored.version) == (JobState.QUEUED, job.version + 1)


async def test_a_stopping_presenter_saves_the_message_ids_still_waiting(store: JobStore) -> None:
    async with stepped_presenter(store, WatchingListener()) as (clock, writer, replies, _):
        job = await first_card_shown(writer, replies, clock)
        assert await store.get(job.id) == job
    stored = await store.get(job.id)
    assert stored is not None
    assert stored.reply.message_id == 4242


async def test_a_token_too_close_to_its_end_has_the_message_id_saved_at_once(store: JobStore) -> None:
    async with stepped_presenter(store, WatchingListener()) as (_clock, writer, replies, _):
        job = await writer.create(new_job())  # its token ends as the job is made
        await wait_for_edits(replies, JobState.QUEUED, 1)
        await edits_under_way()
        stored = await store.get(job.id)
        assert stored is not None
        assert stored.reply.message_id == 4242
