"""Three engines, each with its own store (its own connections, as a process has), share one PostgreSQL
database and one RunComfy double: the global limit, the turns and a dead engine's jobs hold across them.

The real processes against the Discord double are in ``tests/e2e/test_several_processes.py``; these tests
show the same rules where every step can be awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from bot.engine import EnginePace, JobEngine
from bot.jobs import FailureReason, Job, JobState
from bot.leases import LeaseTerms
from bot.store import JobStore, open_store
from bot.transitions import JobWriter
from client.api import RunComfyClient
from client.fake import FakeConfig, FakeRunComfy, Fault
from tests.bot.engine_harness import API_TOKEN, RecordingReplies, WatchingListener, new_job
from tests.store.postgres_for_tests import fresh_postgres_database

LEASE = timedelta(seconds=1.5)
AT_RUNCOMFY = ("in_queue", "in_progress")


@dataclass
class Member:
    """One engine (a process): its store, its core and what it showed on Discord."""

    name: str
    store: JobStore
    core: JobEngine
    replies: RecordingReplies
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def enqueue(self, user_id: int, prompt: str) -> Job:
        return await self.core.scheduler.enqueue(new_job(user_id, prompt=prompt))

    async def kill(self) -> None:
        """Stop as SIGKILL would: every task cancelled where it stands, no last write, no lease given back."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
        await self.core.scheduler._submissions.cancel()
        await self.core.tracker.stop()
        await self.core.presenter.stop(grace_s=0)
        self.core.leases.stop()
        if self.core._stop_listening is not None:
            await self.core._stop_listening()
        await self.store.close()


@dataclass
class Cluster:
    fake: FakeRunComfy
    members: list[Member]
    heard: WatchingListener

    def at_runcomfy(self) -> list[str]:
        return [rid for rid, view in self.fake.jobs.items() if view.status in AT_RUNCOMFY]

    def prompts_submitted(self) -> list[str]:
        return [str(view.input["prompt"]) for view in self.fake.jobs.values()]

    async def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await self.heard.wait_for(predicate, timeout)

    def state_of(self, job_id: str) -> JobState | None:
        job = self.heard.latest.get(job_id)
        return job.state if job is not None else None


@asynccontextmanager
async def cluster(size: int, *, max_active: int, config: FakeConfig | None = None) -> AsyncIterator[Cluster]:
    heard = WatchingListener()  # one listener on every engine's write path: it hears every change
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(fresh_postgres_database())
        fake = await stack.enter_async_context(
            FakeRunComfy(API_TOKEN, config or FakeConfig(manual=True, check_images=False))
        )
        members = []
        for number in range(size):
            store = await open_store(url)
            stack.push_async_callback(_close_quietly, store)
            api = await stack.enter_async_context(
                RunComfyClient(API_TOKEN, fake.base_url, timeout_s=2, max_attempts=3, backoff_base_s=0.01)
            )
            writer = JobWriter(store, listeners=[heard], lease=LeaseTerms(f"engine-{number}", LEASE))
            replies = RecordingReplies()
            pace = EnginePace(
                max_active=max_active,
                poll_min_s=0.02,
                poll_max_s=0.1,
                job_max_s=600,
                edit_interval_s=0.0,
                refresh_running_s=60,
                retry_base_s=0.01,
            )
            core = JobEngine(store, api, replies, pace, writer=writer)
            await core.resume()
            member = Member(f"engine-{number}", store, core, replies)
            member.tasks = [asyncio.create_task(loop()) for loop in core.loops().values()]
            stack.push_async_callback(_stop, member)
            members.append(member)
        yield Cluster(fake, members, heard)


async def _stop(member: Member) -> None:
    if member.tasks:
        await member.core.stop(grace_s=2)
        for task in member.tasks:
            task.cancel()
        await asyncio.gather(*member.tasks, return_exceptions=True)


async def _close_quietly(store: JobStore) -> None:
    await store.close()


