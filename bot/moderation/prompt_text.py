"""Prompt text as the filters see it, and Discord's keyword matching strategies as patterns.

Both sides of a match are normalised the same way: NFKC (full-width and other compatibility look-alikes
become their plain letters), invisible format characters (zero-width spaces and joiners, soft hyphens)
removed, then casefolded. Matching is on that normalised text.
"""

from __future__ import annotations

import re
import unicodedata

MAX_SCAN_CHARS = 4000
"""Text beyond this is not scanned; prompts are at most 1900 characters, so only bad input is cut."""

WILDCARD = "*"


def normalise(text: str) -> str:
    """``text`` in the form every filter matches against."""
    folded = unicodedata.normalize("NFKC", text[:MAX_SCAN_CHARS])
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", visible.casefold())


def _phrase(phrase: str) -> str:
    """A literal phrase, any run of whitespace in it matching any run of whitespace."""
    return r"\s+".join(re.escape(word) for word in normalise(phrase).split())


def whole_word_pattern(phrase: str) -> re.Pattern[str] | None:
    """Matches ``phrase`` only as whole words (not inside a longer word); ``None`` for a blank phrase."""
    body = _phrase(phrase)
    return re.compile(rf"(?<!\w){body}(?!\w)") if body else None


def keyword_pattern(keyword: str) -> re.Pattern[str] | None:
    """Discord's keyword matching strategy for ``keyword``: ``cat*`` a word starting with it (prefix),
    ``*cat`` a word ending with it (suffix), ``*cat*`` anywhere, ``cat`` the whole word only.
    ``None`` for a keyword that is only wildcards or blank. Discord's documentation says a whole word is
    surrounded by whitespace; punctuation and the text's ends separate words here too, so ``cat.`` and
    ``(cat)`` still match ``cat``."""
    stripped = keyword.strip()
    starts_free = stripped.startswith(WILDCARD)
    ends_free = stripped.endswith(WILDCARD)
    body = _phrase(stripped.strip(WILDCARD))
    if not body:
        return None
    before = "" if starts_free else r"(?<!\w)"
    after = "" if ends_free else r"(?!\w)"
    return re.compile(f"{before}{body}{after}")
