import pytest

from client.image_rules import API_ERROR_TEXT, MAX_FILE_BYTES, ImageRule, check_image


def rules(width: int, height: int, size: int | None = 1000) -> set[ImageRule]:
    return {v.rule for v in check_image(width, height, size)}


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (301, 301, set()),
        (300, 500, {ImageRule.TOO_SMALL}),
        (500, 300, {ImageRule.TOO_SMALL}),
        (5999, 5999, set()),
        (6000, 5000, {ImageRule.TOO_LARGE}),
        (5000, 6000, {ImageRule.TOO_LARGE}),
    ],
)
def test_side_boundaries_are_strict(width: int, height: int, expected: set[ImageRule]) -> None:
    assert rules(width, height) == expected


@pytest.mark.parametrize(
    ("width", "height", "allowed"),
    [
        (1000, 2500, False),  # exactly 0.4
        (1001, 2500, True),
        (2500, 1000, False),  # exactly 2.5
        (2499, 1000, True),
        (400, 1001, False),  # just under 0.4
    ],
)
def test_aspect_ratio_boundaries_are_strict(width: int, height: int, allowed: bool) -> None:
    assert (ImageRule.ASPECT_RATIO not in rules(width, height)) is allowed


def test_file_size_boundary_is_strict_in_decimal_megabytes() -> None:
    assert MAX_FILE_BYTES == 30_000_000
    assert rules(1000, 1000, MAX_FILE_BYTES - 1) == set()
    assert rules(1000, 1000, MAX_FILE_BYTES) == {ImageRule.FILE_TOO_HEAVY}


def test_unknown_size_is_not_judged() -> None:
    assert rules(1000, 1000, None) == set()


def test_every_broken_rule_is_reported_with_the_api_text() -> None:
    violations = check_image(6000, 301, 40_000_000)
    assert [v.rule for v in violations] == [
        ImageRule.TOO_LARGE,
        ImageRule.ASPECT_RATIO,
        ImageRule.FILE_TOO_HEAVY,
    ]
    assert violations[0].message == "The uploaded image width and height must not exceed 6000 pixels."
    assert {v.message for v in violations} <= set(API_ERROR_TEXT.values())


def test_degenerate_sizes_are_rejected() -> None:
    assert ImageRule.ASPECT_RATIO in rules(0, 500)
