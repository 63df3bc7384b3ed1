"""Member and upstream text shown as text in Discord Markdown, and URLs shown as links only when safe.

Pure (no discord.py). Escape text *before* putting it where Discord renders Markdown (message content, an
embed's title, description and field values, a link label) and cut it with :func:`escape_markdown_within`,
never after escaping. Embed footers and author names are not Markdown: do not escape there. A URL goes
through :func:`safe_link_url` and, when that refuses it, is not shown as a link at all.
"""

from __future__ import annotations

from urllib.parse import urlsplit

ELLIPSIS = "…"
MAX_LINK_CHARS = 2000
# Every ASCII character Discord's Markdown gives a meaning to: emphasis, strike, spoilers, code, quotes,
# headers and subtext, lists, masked links, mentions, timestamps, emoji; a backslash shows each as itself.
_ESCAPED = frozenset("\\*_~`|>#-+.!:[]()<")
# Mentions are also recognised after an escape in some clients: a zero-width space after "@" breaks them.
_ZERO_WIDTH_SPACE = "\u200b"
# Characters that could end a link or start markup around it, besides whitespace and controls.
_LINK_BREAKERS = frozenset("<>()[]{}\"'`\\|^*")


def escape_markdown(text: str) -> str:
    """``text`` so that Discord shows it as typed: no link, header, list, code, quote, spoiler or mention."""
    return "".join(_escaped_char(char) for char in text)


def escape_markdown_within(text: str, max_chars: int) -> str:
    """:func:`escape_markdown`, cut (with "…") so the result has at most ``max_chars`` characters.

    The cut never falls inside an escape, so the escaped text cannot swallow what follows it.
    """
    if max_chars < len(ELLIPSIS):
        raise ValueError("max_chars must leave room for the ellipsis")
    pieces = [_escaped_char(char) for char in text]
    if sum(len(piece) for piece in pieces) <= max_chars:
        return "".join(pieces)
    budget = max_chars - len(ELLIPSIS)
    kept: list[str] = []
    for piece in pieces:
        if len(piece) > budget:
            break
        kept.append(piece)
        budget -= len(piece)
    return "".join(kept) + ELLIPSIS


def safe_link_url(url: str) -> str | None:
    """``url`` if it may be shown as a link: ``https``, a host and no user info, at most 2,000 characters,
    and only printable ASCII that cannot break out of markup. Otherwise None: show no link at all."""
    if not url or len(url) > MAX_LINK_CHARS:
        return None
    if any(not "!" <= char <= "~" or char in _LINK_BREAKERS for char in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname or "@" in parts.netloc:
        return None
    if port == 0:
        return None
    return url


def masked_link(label: str, url: str) -> str | None:
    """``[label](url)`` with the label escaped, or None when :func:`safe_link_url` refuses the URL."""
    safe = safe_link_url(url)
    if safe is None:
        return None
    return f"[{escape_markdown(label)}]({safe})"


def shown_url(url: str) -> str | None:
    """How a URL may appear in public: itself when :func:`safe_link_url` takes it, else as inline code
    (not a link, not markup) when it is printable, short enough and has no backtick; else None."""
    safe = safe_link_url(url)
    if safe is not None:
        return safe
    if not url or len(url) > MAX_LINK_CHARS - 2 or "`" in url:
        return None
    if any(not char.isprintable() for char in url):
        return None
    return f"`{url}`"


def _escaped_char(char: str) -> str:
    if char == "@":
        return "@" + _ZERO_WIDTH_SPACE
    if char in _ESCAPED:
        return "\\" + char
    return char
