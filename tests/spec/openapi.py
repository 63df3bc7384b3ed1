"""Validating recorded REST answers against an OpenAPI 3.1 document (Discord's spec, or a test's own)."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from discord_double.recorder import RecordedAnswer
from tests.spec.allowlist import Allowlist

SPEC_ENV = "DISCORD_OPENAPI_SPEC"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC_PATH = REPO_ROOT.parent / "shared" / "discord-api-spec" / "openapi.json"
SPEC_URI = "urn:openapi-under-test"
METHODS = ("get", "put", "post", "patch", "delete")
REASON_MAX = 240


def spec_path() -> Path | None:
    """Where the spec is: ``$DISCORD_OPENAPI_SPEC``, else the steering side's pinned copy; None if neither."""
    given = os.environ.get(SPEC_ENV)
    for candidate in (Path(given) if given else None, DEFAULT_SPEC_PATH):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def missing_spec_reason() -> str:
    given = os.environ.get(SPEC_ENV)
    env_part = f"{SPEC_ENV}={given} (no such file)" if given else f"{SPEC_ENV} (unset)"
    return f"no Discord OpenAPI spec at {env_part} nor at {DEFAULT_SPEC_PATH}"


def _shape(template: str) -> str:
    """A path template with its parameter names blanked: the double's and the spec's names differ."""
    return re.sub(r"\{[^/}]+\}", "{}", template)


def _pointer_part(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Problem:
    """One way an answer breaks the spec: where in the body (a JSON path) and why."""

    key: str
    status: int
    path: str
    reason: str

    def line(self, count: int) -> str:
        times = f" ({count} answers)" if count > 1 else ""
        return f"{self.key} -> {self.status} at {self.path}: {self.reason}{times}"


@dataclass
class Report:
    """What a check found: every answer checked, those exempted (by reason) and the problems."""

    checked: int = 0
    routes: set[str] = field(default_factory=set)
    exempted: Counter[str] = field(default_factory=Counter)
    problems: Counter[Problem] = field(default_factory=Counter)
    failing: int = 0

    def summary(self) -> str:
        exempt = sum(self.exempted.values())
        return (
            f"Discord spec check: {self.checked} answers on {len(self.routes)} routes, "
            f"{self.checked - exempt} validated, {exempt} exempted by the allowlist, "
            f"{self.failing} not conforming"
        )

    def lines(self) -> list[str]:
        return [problem.line(count) for problem, count in sorted(self.problems.items(), key=str)]


class OpenApiSpec:
    """An OpenAPI 3.1 document whose response schemas validate JSON bodies (``$ref``s resolved)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, DRAFT202012.create_resource(dict(document))
        )
        self._operations = {
            (method.upper(), _shape(path)): f"/paths/{_pointer_part(path)}/{method}"
            for path, item in document.get("paths", {}).items()
            for method in METHODS
            if method in item
        }
        self._validators: dict[str, Draft202012Validator] = {}

    @classmethod
    def load(cls, path: Path) -> OpenApiSpec:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def _at(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _response_pointer(self, operation: str, status: int) -> str | None:
        """The response object documented for ``status`` (exact, ``4XX``-style, or ``default``)."""
        responses = self._at(operation + "/responses")
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                pointer = f"{operation}/responses/{key}"
                while "$ref" in (response := self._at(pointer)):
                    pointer = str(response["$ref"]).removeprefix("#")
                return pointer
        return None

    def _validator(self, pointer: str) -> Draft202012Validator:
        if pointer not in self._validators:
            schema = {"$ref": f"{SPEC_URI}#{pointer}"}
            self._validators[pointer] = Draft202012Validator(schema, registry=self._registry)
        return self._validators[pointer]

    def problems(self, answer: RecordedAnswer, body: Any) -> list[Problem]:
        """How ``answer`` (with ``body`` as its parsed JSON) breaks the spec; empty when it conforms."""

        def problem(path: str, reason: str) -> Problem:
            return Problem(answer.key, answer.status, path, reason)

        operation = self._operations.get((answer.method, _shape(answer.route)))
        if operation is None:
            return [problem("$", "the spec has no such operation")]
        pointer = self._response_pointer(operation, answer.status)
        if pointer is None:
            return [problem("$", "the spec documents no such status for this operation")]
        content = self._at(pointer).get("content") or {}
        if "application/json" not in content:
            if answer.body:
                return [problem("$", "the spec documents no body for this status, the answer has one")]
            return []
        if not answer.is_json:
            return [problem("$", f"not JSON ({answer.content_type})")]
        errors = self._validator(f"{pointer}/content/application~1json/schema").iter_errors(body)
        return [found for error in errors for found in _describe(error, problem)]


def _branch_score(leaves: Sequence[ValidationError], base: int) -> tuple[int, int, int, int]:
    """Lower is likelier the branch of a ``oneOf``/``anyOf`` the body meant: fewest errors that reject the
    whole instance for its kind (``type`` etc. at its own level), then fewest wrong discriminators (``const``
    or ``enum`` at its level or one below, such as ``type``), then the deepest match, then fewest errors."""
    depths = [len(leaf.absolute_path) - base for leaf in leaves]
    kinds = ("type", "const", "enum")
    shallow = sum(1 for leaf, d in zip(leaves, depths, strict=True) if d == 0 and leaf.validator in kinds)
    tags = sum(1 for leaf, d in zip(leaves, depths, strict=True) if d <= 1 and leaf.validator in kinds[1:])
    return shallow, tags, -max(depths, default=0), len(leaves)


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors that say what is wrong: down through the likeliest branch of every ``oneOf``/``anyOf``."""
    if not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for inner in error.context:
        branches.setdefault(inner.relative_schema_path[0], []).extend(_leaves(inner))
    base = len(error.absolute_path)
    return min(branches.values(), key=lambda leaves: _branch_score(leaves, base))


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _reason(error: ValidationError) -> str:
    if error.validator == "type":
        return f"{_kind(error.instance)} where the spec wants {error.validator_value}"
    if error.validator in ("const", "enum"):
        return f"{error.instance!r:.60} where the spec wants {error.validator_value!r:.80}"
    text = error.message
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def _describe(error: ValidationError, problem: Callable[[str, str], Problem]) -> list[Problem]:
    return [problem(leaf.json_path, _reason(leaf)) for leaf in _leaves(error)]


def check(spec: OpenApiSpec, answers: Iterable[RecordedAnswer], allowlist: Allowlist) -> Report:
    """Validate every answer not exempted by ``allowlist``, after its corrections."""
    report = Report()
    for answer in answers:
        report.checked += 1
        report.routes.add(answer.key)
        exemption = allowlist.exemption_for(answer)
        if exemption is not None:
            report.exempted[exemption] += 1
            continue
        body = allowlist.corrected(answer, answer.json() if answer.is_json else None)
        found = spec.problems(answer, body)
        report.failing += bool(found)
        report.problems.update(found)
    return report


def report_lines(report: Report, limit: int = 60) -> Sequence[str]:
    lines = report.lines()
    if len(lines) > limit:
        lines = [*lines[:limit], f"… and {len(lines) - limit} more"]
    return lines
