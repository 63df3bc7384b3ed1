"""The fake's copy of the seed's image validations: the same as the seed, exact at every boundary, and in
agreement with the client's own rules (two independent readings of one table).

The seed's input schema is kept in the repository, verbatim, in ``client/fake/seed_input_schema.json``
(the seed document is the project's contract: ``000_*.txt`` in the shared seed folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from client.fake.schema import (
    BINARY_MEGABYTE,
    DECIMAL_MEGABYTE,
    IMAGE_FIELDS,
    IMAGE_VALIDATIONS,
    ImageValidation,
    broken_image_validations,
    size_limit_bytes,
)
from client.image_rules import check_image
from client.models import DURATIONS, PROMPT_MAX_CHARS, RESOLUTIONS

SEED_SCHEMA = Path(__file__).resolve().parents[2] / "client" / "fake" / "seed_input_schema.json"
MB = DECIMAL_MEGABYTE


def seed_input_schema() -> dict[str, Any]:
    """The seed's input schema (the first JSON object of the Korean seed document), as the repo keeps it."""
    schema = json.loads(SEED_SCHEMA.read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


def test_the_client_models_follow_the_seeds_schema() -> None:
    schema = seed_input_schema()
    properties = schema["properties"]
    assert schema["required"] == ["prompt", "first_frame_image_url"]
    assert properties["prompt"]["maxLength"] == PROMPT_MAX_CHARS
    assert tuple(properties["resolution"]["enum"]) == RESOLUTIONS
    assert tuple(properties["duration"]["enum"]) == DURATIONS
    assert (properties["resolution"]["default"], properties["duration"]["default"]) == ("480p", 5)
    assert set(IMAGE_FIELDS) == {name for name, field in properties.items() if "validations" in field}


@pytest.mark.parametrize("field", IMAGE_FIELDS)
def test_the_table_is_the_seeds_own(field: str) -> None:
    properties = seed_input_schema()["properties"]
    assert isinstance(properties, dict)
    seed_rules = properties[field]["validations"]
    assert [
        {
            "validation_rule": rule.validation_rule,
            "validation_value": rule.validation_value,
            "validation_error": rule.validation_error,
        }
        for rule in IMAGE_VALIDATIONS
    ] == seed_rules


def errors(width: int, height: int, size: int | None = 1000, megabyte: int = MB) -> list[str]:
    return [
        rule.validation_error
        for rule in broken_image_validations(width, height, size, megabyte_bytes=megabyte)
    ]


@pytest.mark.parametrize(
    ("width", "height", "broken"),
    [
        (301, 301, []),
        (300, 301, ["width_pixels>"]),
        (301, 300, ["height_pixels>"]),
        (5999, 5999, []),
        (6000, 5999, ["width_pixels<"]),
        (5999, 6000, ["height_pixels<"]),
        (1000, 2500, ["width/height>"]),
        (1001, 2500, []),
        (2500, 1000, ["width/height<"]),
        (2499, 1000, []),
        (200, 200, ["width_pixels>", "height_pixels>"]),
    ],
)
def test_each_rule_is_strict_at_its_boundary(width: int, height: int, broken: list[str]) -> None:
    found = broken_image_validations(width, height, 1000)
    assert [rule.validation_rule for rule in found] == broken


@pytest.mark.parametrize(
    ("megabyte", "size", "passes"),
    [
        (DECIMAL_MEGABYTE, 30 * 10**6 - 1, True),
        (DECIMAL_MEGABYTE, 30 * 10**6, False),
        (BINARY_MEGABYTE, 30 * 10**6, True),
        (BINARY_MEGABYTE, 30 * 2**20 - 1, True),
        (BINARY_MEGABYTE, 30 * 2**20, False),
        (DECIMAL_MEGABYTE, None, True),
    ],
)
def test_the_file_size_rule_reads_the_megabyte_it_is_given(
    megabyte: int, size: int | None, passes: bool
) -> None:
    assert (errors(640, 480, size, megabyte) == []) is passes


def test_the_size_limit_follows_the_megabyte() -> None:
    assert size_limit_bytes(DECIMAL_MEGABYTE) == 30_000_000
    assert size_limit_bytes(BINARY_MEGABYTE) == 31_457_280


def test_a_rule_the_fake_cannot_measure_is_refused() -> None:
    with pytest.raises(ValueError, match="depth_pixels"):
        ImageValidation("depth_pixels<", 10, "Too deep.").holds(400, 400, 1000, MB)


SIDES = (1, 299, 300, 301, 302, 999, 1000, 1001, 2499, 2500, 2501, 5998, 5999, 6000, 6001)
SIZES = (None, 0, 29_999_999, 30_000_000, 30_000_001)


def test_the_fake_and_the_client_agree_on_every_boundary() -> None:
    disagreements = [
        (width, height, size)
        for width in SIDES
        for height in SIDES
        for size in SIZES
        if list(dict.fromkeys(errors(width, height, size)))
        != [v.message for v in check_image(width, height, size)]
    ]
    assert disagreements == []
