import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.moderation.automod import (
    MAX_REGEX_CHARS,
    AutoModRule,
    PromptRules,
    SkipReason,
    compile_regex,
    rule_from_payload,
)


def rule(**fields: object) -> AutoModRule:
    return AutoModRule(id=fields.pop("id", 1), name=str(fields.pop("name", "r")), **fields)  # type: ignore[arg-type]


def test_keyword_rule_matches_with_wildcards() -> None:
    rules = PromptRules([rule(keyword_filter=("cat*",), name="no cats")])
    hit = rules.first_hit("a CATapult")
    assert hit is not None
    assert (hit.rule_id, hit.rule_name, hit.matched) == (1, "no cats", "cat")
    assert rules.first_hit("a bobcat") is None


@pytest.mark.parametrize(
    "kept_out",
    [
        {"enabled": False},
        {"event_type": 2},
        {"trigger_type": 3},
        {"trigger_type": 4},
    ],
)
def test_only_enabled_keyword_rules_on_message_send_apply(kept_out: dict[str, object]) -> None:
    assert PromptRules([rule(keyword_filter=("cat",), **kept_out)]).first_hit("cat") is None
    assert PromptRules([rule(keyword_filter=("cat",))]).first_hit("cat") is not None


def test_allow_list_exempts_matches_inside_allowed_phrases() -> None:
    rules = PromptRules([rule(keyword_filter=("*cat*",), allow_list=("education", "cat food"))])
    assert rules.first_hit("education and cat food") is None
    assert rules.first_hit("education and a cat") is not None


def test_regex_patterns_match_ignoring_case() -> None:
    rules = PromptRules([rule(regex_patterns=(r"b[a4]d\s*w[o0]rd",))])
    hit = rules.first_hit("a B4D w0rd")
    assert hit is not None
    assert hit.matched == "b4d w0rd"


def test_an_empty_regex_match_does_not_trigger() -> None:
    assert PromptRules([rule(regex_patterns=("x*",))]).first_hit("hello") is None


def test_exempt_roles_and_channels_are_honoured() -> None:
    rules = PromptRules([rule(keyword_filter=("cat",), exempt_roles=frozenset({7}), exempt_channels={8})])
    assert rules.first_hit("cat", role_ids={7}) is None
    assert rules.first_hit("cat", channel_id=8) is None
    assert rules.first_hit("cat", role_ids={6}, channel_id=9) is not None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(", SkipReason.INVALID),
        (r"\p{L}+", SkipReason.INVALID),
        ("a" * (MAX_REGEX_CHARS + 1), SkipReason.TOO_LONG),
        (r"(a)\1", SkipReason.UNSUPPORTED),
        ("foo(?=bar)", SkipReason.UNSUPPORTED),
        ("(?<!x)y", SkipReason.UNSUPPORTED),
        ("[[a-z]&&[^aeiou]]", SkipReason.UNSUPPORTED),
        ("(a+)+$", SkipReason.TOO_COSTLY),
        ("(a|aa)*$", SkipReason.TOO_COSTLY),
        ("(?:x{2,})+", SkipReason.TOO_COSTLY),
        ("((a)*)+", SkipReason.TOO_COSTLY),
        ("(a?){2,}", SkipReason.TOO_COSTLY),
        ("a*a*b", SkipReason.TOO_COSTLY),
        ("(a|aa){1,50}", SkipReason.TOO_COSTLY),
        ("a{0,100}a{0,100}b", SkipReason.TOO_COSTLY),
        (r"\w+@\w+\.\w+", SkipReason.TOO_COSTLY),
        (r".*x.*y", SkipReason.TOO_COSTLY),
    ],
)
def test_unsafe_or_broken_patterns_are_left_out(pattern: str, reason: SkipReason) -> None:
    assert compile_regex(pattern) is reason


@pytest.mark.parametrize(
    "pattern",
    [
        "ab+c",
        "(foo)+",
        "(ab){3}",
        "(a+){1}",
        "[(]+x",
        r"https?://\S+",
        "a{2,5}",
        "(?i)cat",
        "(a+)?",
        r"^(?:[0-9]{1,3}\.){3}[0-9]{1,3}$",
        "(b|c)at",
        r"[\]a]+x",
        "a+?b",
    ],
)
def test_safe_patterns_are_kept(pattern: str) -> None:
    assert isinstance(compile_regex(pattern), re.Pattern)


def test_left_out_patterns_are_reported_and_the_rest_still_apply() -> None:
    rules = PromptRules([rule(id=5, regex_patterns=("(a+)+$", "dog"))])
    assert [(s.rule_id, s.pattern, s.reason) for s in rules.skipped] == [(5, "(a+)+$", SkipReason.TOO_COSTLY)]
    assert rules.first_hit("a" * 1900 + "!") is None
    assert rules.first_hit("hot dog") is not None


def test_rule_from_discord_payload() -> None:
    payload = {
        "id": "123",
        "guild_id": "9",
        "name": "words",
        "event_type": 1,
        "trigger_type": 1,
        "trigger_metadata": {"keyword_filter": ["cat"], "regex_patterns": ["d[o0]g"], "allow_list": ["x", 5]},
        "actions": [{"type": 1}],
        "enabled": True,
        "exempt_roles": ["7"],
        "exempt_channels": ["8"],
    }
    parsed = rule_from_payload(payload)
    assert parsed == AutoModRule(
        id=123,
        name="words",
        keyword_filter=("cat",),
        regex_patterns=("d[o0]g",),
        allow_list=("x",),
        exempt_roles=frozenset({7}),
        exempt_channels=frozenset({8}),
    )


def test_malformed_payloads_are_read_as_empty_or_refused() -> None:
    assert rule_from_payload({"name": "no id"}) is None
    parsed = rule_from_payload({"id": 4, "trigger_metadata": "junk", "enabled": "yes", "event_type": "1"})
    assert parsed is not None
    assert not parsed.applies_to_prompts
    assert parsed.keyword_filter == ()


@given(st.text(alphabet="ab()[]{}|*+?\\,.^$0123:-", max_size=40))
def test_any_pattern_text_is_kept_or_left_out_never_raises(pattern: str) -> None:
    assert isinstance(compile_regex(pattern), (re.Pattern, SkipReason))
