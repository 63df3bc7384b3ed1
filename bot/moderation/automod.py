"""A server's Discord AutoMod keyword rules, applied to prompts as Discord applies them to messages.

Only rules that are enabled, fire on MESSAGE_SEND (event type 1) and have the KEYWORD trigger (type 1)
apply; a rule's exempt roles and channels are honoured. A rule triggers when a ``keyword_filter`` entry
(wildcards: see :func:`~bot.moderation.prompt_text.keyword_pattern`) or a ``regex_patterns`` entry matches
the normalised prompt and that match does not lie inside a match of the rule's ``allow_list``.

Discord runs the patterns with Rust's linear-time engine; Python's ``re`` backtracks, so a pattern is used
only when it is at most 260 characters (Discord's limit), compiles, uses nothing Rust lacks (backreferences,
look-around, atomic groups), repeats no group that itself repeats or alternates without bound (the shape
of catastrophic backtracking, such as ``(a+)+``), and has at most one unbounded repeat besides a few small
ones (``.*x.*y`` backtracks cubically over a long prompt). Patterns are matched ignoring case, since the
text is casefolded. Every pattern left out is reported, so a moderator can be told.
"""

from __future__ import annotations

import enum
import re
import warnings
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.moderation.prompt_text import keyword_pattern, normalise
from client.models import PROMPT_MAX_CHARS

TRIGGER_KEYWORD = 1
EVENT_MESSAGE_SEND = 1
MAX_REGEX_CHARS = 260
MAX_REPEAT_WEIGHT = 4 * PROMPT_MAX_CHARS
"""The ways one pattern may try to match at one position (see :func:`_may_backtrack_badly`): one unbounded
repeat and a few small ones, so a search over a whole prompt costs at most about 1900 × 7600 steps."""
MAX_GROUP_REPEATS = 16
"""A group with repeats or alternatives inside may be repeated at most this many times."""
_NOT_IN_RUST = re.compile(r"\\[1-9]|\(\?(?:=|!|<=|<!|P=|>)")
_QUANTIFIER = re.compile(r"[*+?]|\{(?P<low>\d+)(?P<comma>,)?(?P<high>\d*)\}")


class SkipReason(enum.StrEnum):
    TOO_LONG = "too_long"
    INVALID = "invalid"
    UNSUPPORTED = "unsupported"
    TOO_COSTLY = "too_costly"


@dataclass(frozen=True, slots=True)
class AutoModRule:
    """The parts of a Discord auto moderation rule that decide whether a prompt breaks it."""

    id: int
    name: str
    enabled: bool = True
    event_type: int = EVENT_MESSAGE_SEND
    trigger_type: int = TRIGGER_KEYWORD
    keyword_filter: tuple[str, ...] = ()
    regex_patterns: tuple[str, ...] = ()
    allow_list: tuple[str, ...] = ()
    exempt_roles: frozenset[int] = frozenset()
    exempt_channels: frozenset[int] = frozenset()

    @property
    def applies_to_prompts(self) -> bool:
        return self.enabled and self.event_type == EVENT_MESSAGE_SEND and self.trigger_type == TRIGGER_KEYWORD


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _ids(value: object) -> frozenset[int]:
    if not isinstance(value, list):
        return frozenset()
    return frozenset(int(item) for item in value if isinstance(item, (str, int)) and str(item).isdigit())


def rule_from_payload(payload: Mapping[str, Any]) -> AutoModRule | None:
    """A rule from Discord's JSON (``GET /guilds/{id}/auto-moderation/rules``), or ``None`` when the
    payload lacks an id; malformed fields are read as empty rather than trusted."""
    raw_id = payload.get("id")
    if not isinstance(raw_id, (str, int)) or not str(raw_id).isdigit():
        return None
    metadata = payload.get("trigger_metadata")
    meta: Mapping[str, Any] = metadata if isinstance(metadata, Mapping) else {}
    name = payload.get("name")
    event_type = payload.get("event_type")
    trigger_type = payload.get("trigger_type")
    return AutoModRule(
        id=int(raw_id),
        name=name if isinstance(name, str) else "",
        enabled=payload.get("enabled") is True,
        event_type=event_type if isinstance(event_type, int) else 0,
        trigger_type=trigger_type if isinstance(trigger_type, int) else 0,
        keyword_filter=_strings(meta.get("keyword_filter")),
        regex_patterns=_strings(meta.get("regex_patterns")),
        allow_list=_strings(meta.get("allow_list")),
        exempt_roles=_ids(payload.get("exempt_roles")),
        exempt_channels=_ids(payload.get("exempt_channels")),
    )


@dataclass(frozen=True, slots=True)
class _Repeat:
    choices: int
    """Ways the repeat can match one atom: 1 for none or a fixed count, 2 for ``?``."""
    most: int | None
    """The most repetitions; ``None`` when unbounded."""
    end: int


def _repeat_at(pattern: str, i: int) -> _Repeat:
    """The quantifier starting at ``i`` (a lazy or possessive mark included), or a single repetition."""
    quantifier = _QUANTIFIER.match(pattern, i)
    if quantifier is None:
        return _Repeat(1, 1, i)
    end = quantifier.end()
    if pattern[end : end + 1] in ("?", "+"):
        end += 1
    low, comma, high = quantifier.group("low", "comma", "high")
    if low is None:
        return _Repeat(2, 1, end) if quantifier.group(0) == "?" else _Repeat(PROMPT_MAX_CHARS, None, end)
    if comma is None:
        return _Repeat(1, int(low), end)
    if not high:
        return _Repeat(PROMPT_MAX_CHARS, None, end)
    return _Repeat(max(int(high) - int(low) + 1, 1), int(high), end)


