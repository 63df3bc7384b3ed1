import pytest

from client.prompt_text import PromptProblem, prompt_problem


@pytest.mark.parametrize(
    "prompt",
    [
        "",
        "   ",
        "\u200b\u200b\u200b",  # zero-width spaces
        "\u2060\u2060",  # word joiners
        "\ufeff",  # byte order mark
        "\ufe0f\ufe0e",  # variation selectors
        "\U000e0100",  # a supplementary variation selector
        "\u200c\u200d\u00a0\u3000\u2028\u2029",  # ZWNJ, ZWJ, no-break and ideographic spaces, separators
        "\u3164\u3164",  # Hangul fillers
        "\u2800",  # braille blank
        "\U000e0041\U000e007f",  # tag characters
        "\u0301\u0301",  # combining marks with no base
        "\n\t \n",
    ],
)
def test_a_prompt_without_any_visible_character_is_blank(prompt: str) -> None:
    assert prompt_problem(prompt) is PromptProblem.BLANK


@pytest.mark.parametrize(
    "prompt",
    [
        "\x00",
        "\x07\x08\x1b",  # only control characters
        "a cat\x1b[31m waves",  # a terminal escape
        "a cat\r waves",
        "a cat\x7f waves",
        "a cat\x85 waves",  # C1 control
        "a cat \u202eevaw",  # right-to-left override
        "a cat \u2066waves\u2069",  # isolates
        "\u200b\x00",
    ],
)
def test_control_characters_and_bidi_overrides_are_refused(prompt: str) -> None:
    assert prompt_problem(prompt) is PromptProblem.CONTROL


@pytest.mark.parametrize(
    "prompt",
    [
        "a cat waves",
        "고양이가 손을 흔든다",
        "a cat\nwaves\tslowly",
        "e\u0301",  # a combining mark on a base
        "👋\ufe0f",  # an emoji with its variation selector
        "👨\u200d👩\u200d👧",  # a ZWJ sequence
        "\u200b x",
        "مرحبا",  # right-to-left script needs no override
    ],
)
def test_ordinary_prompts_pass(prompt: str) -> None:
    assert prompt_problem(prompt) is None


def test_the_problem_names_are_stable_for_catalog_keys() -> None:
    assert [problem.value for problem in PromptProblem] == ["blank", "control"]
