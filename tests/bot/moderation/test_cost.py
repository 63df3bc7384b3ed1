import pytest

from bot.moderation.cost import cost_units


@pytest.mark.parametrize(
    ("resolution", "duration", "units"),
    [("480p", 5, 1), ("480p", 10, 2), ("720p", 5, 2), ("720p", 10, 4), ("1080p", 5, 5), ("1080p", 10, 10)],
)
def test_cost_table(resolution: str, duration: int, units: int) -> None:
    assert cost_units(resolution, duration) == units


@pytest.mark.parametrize(("resolution", "duration"), [("4k", 5), ("480p", 7), ("480P", 5)])
def test_unknown_sizes_have_no_cost(resolution: str, duration: int) -> None:
    with pytest.raises(ValueError, match="no cost"):
        cost_units(resolution, duration)