@dataclass
class _Group:
    weight: int = 1
    branches: int = 1


def _may_backtrack_badly(pattern: str) -> bool:
    """True when the ways a backtracking engine may try to match at one position could exceed
    :data:`MAX_REPEAT_WEIGHT`: an unbounded repeat counts as the prompt's length, a bounded one as its
    choices, and a repeated group as its inside to the power of the count. A group containing repeats or
    alternatives that is itself repeated without bound, such as ``(a+)+`` or ``(a|aa)*``, is exponential."""
    stack = [_Group()]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "(":
            stack.append(_Group())
            i += 2 if pattern[i + 1 : i + 2] == "?" else 1
            continue
        if ch == "|":
            stack[-1].branches += 1
            i += 1
            continue
        if ch == ")" and len(stack) > 1:
            group = stack.pop()
            inner = group.weight * group.branches
            repeat = _repeat_at(pattern, i + 1)
            if repeat.most is None:
                if inner > 1:
                    return True
                stack[-1].weight *= repeat.choices
            elif inner > 1 and repeat.most > MAX_GROUP_REPEATS:
                return True
            else:
                stack[-1].weight *= inner**repeat.most * repeat.choices
            i = repeat.end
        else:
            atom_end = _atom_end(pattern, i)
            repeat = _repeat_at(pattern, atom_end)
            stack[-1].weight *= repeat.choices
            i = repeat.end
        if stack[-1].weight > MAX_REPEAT_WEIGHT:
            return True
    return any(group.weight * group.branches > MAX_REPEAT_WEIGHT for group in stack)


def _atom_end(pattern: str, i: int) -> int:
    """The index after the atom starting at ``i``: an escape, a character class, or one character."""
    if pattern[i] == "\\":
        return i + 2
    if pattern[i] != "[":
        return i + 1
    j = i + 2 if pattern[i + 1 : i + 2] == "]" else i + 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


@dataclass(frozen=True, slots=True)
class SkippedPattern:
    rule_id: int
    pattern: str
    reason: SkipReason


def compile_regex(pattern: str) -> re.Pattern[str] | SkipReason:
    """``pattern`` compiled for prompts, or why it is left out."""
    if len(pattern) > MAX_REGEX_CHARS:
        return SkipReason.TOO_LONG
    if _NOT_IN_RUST.search(pattern):
        return SkipReason.UNSUPPORTED
    try:
        with warnings.catch_warnings():
            # Python warns where it reads a class such as [[a]] or [a&&b] unlike Rust's nested classes.
            warnings.simplefilter("error", FutureWarning)
            compiled = re.compile(pattern, re.IGNORECASE)
    except FutureWarning:
        return SkipReason.UNSUPPORTED
    except (re.error, OverflowError, RecursionError):
        return SkipReason.INVALID
    if _may_backtrack_badly(pattern):
        return SkipReason.TOO_COSTLY
    return compiled


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: AutoModRule
    triggers: tuple[re.Pattern[str], ...]
    allowed: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class AutoModHit:
    """A rule the prompt breaks, and the part of the (normalised) prompt that broke it."""

    rule_id: int
    rule_name: str
    matched: str


class PromptRules:
    """A server's applicable AutoMod rules, compiled once and reused for every prompt."""

    def __init__(self, rules: Iterable[AutoModRule]) -> None:
        compiled: list[_CompiledRule] = []
        skipped: list[SkippedPattern] = []
        for rule in rules:
            if not rule.applies_to_prompts:
                continue
            triggers = [p for p in map(keyword_pattern, rule.keyword_filter) if p is not None]
            for source in rule.regex_patterns:
                result = compile_regex(source)
                if isinstance(result, SkipReason):
                    skipped.append(SkippedPattern(rule.id, source, result))
                else:
                    triggers.append(result)
            allowed = tuple(p for p in map(keyword_pattern, rule.allow_list) if p is not None)
            if triggers:
                compiled.append(_CompiledRule(rule, tuple(triggers), allowed))
        self._rules = tuple(compiled)
        self.skipped: tuple[SkippedPattern, ...] = tuple(skipped)

    def first_hit(
        self, prompt: str, *, role_ids: Collection[int] = (), channel_id: int | None = None
    ) -> AutoModHit | None:
        """The first rule ``prompt`` breaks for a member with ``role_ids`` in ``channel_id``, or ``None``."""
        text = normalise(prompt)
        for compiled in self._rules:
            rule = compiled.rule
            if channel_id in rule.exempt_channels or not rule.exempt_roles.isdisjoint(role_ids):
                continue
            allowed_spans = [m.span() for p in compiled.allowed for m in p.finditer(text)]
            for match in _matches(compiled.triggers, text):
                if match.end() > match.start() and not _inside_any(match.span(), allowed_spans):
                    return AutoModHit(rule.id, rule.name, match.group(0))
        return None


def _matches(patterns: Sequence[re.Pattern[str]], text: str) -> Iterator[re.Match[str]]:
    for pattern in patterns:
        yield from pattern.finditer(text)


def _inside_any(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    start, end = span
    return any(a <= start and end <= b for a, b in spans)
