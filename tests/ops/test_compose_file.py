"""docker-compose.yml against the Compose Specification's JSON schema (``docker compose config`` cannot
run here).

``compose_spec.json`` is the schema docker-compose 1.29.2 ships (``compose/config/compose_spec.json`` in its
PyPI wheel, Apache-2.0), copied unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft201909Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).with_name("compose_spec.json")).read_text())


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def problems(document: dict[str, Any]) -> list[str]:
    validator = Draft201909Validator(SCHEMA)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_the_compose_file_follows_the_compose_schema() -> None:
    assert problems(compose()) == []


@pytest.mark.parametrize(
    ("service", "key", "value"),
    [("bot-a", "restart", ["always"]), ("postgres", "healthcheck", {"test": 5}), ("bot-b", "dependson", [])],
)
def test_the_schema_check_catches_a_malformed_service(service: str, key: str, value: object) -> None:
    broken = compose()
    broken["services"][service][key] = value
    assert problems(broken)


def test_every_bot_process_shares_the_postgres_database_and_runs_its_own_shards() -> None:
    services = compose()["services"]
    bots = {name: service for name, service in services.items() if name.startswith("bot")}
    assert len(bots) >= 2
    urls = {service["environment"]["DATABASE_URL"] for service in bots.values()}
    assert len(urls) == 1
    assert urls.pop().startswith("postgresql://animate:${POSTGRES_PASSWORD")
    shard_ids = sorted(int(service["environment"]["ANIMATE_SHARD_IDS"]) for service in bots.values())
    counts = {int(service["environment"]["ANIMATE_SHARD_COUNT"]) for service in bots.values()}
    assert counts == {len(shard_ids)}
    assert shard_ids == list(range(len(shard_ids)))
    for service in bots.values():
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["environment"]["ANIMATE_METRICS_PORT"] == "9108"
    assert "healthcheck" in services["postgres"]


def test_the_image_checks_its_own_health_on_the_metrics_port() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ANIMATE_METRICS_PORT=9108" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile
