"""What Discord's OpenAPI spec cannot describe, each with its reason: answers left unchecked
(exemptions) and places where the spec misdescribes what Discord sends (corrections before checking)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from discord_double.recorder import RecordedAnswer

INVALID_FORM_BODY = 50035


@dataclass(frozen=True)
class Exemption:
    """Answers the spec has no words for; they are counted, not checked."""

    reason: str
    applies: Callable[[RecordedAnswer], bool]


@dataclass(frozen=True)
class Correction:
    """A body the spec misdescribes in one known place: ``adjust`` rewrites that place (and only it)
    to what the spec expects, so everything else in the body is still checked."""

    reason: str
    applies: Callable[[RecordedAnswer, Any], bool]
    adjust: Callable[[Any], Any]


@dataclass(frozen=True)
class Allowlist:
    exemptions: Sequence[Exemption]
    corrections: Sequence[Correction]

    def exemption_for(self, answer: RecordedAnswer) -> str | None:
        """The reason ``answer`` is not checked, or None when it is."""
        return next((e.reason for e in self.exemptions if e.applies(answer)), None)

    def corrected(self, answer: RecordedAnswer, body: Any) -> Any:
        for correction in self.corrections:
            if correction.applies(answer, body):
                body = correction.adjust(body)
        return body


def _spec_shaped_errors(tree: Any) -> Any:
    """An ``errors`` tree as the spec can express it: ``_errors[].code`` strings become 0, and a node with
    both ``_errors`` and children has its ``_errors`` moved to a child ``_self`` (still checked there)."""
    if not isinstance(tree, dict):
        return tree
    out = {key: _spec_shaped_errors(value) for key, value in tree.items() if key != "_errors"}
    if "_errors" in tree:
        listed = tree["_errors"]
        if isinstance(listed, list):
            listed = [
                {**e, "code": 0} if isinstance(e, dict) and isinstance(e.get("code"), str) else e
                for e in listed
            ]
        if out:
            out["_self"] = {"_errors": listed}
        else:
            out["_errors"] = listed
    return out


def _is_json_object(body: Any) -> bool:
    return isinstance(body, dict)


DISCORD = Allowlist(
    exemptions=(
        Exemption(
            # discord.py calls it to renew expiring attachment links; Discord answers it but the spec
            # (generated from the documented API) has no path for it.
            "POST /attachments/refresh-urls is undocumented: the spec has no such operation",
            lambda a: a.key == "POST /attachments/refresh-urls",
        ),
        Exemption(
            # Tests call paths (or methods) the double does not model on purpose; Discord answers those
            # with its generic {"message": "404: Not Found", "code": 0}, and no operation describes them.
            "404/405 for a route the double does not know: no operation in the spec to check it against",
            lambda a: a.route == "<unknown>" and a.status in (404, 405),
        ),
        Exemption(
            # Planted with DiscordDouble.inject: Discord's edge sends these, the spec documents no 5xx.
            "planted 5xx answers: the spec documents no server errors",
            lambda a: a.status >= 500,
        ),
        Exemption(
            # Planted with DiscordDouble.inject: Cloudflare's ban page is plain text, not Discord's JSON.
            "planted Cloudflare 429 (plain text): not an answer of Discord's API",
            lambda a: a.status == 429 and not a.is_json,
        ),
    ),
    corrections=(
        Correction(
            # The spec's InnerErrors reuse Error, whose code is an integer; Discord's field errors in a
            # 50035 tree carry string codes ("BASE_TYPE_REQUIRED"), as its documentation shows. Its
            # ErrorDetails is either children or _errors, while Discord puts an element's own errors beside
            # its fields' (a command option out of order whose name is also invalid).
            "50035 trees carry string codes and _errors beside children, the spec allows neither",
            lambda a, body: (
                a.status == 400 and _is_json_object(body) and body.get("code") == INVALID_FORM_BODY
            ),
            lambda body: {**body, "errors": _spec_shaped_errors(body.get("errors"))},
        ),
        Correction(
            # The spec's RatelimitedResponse inherits a required code from Error; Discord's documentation
            # lists code as optional ("an error code for some limits"), and its example and real answers to
            # route and global limits have none (only special limits, such as 30046, send one).
            "429 bodies of ordinary rate limits have no code, the spec requires one",
            lambda a, body: a.status == 429 and _is_json_object(body) and "code" not in body,
            lambda body: {**body, "code": 0},
        ),
    ),
)
