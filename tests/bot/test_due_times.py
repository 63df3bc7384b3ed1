"""Ids by when they are due: soonest first, ties in the order planned, nothing before its time."""

from datetime import UTC, datetime, timedelta

from bot.due_times import DueTimes

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_entries_come_up_soonest_first_and_only_once_due() -> None:
    due = DueTimes()
    due.plan("late", _at(5))
    due.plan("b", _at(1))
    due.plan("a", _at(1))
    due.plan("b", _at(3))  # planned again: the earlier entry stays, for the caller to tell apart

    assert list(due.pop_due(_at(3))) == [("b", _at(1)), ("a", _at(1)), ("b", _at(3))]
    assert list(due.pop_due(_at(4))) == []
    assert due.first() == ("late", _at(5))
    due.drop_first()
    assert due.first() is None


def test_an_entry_planned_while_popping_comes_up_in_the_same_pass_when_due() -> None:
    due = DueTimes()
    due.plan("a", _at(1))
    taken: list[str] = []
    for key, _ in due.pop_due(_at(2)):
        taken.append(key)
        if key == "a":
            due.plan("again", _at(2))
            due.plan("later", _at(9))
    assert taken == ["a", "again"]
    assert due.first() == ("later", _at(9))
