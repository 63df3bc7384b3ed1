import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.moderation.blocked_words import find_blocked_word


@pytest.mark.parametrize(
    ("prompt", "found"),
    [
        ("a gory scene", "gory"),
        ("a GORY scene", "gory"),
        ("a ｇｏｒｙ scene", "gory"),
        ("a g\u200bory scene", "gory"),
        ("gory.", "gory"),
        ("allegory of waves", None),
        ("gorys", None),
        ("blood  bath", "blood bath"),
        ("bloodbath", None),
    ],
)
def test_whole_words_case_and_look_alikes(prompt: str, found: str | None) -> None:
    assert find_blocked_word(prompt, ["gory", "blood bath"]) == found


def test_no_words_block_nothing() -> None:
    assert find_blocked_word("anything at all", []) is None


@given(st.sampled_from(["gory", "Gory", "GORY"]), st.text(alphabet=" .,!?", max_size=3))
def test_a_blocked_word_between_separators_is_always_found(word: str, sep: str) -> None:
    assert find_blocked_word(f"x{sep or ' '}{word}{sep or ' '}y", ["gory"]) == "gory"
