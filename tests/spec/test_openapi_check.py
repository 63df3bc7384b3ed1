"""The spec check itself, on a small OpenAPI document written for these tests (Discord's is not in the
repository): operation and status lookup, ``$ref``s, ``oneOf`` with null, readable problems, the allowlist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from discord_double.recorder import RecordedAnswer
from tests.spec import openapi
from tests.spec.allowlist import DISCORD, Allowlist
from tests.spec.openapi import OpenApiSpec, check

NO_ALLOWANCES = Allowlist((), ())

ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
    "required": ["code", "message"],
}
DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "tiny", "version": "1"},
    "paths": {
        "/things/{thing_id}": {
            "get": {
                "responses": {
                    "200": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
                    },
                    "429": {"$ref": "#/components/responses/Limited"},
                    "4XX": {"$ref": "#/components/responses/Failed"},
                }
            },
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/users/@me": {
            "get": {
                "responses": {
                    "200": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Owner"}}}
                    }
                }
            }
        },
    },
    "components": {
        "schemas": {
            "Owner": {
                "type": "object",
                "properties": {"id": {"type": "string", "pattern": "^[0-9]+$"}},
                "required": ["id"],
            },
            "Thing": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "owner": {"$ref": "#/components/schemas/Owner"},
                    "badge": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Owner"}]},
                    "parts": {
                        "type": "array",
                        "items": {
                            "oneOf": [
                                {
                                    "type": "object",
                                    "properties": {"kind": {"enum": [1]}, "size": {"type": "integer"}},
                                    "required": ["kind", "size"],
                                },
                                {
                                    "type": "object",
                                    "properties": {"kind": {"enum": [2]}, "name": {"type": "string"}},
                                    "required": ["kind", "name"],
                                },
                            ]
                        },
                    },
                },
                "required": ["id", "owner", "badge"],
            },
            "Error": ERROR,
            "ErrorDetails": {
                "oneOf": [
                    {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/ErrorDetails"}},
                    {
                        "type": "object",
                        "properties": {
                            "_errors": {"type": "array", "items": {"$ref": "#/components/schemas/Error"}}
                        },
                        "additionalProperties": False,
                        "required": ["_errors"],
                    },
                ]
            },
        },
        "responses": {
            "Failed": {
                "content": {
                    "application/json": {
                        "schema": {
                            "allOf": [
                                {"$ref": "#/components/schemas/Error"},
                                {"properties": {"errors": {"$ref": "#/components/schemas/ErrorDetails"}}},
                            ]
                        }
                    }
                }
            },
            "Limited": {
                "content": {
                    "application/json": {
                        "schema": {
                            "allOf": [
                                {"$ref": "#/components/schemas/Error"},
                                {
                                    "properties": {
                                        "retry_after": {"type": "number"},
                                        "global": {"type": "boolean"},
                                    },
                                    "required": ["retry_after", "global"],
                                },
                            ]
                        }
                    }
                }
            },
        },
    },
}
GOOD_THING: dict[str, Any] = {
    "id": "1",
    "owner": {"id": "2"},
    "badge": None,
    "parts": [{"kind": 2, "name": "x"}],
}


def _answer(
    status: int, body: Any, method: str = "GET", route: str = "/things/{id}", text: bool = False
) -> RecordedAnswer:
    if text:
        return RecordedAnswer(method, route, status, "text/plain; charset=utf-8", str(body).encode())
    raw = json.dumps(body).encode() if body is not None else b""
    return RecordedAnswer(method, route, status, "application/json" if raw else None, raw)


def _lines(*answers: RecordedAnswer, allowlist: Allowlist = NO_ALLOWANCES) -> list[str]:
    return check(OpenApiSpec(DOCUMENT), answers, allowlist).lines()


def test_a_conforming_answer_has_no_problems_whatever_its_parameters_are_called() -> None:
    report = check(OpenApiSpec(DOCUMENT), [_answer(200, GOOD_THING, route="/things/{x}")], NO_ALLOWANCES)

    assert report.lines() == []
    assert (report.checked, report.failing, report.routes) == (1, 0, {"GET /things/{x}"})


def test_a_missing_field_behind_a_ref_is_named_by_its_json_path() -> None:
    body = {**GOOD_THING, "owner": {}}

    assert _lines(_answer(200, body)) == ["GET /things/{id} -> 200 at $.owner: 'id' is a required property"]


def test_a_null_or_an_object_fits_a_nullable_one_of_and_a_wrong_object_says_why() -> None:
    assert _lines(_answer(200, {**GOOD_THING, "badge": {"id": "3"}})) == []
    assert _lines(_answer(200, {**GOOD_THING, "badge": {"id": "x"}})) == [
        "GET /things/{id} -> 200 at $.badge.id: 'x' does not match '^[0-9]+$'"
    ]


def test_a_one_of_reports_the_branch_its_discriminator_chose() -> None:
    body = {**GOOD_THING, "parts": [{"kind": 1, "size": "big"}]}

    assert _lines(_answer(200, body)) == [
        "GET /things/{id} -> 200 at $.parts[0].size: a string where the spec wants integer"
    ]


def test_the_same_problem_in_many_answers_is_one_line_with_a_count() -> None:
    body = {**GOOD_THING, "owner": {}}
    report = check(OpenApiSpec(DOCUMENT), [_answer(200, body)] * 3, NO_ALLOWANCES)

    assert report.lines() == ["GET /things/{id} -> 200 at $.owner: 'id' is a required property (3 answers)"]
    assert report.failing == 3


def test_a_status_range_and_a_response_ref_are_followed() -> None:
    assert _lines(_answer(404, {"code": 10003, "message": "Unknown"})) == []
    assert _lines(_answer(403, {"message": "Missing Access"})) == [
        "GET /things/{id} -> 403 at $: 'code' is a required property"
    ]


def test_literal_segments_and_undocumented_operations_and_statuses() -> None:
    assert _lines(_answer(200, {"id": "1"}, route="/users/@me")) == []
    assert _lines(_answer(200, {}, route="/users/{user_id}")) == [
        "GET /users/{user_id} -> 200 at $: the spec has no such operation"
    ]
    assert _lines(_answer(500, {"code": 0, "message": "500"}, method="DELETE")) == [
        "DELETE /things/{id} -> 500 at $: the spec documents no such status for this operation"
    ]


def test_a_204_must_have_no_body() -> None:
    assert _lines(_answer(204, None, method="DELETE")) == []
    assert _lines(_answer(204, {"id": "1"}, method="DELETE")) == [
        "DELETE /things/{id} -> 204 at $: the spec documents no body for this status, the answer has one"
    ]


def test_a_text_answer_where_json_is_documented_is_a_problem() -> None:
    assert _lines(_answer(404, "Not Found", text=True)) == [
        "GET /things/{id} -> 404 at $: not JSON (text/plain; charset=utf-8)"
    ]


def test_the_allowlist_exempts_only_what_the_spec_cannot_describe() -> None:
    exempt = [
        _answer(200, {"refreshed_urls": []}, method="POST", route="/attachments/refresh-urls"),
        _answer(404, {"message": "404: Not Found", "code": 0}, route="<unknown>"),
        _answer(405, {"message": "405: Method Not Allowed", "code": 0}, route="<unknown>"),
        _answer(503, {"message": "503: Service Unavailable", "code": 0}),
        _answer(429, "error code: 1015", text=True),
    ]
    checked = [
        _answer(400, {"message": "Bad", "code": "x"}, route="<unknown>"),
        _answer(429, {"message": "You are being rate limited."}),
    ]
    report = check(OpenApiSpec(DOCUMENT), exempt + checked, DISCORD)

    assert sum(report.exempted.values()) == len(exempt)
    assert all(reason for reason in report.exempted)
    assert report.failing == len(checked)


def test_50035_trees_may_carry_string_codes_and_errors_beside_children() -> None:
    tree = {"0": {"name": {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]}}}
    mixed = {"0": {"_errors": [{"code": "ORDER", "message": "m"}], "name": tree["0"]["name"]}}
    broken = {"0": {"_errors": [{"code": "ORDER", "message": 5}], "name": tree["0"]["name"]}}

    def answer(errors: Any, code: int = 50035) -> RecordedAnswer:
        return _answer(400, {"message": "Invalid Form Body", "code": code, "errors": errors})

    assert _lines(answer(tree), answer(mixed), allowlist=DISCORD) == []
    assert _lines(answer(tree), allowlist=NO_ALLOWANCES) != []
    assert _lines(answer(tree, code=50001), allowlist=DISCORD) != [], "only a 50035 tree is corrected"
    assert _lines(answer(broken), allowlist=DISCORD) == [
        "GET /things/{id} -> 400 at $.errors['0']['_self']['_errors'][0].message: "
        "a number where the spec wants string"
    ]


def test_a_429_without_a_code_passes_but_the_rest_of_its_body_is_checked() -> None:
    plain = {"message": "You are being rate limited.", "retry_after": 0.5, "global": False}
    special = {"message": "Max edits", "retry_after": 1.0, "global": False, "code": 30046}

    assert _lines(_answer(429, plain), _answer(429, special), allowlist=DISCORD) == []
    assert _lines(_answer(429, plain), allowlist=NO_ALLOWANCES) == [
        "GET /things/{id} -> 429 at $: 'code' is a required property"
    ]
    assert _lines(_answer(429, {"message": "x", "global": False}), allowlist=DISCORD) == [
        "GET /things/{id} -> 429 at $: 'retry_after' is a required property"
    ]


def test_the_spec_is_found_from_the_environment_then_the_shared_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared" / "openapi.json"
    given = tmp_path / "given.json"
    monkeypatch.setattr(openapi, "DEFAULT_SPEC_PATH", shared)
    monkeypatch.delenv(openapi.SPEC_ENV, raising=False)
    assert openapi.spec_path() is None
    assert openapi.missing_spec_reason() == (
        f"no Discord OpenAPI spec at {openapi.SPEC_ENV} (unset) nor at {shared}"
    )

    monkeypatch.setenv(openapi.SPEC_ENV, str(given))
    assert openapi.spec_path() is None
    assert f"{openapi.SPEC_ENV}={given} (no such file)" in openapi.missing_spec_reason()

    shared.parent.mkdir()
    shared.write_text(json.dumps(DOCUMENT))
    assert openapi.spec_path() == shared
    given.write_text(json.dumps(DOCUMENT))
    assert openapi.spec_path() == given
    assert OpenApiSpec.load(given).document == DOCUMENT