async def test_the_global_limit_and_the_turns_hold_across_engines() -> None:
    async with cluster(3, max_active=2) as shared:
        jobs = [
            await member.enqueue(user_id=number, prompt=f"member {number} job {round_}")
            for round_ in range(2)
            for number, member in enumerate(shared.members)
        ]
        await shared.wait(lambda: len(shared.at_runcomfy()) == 2)
        for _ in range(len(jobs) - 2):
            [oldest, *_] = shared.at_runcomfy()
            expected = len(shared.fake.jobs) + 1
            shared.fake.set_state(oldest, "completed")
            await shared.wait(lambda: len(shared.fake.jobs) == expected)  # noqa: B023
            assert len(shared.at_runcomfy()) <= 2
        for request_id in shared.at_runcomfy():
            shared.fake.set_state(request_id, "completed")
        await shared.wait(lambda: all(shared.state_of(job.id) is JobState.DELIVERED for job in jobs))

        # Every member's first job went out before anyone's second, though each engine holds one member.
        submitted = shared.prompts_submitted()
        assert set(submitted[:3]) == {f"member {number} job 0" for number in range(3)}
        assert set(submitted[3:]) == {f"member {number} job 1" for number in range(3)}
        assert submitted[2] == "member 2 job 0"  # its engine waited for a place, not for its own turn
        delivered = [job_id for member in shared.members for job_id in member.replies.delivered]
        assert sorted(delivered) == sorted(job.id for job in jobs)  # each once, by the engine that made it
        for member, made in zip(shared.members, [jobs[0::3], jobs[1::3], jobs[2::3]], strict=True):
            assert sorted(member.replies.delivered) == sorted(job.id for job in made)


async def test_a_dead_engines_jobs_finish_through_the_others_within_a_lease_period() -> None:
    async with cluster(3, max_active=2) as shared:
        doomed = shared.members[0]
        at_runcomfy = await doomed.enqueue(user_id=1, prompt="running when the engine dies")
        waiting = await doomed.enqueue(user_id=1, prompt="queued when the engine dies")
        await shared.wait(lambda: shared.state_of(at_runcomfy.id) is JobState.IN_QUEUE)
        await shared.wait(lambda: shared.state_of(waiting.id) is JobState.IN_QUEUE)

        await doomed.kill()
        for request_id in shared.at_runcomfy():
            shared.fake.set_state(request_id, "completed")
        started = asyncio.get_running_loop().time()
        await shared.wait(
            lambda: {shared.state_of(at_runcomfy.id), shared.state_of(waiting.id)} == {JobState.DELIVERED},
            timeout=LEASE.total_seconds() * 4,
        )
        took = asyncio.get_running_loop().time() - started

        assert took < LEASE.total_seconds() * 2  # the lease period, plus the poll and the delivery
        assert len(shared.fake.jobs) == 2  # nothing submitted twice
        delivered = [job_id for member in shared.members[1:] for job_id in member.replies.delivered]
        assert sorted(delivered) == sorted([at_runcomfy.id, waiting.id])
        assert doomed.replies.delivered == []


async def test_a_post_in_flight_when_its_engine_died_is_failed_by_another_and_never_resent() -> None:
    config = FakeConfig(manual=True, check_images=False)
    async with cluster(2, max_active=2, config=config) as shared:
        doomed, survivor = shared.members
        shared.fake.inject(Fault.latency(60.0, endpoint="submit", times=1))  # the answer never comes
        job = await doomed.enqueue(user_id=1, prompt="posted as the engine dies")
        await shared.wait(lambda: shared.state_of(job.id) is JobState.SUBMITTING)

        await doomed.kill()
        await shared.wait(
            lambda: shared.state_of(job.id) is JobState.FAILED, timeout=LEASE.total_seconds() * 4
        )

        failed = shared.heard.latest[job.id]
        assert failed.failure_reason is FailureReason.SUBMISSION_INTERRUPTED
        assert shared.fake.requests_to("submit") == []  # only the dead engine's POST, still unanswered
        assert len(shared.fake.jobs) == 0
        await shared.wait(lambda: shared.heard.latest[job.id].reply_final)
        assert survivor.replies.announced == [job.id]
