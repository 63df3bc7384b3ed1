"""The workload generator: the same seed gives the same commands."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.workload import burst, busy, commands, crowd


def test_the_same_seed_gives_the_same_commands_and_another_seed_others() -> None:
    assert commands(50, spread_s=5.0, members=10, seed=1) == commands(50, spread_s=5.0, members=10, seed=1)
    assert commands(50, spread_s=5.0, members=10, seed=1) != commands(50, spread_s=5.0, members=10, seed=2)


def test_commands_come_in_time_order_within_the_spread_with_unique_prompts() -> None:
    sent = commands(200, spread_s=5.0, members=20, seed=3)
    offsets = [c.at_s for c in sent]
    assert offsets == sorted(offsets)
    assert offsets[0] >= 0.0
    assert offsets[-1] <= 5.0
    assert len({c.prompt for c in sent}) == 200
    assert {c.member for c in sent} <= set(range(20))
    assert len({c.member for c in sent}) > 10


def test_a_varied_workload_mixes_resolutions_and_lengths_and_a_plain_one_does_not() -> None:
    varied = Counter((c.resolution, c.duration) for c in commands(300, spread_s=1, members=5, seed=4))
    plain = Counter(
        (c.resolution, c.duration) for c in commands(300, spread_s=1, members=5, seed=4, varied=False)
    )
    assert len(varied) == 6
    assert varied.most_common(1)[0][0] == ("480p", 5)
    assert plain == Counter({("480p", 5): 300})


def test_the_named_workloads_keep_their_jobs_durations_in_the_issues_ranges() -> None:
    quick, realistic = burst(100, seed=5), busy(100, seed=5)
    assert quick.last_command_s <= 5.0
    quick_totals = [
        quick.timings.timing(c.options).queue_s + quick.timings.timing(c.options).run_s
        for c in quick.commands
    ]
    assert all(0.5 <= total <= 1.5 for total in quick_totals)
    for command in realistic.commands:
        timing = realistic.timings.timing(command.options)
        assert 0.0 <= timing.queue_s <= 20.0
        assert 20.0 <= timing.run_s <= 60.0
    held = crowd(10, spread_s=1.0, seed=5, hold_s=600.0)
    assert all(held.timings.timing(c.options).queue_s >= 600.0 for c in held.commands)


def test_nonsense_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="members"):
        commands(5, spread_s=1.0, members=0, seed=1)
