"""What is wrong with a prompt's characters, before anything is paid for: nothing visible, or a control
character. Pure; the caller words the answer in the member's language."""

from __future__ import annotations

import unicodedata
from enum import StrEnum

# Neither visible nor harmful: tabs and line breaks are part of ordinary writing.
_ALLOWED_CONTROLS = frozenset("\n\t")
# Embeddings, overrides and isolates reorder the text around them (the "Trojan Source" characters).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Categories that draw nothing on their own: format, space and line/paragraph separators, controls,
# surrogates, unassigned code points and combining marks (which need a base character).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
# Letters and symbols that fonts draw as empty space.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


class PromptProblem(StrEnum):
    """Why a prompt is refused."""

    BLANK = "blank"
    """No visible character (only spaces, zero-width characters, variation selectors and the like)."""
    CONTROL = "control"
    """A control character (other than a tab or a line break) or a bidirectional override."""


def prompt_problem(text: str) -> PromptProblem | None:
    """What is wrong with ``text`` as a prompt, or None when it may be submitted.

    A control character wins over blankness: a prompt of only control characters is ``CONTROL``.
    """
    if any(is_refused_control(char) for char in text):
        return PromptProblem.CONTROL
    if not any(is_visible(char) for char in text):
        return PromptProblem.BLANK
    return None


def is_refused_control(char: str) -> bool:
    """Whether ``char`` is a control character a prompt must not carry."""
    if char in _BIDI_CONTROLS:
        return True
    return unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS


def is_visible(char: str) -> bool:
    """Whether ``char`` draws something on its own."""
    return char not in _BLANK_LOOKING and unicodedata.category(char) not in _INVISIBLE_CATEGORIES
