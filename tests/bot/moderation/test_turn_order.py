from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.moderation.turn_order import ActiveLimits, fair_order, queue_positions, slots_to_fill

START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Queued:
    id: str
    guild_id: int
    user_id: int
    created_at: datetime


def job(job_id: str, user: int, minute: int, guild: int = 1) -> Queued:
    return Queued(job_id, guild, user, START + timedelta(minutes=minute))


def ids(jobs: list[Queued]) -> list[str]:
    return [j.id for j in jobs]


def test_members_take_turns_oldest_first() -> None:
    jobs = [
        job("a1", 1, 0),
        job("a2", 1, 1),
        job("a3", 1, 2),
        job("b1", 2, 3),
        job("c1", 3, 4),
        job("b2", 2, 5),
    ]
    assert ids(fair_order(jobs)) == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_one_with_ten_jobs_never_blocks_one_with_one() -> None:
    jobs = [job(f"a{i}", 1, i) for i in range(10)] + [job("b1", 2, 20)]
    assert ids(fair_order(jobs)).index("b1") == 1


def test_fronted_jobs_go_first_most_recent_front_first() -> None:
    jobs = [job("a1", 1, 0), job("a2", 1, 1), job("b1", 2, 2), job("c1", 3, 3)]
    fronts = {"c1": START + timedelta(hours=1), "a2": START + timedelta(hours=2)}
    assert ids(fair_order(jobs, front_requests=fronts)) == ["a2", "c1", "a1", "b1"]
    assert queue_positions(jobs, front_requests=fronts) == {"a2": 1, "c1": 2, "a1": 3, "b1": 4}


def test_a_front_request_for_a_job_no_longer_queued_changes_nothing() -> None:
    jobs = [job("a1", 1, 0), job("b1", 2, 1)]
    assert ids(fair_order(jobs, front_requests={"gone": START})) == ["a1", "b1"]


@given(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 100)), min_size=1, max_size=15))
def test_each_member_is_served_oldest_first_and_nothing_is_lost(raw: list[tuple[int, int]]) -> None:
    jobs = [job(f"j{i}", user, minute) for i, (user, minute) in enumerate(raw)]
    ordered = fair_order(jobs)
    assert sorted(ids(ordered)) == sorted(ids(jobs))
    for user in {u for u, _ in raw}:
        mine = [j for j in ordered if j.user_id == user]
        assert mine == sorted(mine, key=lambda j: (j.created_at, j.id))


def test_slots_respect_the_global_limit() -> None:
    ordered = [job("a1", 1, 0), job("b1", 2, 1), job("c1", 3, 2)]
    assert ids(slots_to_fill(ordered, 2, {}, {}, ActiveLimits(global_max=4))) == ["a1", "b1"]
    assert slots_to_fill(ordered, 4, {}, {}, ActiveLimits(global_max=4)) == []
    assert slots_to_fill(ordered, 5, {}, {}, ActiveLimits(global_max=4)) == []


def test_slots_pass_over_a_server_or_member_at_its_limit() -> None:
    ordered = [job("a1", 1, 0), job("a2", 1, 1), job("x1", 5, 2, guild=2), job("b1", 2, 3)]
    limits = ActiveLimits(global_max=10, per_member=1)
    assert ids(slots_to_fill(ordered, 0, {}, {}, limits)) == ["a1", "x1", "b1"]
    assert ids(slots_to_fill(ordered, 0, {}, {(1, 1): 1}, limits)) == ["x1", "b1"]
    per_server = ActiveLimits(global_max=10, per_server=2)
    assert ids(slots_to_fill(ordered, 1, {1: 1}, {}, per_server)) == ["a1", "x1"]


def test_paused_servers_start_nothing() -> None:
    ordered = [job("a1", 1, 0), job("x1", 5, 1, guild=2)]
    limits = ActiveLimits(global_max=10, paused_servers=frozenset({1}))
    assert ids(slots_to_fill(ordered, 0, {}, {}, limits)) == ["x1"]


@given(
    st.lists(st.tuples(st.integers(1, 3), st.integers(1, 3)), max_size=20),
    st.integers(0, 6),
    st.none() | st.integers(1, 3),
    st.none() | st.integers(1, 3),
)
def test_slots_never_exceed_any_limit(
    raw: list[tuple[int, int]], global_max: int, per_server: int | None, per_member: int | None
) -> None:
    ordered = [job(f"j{i}", user, i, guild) for i, (user, guild) in enumerate(raw)]
    chosen = slots_to_fill(ordered, 0, {}, {}, ActiveLimits(global_max, per_server, per_member))
    assert len(chosen) <= global_max
    for guild in {j.guild_id for j in chosen}:
        assert per_server is None or sum(j.guild_id == guild for j in chosen) <= per_server
    for member in {(j.guild_id, j.user_id) for j in chosen}:
        count = sum((j.guild_id, j.user_id) == member for j in chosen)
        assert per_member is None or count <= per_member
    assert ids(chosen) == [j.id for j in ordered if j in chosen]
