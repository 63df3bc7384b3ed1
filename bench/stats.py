"""The few statistics the benchmark prints: percentiles, shares within a limit, ratios."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (0–1) by linear interpolation between closest ranks; NaN for no values."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be between 0 and 1")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def share_within(values: Sequence[float | None], limit: float) -> float:
    """The share of ``values`` at most ``limit``; a missing value (``None``) never is. NaN for none."""
    if not values:
        return math.nan
    return sum(1 for v in values if v is not None and v <= limit) / len(values)


def ratio(value: float, baseline: float) -> float:
    """``value / baseline``; infinite when only the baseline is zero, NaN when both are."""
    if baseline == 0:
        return math.nan if value == 0 else math.inf
    return value / baseline


def per(total: float, count: int) -> float:
    """``total`` per item, NaN when there are no items."""
    return total / count if count else math.nan
