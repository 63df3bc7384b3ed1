"""The server's own blocked words: whole words or phrases, case-insensitive, look-alikes normalised."""

from __future__ import annotations

from collections.abc import Iterable

from bot.moderation.prompt_text import normalise, whole_word_pattern


def find_blocked_word(prompt: str, words: Iterable[str]) -> str | None:
    """The first of ``words`` that ``prompt`` contains as a whole word, or ``None``."""
    text = normalise(prompt)
    for word in words:
        pattern = whole_word_pattern(word)
        if pattern is not None and pattern.search(text):
            return word
    return None
