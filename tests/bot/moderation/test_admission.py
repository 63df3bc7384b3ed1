import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.jobs import JobState
from bot.moderation.admission import (
    DAY,
    AdmissionFacts,
    Admitted,
    RefusalReason,
    Refused,
    SpentJob,
    counts_against_quota,
    decide_admission,
)
from bot.moderation.automod import AutoModRule, PromptRules
from bot.moderation.server_settings import ServerSettings
from tests.store.jobs_for_tests import minimal_job

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def facts(**changes: object) -> AdmissionFacts:
    base = AdmissionFacts(
        member_id=1,
        role_ids=frozenset({10}),
        channel_id=20,
        prompt="waves on a beach",
        resolution="480p",
        duration=5,
        settings=ServerSettings(),
        now=NOW,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def refused(f: AdmissionFacts) -> Refused:
    result = decide_admission(f)
    assert isinstance(result, Refused), result
    return result


def test_a_fresh_server_admits_anything_with_its_cost() -> None:
    assert decide_admission(facts()) == Admitted(1)
    assert decide_admission(facts(resolution="1080p", duration=10)) == Admitted(10)


def test_approval_mode_admits_jobs_that_wait_for_a_moderator() -> None:
    approving = ServerSettings(approval=True)
    assert decide_admission(facts(settings=approving)) == Admitted(1, needs_approval=True)
    assert refused(facts(settings=approving, blocked_until=NOW + DAY)).reason is RefusalReason.BLOCKED


def test_block_refuses_until_it_ends() -> None:
    until = NOW + timedelta(hours=3)
    assert refused(facts(blocked_until=until)) == Refused(RefusalReason.BLOCKED, until)
    assert decide_admission(facts(blocked_until=NOW)) == Admitted(1)


def test_pause_carries_its_reason() -> None:
    result = refused(facts(settings=ServerSettings().paused_for("maintenance")))
    assert (result.reason, result.retry_at, result.details) == (
        RefusalReason.PAUSED,
        None,
        {"reason": "maintenance"},
    )


def test_channels_and_roles() -> None:
    only_30 = ServerSettings(allowed_channels=frozenset({30, 31}))
    result = refused(facts(settings=only_30))
    assert result.reason is RefusalReason.CHANNEL_NOT_ALLOWED
    assert result.details == {"channels": "<#30> <#31>"}
    assert decide_admission(facts(settings=only_30, channel_id=31)) == Admitted(1)
    roles = ServerSettings(allowed_roles=frozenset({11, 12}))
    assert refused(facts(settings=roles)).reason is RefusalReason.ROLE_NOT_ALLOWED
    assert decide_admission(facts(settings=roles, role_ids=frozenset({10, 12}))) == Admitted(1)


@pytest.mark.parametrize(
    ("max_resolution", "resolution", "ok"),
    [("480p", "480p", True), ("480p", "720p", False), ("720p", "720p", True), ("720p", "1080p", False)],
)
def test_resolution_limit(max_resolution: str, resolution: str, ok: bool) -> None:
    result = decide_admission(
        facts(settings=ServerSettings(max_resolution=max_resolution), resolution=resolution)
    )
    assert isinstance(result, Admitted) is ok
    if not ok:
        assert result == Refused(
            RefusalReason.RESOLUTION_TOO_HIGH, details={"value": resolution, "max": max_resolution}
        )


def test_duration_limit() -> None:
    settings = ServerSettings(max_duration=5)
    assert refused(facts(settings=settings, duration=10)).reason is RefusalReason.DURATION_TOO_LONG
    assert decide_admission(facts(settings=settings, duration=5)) == Admitted(1)


@pytest.mark.parametrize(("ago_s", "ok"), [(59, False), (60, True), (61, True)])
def test_cooldown_boundary(ago_s: int, ok: bool) -> None:
    last = NOW - timedelta(seconds=ago_s)
    result = decide_admission(facts(settings=ServerSettings(cooldown_s=60), last_submission_at=last))
    if ok:
        assert result == Admitted(1)
    else:
        assert result == Refused(RefusalReason.COOLDOWN, last + timedelta(seconds=60), {"seconds": 60})


@pytest.mark.parametrize(("unfinished", "ok"), [(1, True), (2, False), (3, False)])
def test_unfinished_jobs_limit(unfinished: int, ok: bool) -> None:
    result = decide_admission(facts(settings=ServerSettings(member_active=2), unfinished_jobs=unfinished))
    assert isinstance(result, Admitted) is ok
    if not ok:
        assert result == Refused(RefusalReason.TOO_MANY_ACTIVE, details={"limit": 2})


def test_daily_limit_is_a_rolling_day_and_says_when_it_frees() -> None:
    settings = ServerSettings(member_daily=2)
    times = [NOW - timedelta(hours=20), NOW - timedelta(hours=2), NOW - timedelta(hours=30)]
    result = refused(facts(settings=settings, member_jobs_last_day=times))
    assert result == Refused(RefusalReason.DAILY_LIMIT, NOW + timedelta(hours=4), {"limit": 2})
    later = decide_admission(
        facts(settings=settings, member_jobs_last_day=times, now=NOW + timedelta(hours=4))
    )
    assert later == Admitted(1)
    exactly_a_day = [NOW - DAY, NOW - timedelta(hours=1)]
    assert decide_admission(facts(settings=settings, member_jobs_last_day=exactly_a_day)) == Admitted(1)


@given(
    st.integers(1, 5),
    st.lists(st.integers(0, 24 * 60 - 1), min_size=0, max_size=12),
)
def test_daily_retry_at_is_the_first_moment_that_admits(limit: int, minutes_ago: list[int]) -> None:
    settings = ServerSettings(member_daily=limit)
    times = [NOW - timedelta(minutes=m) for m in minutes_ago]
    result = decide_admission(facts(settings=settings, member_jobs_last_day=times))
    if len(times) < limit:
        assert isinstance(result, Admitted)
        return
    assert isinstance(result, Refused)
    assert result.retry_at is not None
    at_retry = facts(settings=settings, member_jobs_last_day=times, now=result.retry_at)
    just_before = facts(
        settings=settings, member_jobs_last_day=times, now=result.retry_at - timedelta(seconds=1)
    )
    assert isinstance(decide_admission(at_retry), Admitted)
    assert isinstance(decide_admission(just_before), Refused)


def test_queue_full() -> None:
    settings = ServerSettings(queue_max=3)
    assert refused(facts(settings=settings, queue_length=3)).reason is RefusalReason.QUEUE_FULL
    assert decide_admission(facts(settings=settings, queue_length=2)) == Admitted(1)


def test_budget_counts_units_of_the_rolling_day() -> None:
    settings = ServerSettings(daily_budget=10)
    spent = [SpentJob(NOW - timedelta(hours=23), 5), SpentJob(NOW - timedelta(hours=1), 4)]
    assert decide_admission(facts(settings=settings, server_spent_last_day=spent)) == Admitted(1)
    result = refused(facts(settings=settings, server_spent_last_day=spent, resolution="720p"))
    assert result == Refused(RefusalReason.BUDGET_SPENT, NOW + timedelta(hours=1), {"units": 2, "left": 1})
    too_big = refused(facts(settings=ServerSettings(daily_budget=4), resolution="1080p"))
    assert too_big.retry_at is None


@given(
    st.integers(1, 30),
    st.sampled_from([("480p", 5), ("720p", 10), ("1080p", 5)]),
    st.lists(st.tuples(st.integers(0, 24 * 60 - 1), st.integers(1, 10)), max_size=10),
)
def test_budget_retry_at_is_the_first_moment_that_admits(
    budget: int, size: tuple[str, int], spent_raw: list[tuple[int, int]]
) -> None:
    resolution, duration = size
    spent = [SpentJob(NOW - timedelta(minutes=m), u) for m, u in spent_raw]
    base = facts(
        settings=ServerSettings(daily_budget=budget),
        server_spent_last_day=spent,
        resolution=resolution,
        duration=duration,
    )
    result = decide_admission(base)
    if isinstance(result, Admitted) or result.retry_at is None:
        return
    assert isinstance(decide_admission(dataclasses.replace(base, now=result.retry_at)), Admitted)
    before = dataclasses.replace(base, now=result.retry_at - timedelta(seconds=1))
    assert isinstance(decide_admission(before), Refused)


def test_blocked_words_and_automod() -> None:
    words = ServerSettings(blocked_words=("gore",))
    assert refused(facts(settings=words, prompt="much GORE")).details == {"word": "gore"}
    rules = PromptRules([AutoModRule(id=1, name="animals", keyword_filter=("cat*",))])
    result = refused(facts(automod=rules, prompt="a catapult"))
    assert (result.reason, result.details) == (RefusalReason.AUTOMOD, {"rule": "animals", "word": "cat"})
    exempt = facts(
        automod=PromptRules(
            [AutoModRule(id=1, name="a", keyword_filter=("cat",), exempt_roles=frozenset({10}))]
        )
    )
    assert decide_admission(dataclasses.replace(exempt, prompt="cat")) == Admitted(1)


def test_order_of_checks_cheapest_and_most_personal_first() -> None:
    everything = facts(
        settings=ServerSettings(
            allowed_channels=frozenset({99}),
            max_resolution="480p",
            cooldown_s=60,
            member_active=1,
            queue_max=1,
            blocked_words=("waves",),
        ).paused_for(None),
        blocked_until=NOW + timedelta(hours=1),
        resolution="720p",
        last_submission_at=NOW,
        unfinished_jobs=5,
        queue_length=5,
    )
    assert refused(everything).reason is RefusalReason.BLOCKED
    current = dataclasses.replace(everything, blocked_until=None)
    assert refused(current).reason is RefusalReason.PAUSED
    current = dataclasses.replace(current, settings=current.settings.resumed())
    assert refused(current).reason is RefusalReason.CHANNEL_NOT_ALLOWED
    current = dataclasses.replace(current, channel_id=99)
    assert refused(current).reason is RefusalReason.RESOLUTION_TOO_HIGH
    current = dataclasses.replace(current, resolution="480p")
    assert refused(current).reason is RefusalReason.COOLDOWN
    current = dataclasses.replace(current, last_submission_at=None)
    assert refused(current).reason is RefusalReason.TOO_MANY_ACTIVE
    current = dataclasses.replace(current, unfinished_jobs=0)
    assert refused(current).reason is RefusalReason.QUEUE_FULL
    current = dataclasses.replace(current, queue_length=0)
    assert refused(current).reason is RefusalReason.BLOCKED_WORD


def test_unchecked_sizes_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unchecked"):
        decide_admission(facts(resolution="4k"))


@pytest.mark.parametrize(
    ("state", "started", "counts"),
    [
        (JobState.QUEUED, False, True),
        (JobState.IN_PROGRESS, True, True),
        (JobState.DELIVERED, True, True),
        (JobState.FAILED, True, False),
        (JobState.FAILED, False, False),
        (JobState.CANCELLED, False, False),
        (JobState.CANCELLED, True, True),
    ],
)
def test_what_counts_against_quotas(state: JobState, started: bool, counts: bool) -> None:
    job = dataclasses.replace(minimal_job(), state=state, started_at=NOW if started else None)
    assert counts_against_quota(job) is counts
