"""The session check end to end: a pytest run whose double gives a non-conforming answer fails, listing it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.spec.openapi import REPO_ROOT, SPEC_ENV

INNER_TEST = """
import asyncio

import aiohttp

from discord_double import DiscordDouble


def test_asks_for_the_bot_user():
    async def run():
        async with DiscordDouble() as double, aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bot {double.token}"}
            async with http.get(double.api_base + "/users/@me", headers=headers) as response:
                assert response.status == 200

    asyncio.run(run())
"""


def _spec(required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "required": required}
    return {
        "openapi": "3.1.0",
        "info": {"title": "tiny", "version": "1"},
        "paths": {
            "/users/@me": {
                "get": {"responses": {"200": {"content": {"application/json": {"schema": schema}}}}}
            }
        },
    }


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, required: list[str]) -> pytest.RunResult:
    spec = pytester.path / "spec.json"
    spec.write_text(json.dumps(_spec(required)))
    monkeypatch.setenv(SPEC_ENV, str(spec))
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    pytester.makeconftest('pytest_plugins = ["tests.spec.session_check"]')
    pytester.makepyfile(test_inner=INNER_TEST)
    return pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")


def test_a_non_conforming_answer_fails_the_run_and_is_listed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, ["id", "no_such_field"])

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*Discord double answers that break Discord's OpenAPI spec*",
            "GET /users/@me -> 200 at $: 'no_such_field' is a required property",
            "Discord spec check: 1 answers on 1 routes, 1 validated, 0 exempted by the allowlist, "
            "1 not conforming*",
        ]
    )
    result.assert_outcomes(passed=1)


def test_a_conforming_run_passes_and_says_what_was_checked(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, ["id", "username"])

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["Discord spec check: 1 answers on 1 routes, 1 validated, *, 0 not conforming*"]
    )
    result.stdout.no_fnmatch_line("*break Discord's OpenAPI spec*")
