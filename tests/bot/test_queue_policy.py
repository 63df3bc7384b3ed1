from datetime import UTC, datetime, timedelta

from bot.jobs import ImageRef, Job, JobRequest, ReplyTarget
from bot.queue_policy import fair_order, queue_positions

START = datetime(2026, 1, 1, tzinfo=UTC)


def job(job_id: str, user: int, minute: int, guild: int = 1) -> Job:
    image = ImageRef("https://cdn.example/a.png", "a.png", "image/png", 512, 512, 1000)
    return Job(
        id=job_id,
        guild_id=guild,
        channel_id=10,
        user_id=user,
        locale="en-US",
        request=JobRequest("waves", image),
        reply=ReplyTarget(1, "token", START),
        created_at=START + timedelta(minutes=minute),
    )


def test_members_take_turns_oldest_first() -> None:
    jobs = [
        job("a1", 1, 0),
        job("a2", 1, 1),
        job("a3", 1, 2),
        job("b1", 2, 3),
        job("c1", 3, 4),
        job("b2", 2, 5),
    ]
    assert [j.id for j in fair_order(jobs)] == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_order_does_not_depend_on_input_order() -> None:
    jobs = [job("a1", 1, 0), job("b1", 2, 1), job("a2", 1, 2)]
    assert fair_order(reversed(jobs)) == fair_order(jobs)


def test_same_user_in_two_servers_has_two_lanes() -> None:
    jobs = [job("x1", 1, 0, guild=1), job("x2", 1, 1, guild=1), job("y1", 1, 2, guild=2)]
    assert [j.id for j in fair_order(jobs)] == ["x1", "y1", "x2"]


def test_a_member_served_recently_waits_for_the_others() -> None:
    jobs = [job("a2", 1, 1), job("b1", 2, 2), job("c1", 3, 3)]
    served = {(1, 1): START + timedelta(minutes=5)}
    assert [j.id for j in fair_order(jobs, served)] == ["b1", "c1", "a2"]
    served[(1, 2)] = START + timedelta(minutes=6)
    assert [j.id for j in fair_order(jobs, served)] == ["c1", "a2", "b1"]


def test_positions_are_one_based_places_in_the_fair_order() -> None:
    jobs = [job("a1", 1, 0), job("a2", 1, 1), job("b1", 2, 2)]
    assert queue_positions(jobs) == {"a1": 1, "b1": 2, "a2": 3}
    assert queue_positions([]) == {}
