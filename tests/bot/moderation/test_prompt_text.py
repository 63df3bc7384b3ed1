import pytest

from bot.moderation.prompt_text import keyword_pattern, normalise, whole_word_pattern


def test_normalise_folds_full_width_case_and_invisible_characters() -> None:
    assert normalise("ＣＡＴ") == "cat"
    assert normalise("C\u200ba\u00adT") == "cat"
    assert normalise("STRASSE") == normalise("straße")


@pytest.mark.parametrize(
    ("keyword", "text", "hit"),
    [
        ("cat", "the Cat sat", True),
        ("cat", "the cats sat", False),
        ("cat", "bobcat", False),
        ("cat*", "catch it", True),
        ("cat*", "bobcat", False),
        ("*cat", "bobcat here", True),
        ("*cat", "catch", False),
        ("*cat*", "education", True),
        ("*cat*", "dog", False),
        ("ice cream", "ICE   cream", True),
        ("ice cream", "icecream", False),
        ("cat", "(cat)", True),
        ("고양이", "귀여운 고양이 영상", True),
    ],
)
def test_discord_keyword_strategies(keyword: str, text: str, hit: bool) -> None:
    pattern = keyword_pattern(keyword)
    assert pattern is not None
    assert bool(pattern.search(normalise(text))) is hit


@pytest.mark.parametrize("keyword", ["*", "**", "   ", ""])
def test_keywords_of_only_wildcards_match_nothing(keyword: str) -> None:
    assert keyword_pattern(keyword) is None


def test_regex_characters_in_a_keyword_are_literal() -> None:
    pattern = keyword_pattern("a.b*")
    assert pattern is not None
    assert pattern.search("a.bc")
    assert not pattern.search("axbc")


def test_whole_word_pattern_ignores_wildcards() -> None:
    pattern = whole_word_pattern("*cat*")
    assert pattern is not None
    assert pattern.search("a *cat* here")
    assert not pattern.search("education")
    assert whole_word_pattern("  ") is None
