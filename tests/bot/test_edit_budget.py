from datetime import UTC, datetime, timedelta

import pytest

from bot.edit_budget import (
    EXACT_PLACES,
    ChannelEditBudget,
    EditCandidate,
    QueuePlace,
    Urgency,
    plan_edits,
    shown_place,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("position", "shown"),
    [
        (1, QueuePlace(1, exact=True)),
        (EXACT_PLACES, QueuePlace(EXACT_PLACES, exact=True)),
        (EXACT_PLACES + 1, QueuePlace(11, exact=False)),
        (15, QueuePlace(11, exact=False)),
        (16, QueuePlace(21, exact=False)),
        (48, QueuePlace(51, exact=False)),
        (96, QueuePlace(101, exact=False)),
        (150, QueuePlace(101, exact=False)),
        (151, QueuePlace(201, exact=False)),
        (4321, QueuePlace(4001, exact=False)),
    ],
)
def test_places_are_exact_near_the_front_and_rounded_further_back(position: int, shown: QueuePlace) -> None:
    assert shown_place(position) == shown


def test_a_long_queue_moving_by_one_changes_few_cards() -> None:
    queue = 1000
    changed = [p for p in range(2, queue + 1) if shown_place(p) != shown_place(p - 1)]
    # the exact places, then one card per rounding step: far fewer than the queue
    assert len(changed) < EXACT_PLACES + 3 * 9
    labels_one_card_passes = {shown_place(p) for p in range(1, queue + 1)}
    assert len(labels_one_card_passes) < EXACT_PLACES + 3 * 9


def test_the_budget_refuses_past_its_limit_and_frees_room_as_the_window_moves() -> None:
    budget = ChannelEditBudget(limit=2, window=timedelta(seconds=5))
    budget.spend(1, T0)
    assert budget.room(1, T0) == 1
    budget.spend(1, T0 + timedelta(seconds=1))
    assert budget.room(1, T0 + timedelta(seconds=2)) == 0
    assert not budget.has_room(1, T0 + timedelta(seconds=2))
    assert budget.has_room(2, T0 + timedelta(seconds=2))  # per channel
    assert budget.seconds_to_room(1, T0 + timedelta(seconds=2)) == pytest.approx(3.0)
    assert budget.has_room(1, T0 + timedelta(seconds=5))
    assert budget.room(1, T0 + timedelta(seconds=6)) == 2


def _candidate(
    key: str, urgency: Urgency, position: int | None = None, channel: int = 1
) -> EditCandidate[str]:
    return EditCandidate(key, channel, urgency, position)


def test_ends_and_first_cards_go_first_and_are_never_held() -> None:
    budget = ChannelEditBudget(limit=2, window=timedelta(seconds=5))
    candidates = [
        _candidate("p3", Urgency.POSITION, 3),
        _candidate("refresh", Urgency.REFRESH),
        _candidate("p1", Urgency.POSITION, 1),
        _candidate("state", Urgency.STATE),
        _candidate("first", Urgency.FIRST),
        _candidate("end1", Urgency.END),
        _candidate("end2", Urgency.END),
    ]
    plan = plan_edits(candidates, budget, T0)
    assert plan.start == ["end1", "end2", "first"]
    assert plan.retry_in_s == pytest.approx(5.0)


def test_a_state_change_goes_before_places_and_clocks() -> None:
    budget = ChannelEditBudget(limit=2, window=timedelta(seconds=5))
    candidates = [
        _candidate("refresh", Urgency.REFRESH),
        _candidate("p1", Urgency.POSITION, 1),
        _candidate("state", Urgency.STATE),
    ]
    assert plan_edits(candidates, budget, T0).start == ["state", "p1"]


def test_optional_edits_use_the_room_left_front_of_the_queue_first() -> None:
    budget = ChannelEditBudget(limit=3, window=timedelta(seconds=5))
    candidates = [_candidate(f"p{p}", Urgency.POSITION, p) for p in (9, 2, 40, 5)]
    candidates.append(_candidate("elsewhere", Urgency.POSITION, 30, channel=2))
    plan = plan_edits([*candidates, _candidate("end", Urgency.END)], budget, T0)
    assert plan.start == ["end", "p2", "p5", "elsewhere"]
    later = plan_edits(candidates, budget, T0 + timedelta(seconds=5))
    assert later.start[:3] == ["p2", "p5", "p9"]


def test_edits_per_window_stay_bounded_however_long_the_queue() -> None:
    budget = ChannelEditBudget(limit=5, window=timedelta(seconds=5))
    started = 0
    for second in range(60):
        candidates = [_candidate(f"p{p}", Urgency.POSITION, p) for p in range(1, 500)]
        started += len(plan_edits(candidates, budget, T0 + timedelta(seconds=second)).start)
    assert started == 5 * 60 // 5
