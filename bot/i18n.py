"""Member-facing text in English and Korean.

Catalogs live in ``bot/locales/{en,ko}.json`` as flat ``key → template`` maps with ``str.format``
placeholders. A Discord locale of ``"ko"`` selects Korean; every other locale (or none) falls back to English.
"""

from __future__ import annotations

import functools
import json
import string
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Literal, get_args

Lang = Literal["en", "ko"]
LANGUAGES: tuple[Lang, ...] = get_args(Lang)
ELLIPSIS = "…"


def language_for(locale: str | None) -> Lang:
    """The catalog language for a Discord locale such as ``"ko"``, ``"en-US"`` or ``"fr"``."""
    if locale is None:
        return "en"
    primary = locale.strip().lower().replace("_", "-").split("-", 1)[0]
    return "ko" if primary == "ko" else "en"


@functools.cache
def catalog(lang: Lang) -> Mapping[str, str]:
    """The read-only catalog of one language, loaded once."""
    text = resources.files("bot").joinpath("locales", f"{lang}.json").read_text(encoding="utf-8")
    entries = json.loads(text)
    if not isinstance(entries, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in entries.items()
    ):
        raise ValueError(f"locale catalog {lang}.json must map strings to strings")
    return MappingProxyType(entries)


def t(lang_or_locale: str | None, key: str, **params: object) -> str:
    """The text for ``key`` in the member's language, with ``params`` filled in.

    Raises ``KeyError`` for an unknown key, so a typo fails loudly in tests instead of reaching a member.
    """
    return catalog(language_for(lang_or_locale))[key].format(**params)


def placeholders(template: str) -> frozenset[str]:
    """The names of the ``{…}`` placeholders a template expects."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name is not None)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    if limit < len(ELLIPSIS):
        return ""
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
