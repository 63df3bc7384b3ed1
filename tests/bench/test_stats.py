"""The benchmark's statistics."""

from __future__ import annotations

import math

import pytest

from bench.stats import per, percentile, ratio, share_within


def test_percentiles_interpolate_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 1.0) == 5.0
    assert percentile(values, 0.95) == pytest.approx(4.8)
    assert percentile([7.0], 0.99) == 7.0


def test_a_percentile_of_nothing_is_not_a_number() -> None:
    assert math.isnan(percentile([], 0.5))
    with pytest.raises(ValueError, match="share"):
        percentile([1.0], 1.5)


def test_share_within_counts_a_missing_value_as_over_the_limit() -> None:
    assert share_within([0.1, 2.9, 3.0, 3.1, None], 3.0) == pytest.approx(0.6)
    assert math.isnan(share_within([], 3.0))


def test_ratios_and_rates_of_zero() -> None:
    assert ratio(27.0, 4.5) == pytest.approx(6.0)
    assert ratio(1.0, 0.0) == math.inf
    assert math.isnan(ratio(0.0, 0.0))
    assert per(30.0, 3) == 10.0
    assert math.isnan(per(1.0, 0))
