import ast
import re
from pathlib import Path

import pytest

from bot.markdown_safety import (
    ELLIPSIS,
    MAX_LINK_CHARS,
    escape_markdown,
    escape_markdown_within,
    masked_link,
    safe_link_url,
)

ZWSP = "\u200b"


def unescaped(text: str) -> str:
    """What Discord shows for escaped text: each backslash escape is its character, ZWSPs draw nothing."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL).replace(ZWSP, "")


def live_markup(text: str) -> list[str]:
    """Markdown constructs still active in ``text`` once its backslash escapes are taken out."""
    bare = re.sub(r"\\.", "\x00", text, flags=re.DOTALL)
    patterns = {
        "masked link": r"\[[^\]]*\]\(",
        "header": r"(?m)^#{1,3} ",
        "list": r"(?m)^\s*[-*+] ",
        "ordered list": r"(?m)^\s*\d+\. ",
        "quote": r"(?m)^>",
        "code": r"`",
        "spoiler": r"\|\|",
        "bold": r"\*\*",
        "underline": r"__",
        "strike": r"~~",
        "mention": r"@(everyone|here)|<[@#]&?!?\d+>|</\w+:\d+>|<t:\d+",
        "subtext": r"(?m)^-# ",
    }
    return [name for name, pattern in patterns.items() if re.search(pattern, bare)]


HOSTILE = [
    "[free nitro](https://evil.example)",
    "[free nitro](<https://evil.example>)",
    "# HEADER\n## sub\n-# small print",
    "- one\n* two\n+ three\n1. four",
    "> quoted\n>>> all the rest",
    "```py\nprint('x')\n```",
    "`inline`",
    "||spoiler||",
    "**bold** __underline__ ~~strike~~ *it* _it_",
    "@everyone @here",
    "<@123456789012345678> <@!123456789012345678> <#123456789012345678> <@&123456789012345678>",
    "</animate:123456789012345678> <t:1700000000:R>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_has_no_live_markup_and_shows_as_typed(text: str) -> None:
    assert live_markup(text), "the example itself must be live markup"
    escaped = escape_markdown(text)
    assert live_markup(escaped) == []
    assert unescaped(escaped) == text


@pytest.mark.parametrize(
    "text", ["\\[free nitro\\](https://evil.example)", "\\\\[x](https://evil.example)", "trailing \\"]
)
def test_backslashes_in_the_text_cannot_undo_the_escapes(text: str) -> None:
    escaped = escape_markdown(text)
    assert live_markup(escaped + "[x](https://after.example)") == ["masked link"]
    assert live_markup(escaped) == []
    assert unescaped(escaped) == text


def test_mentions_are_broken_by_a_zero_width_space() -> None:
    assert escape_markdown("@everyone") == f"@{ZWSP}everyone"
    assert re.search(r"<@\d", escape_markdown("<@123>")) is None


@pytest.mark.parametrize("text", ["a cat waves", "고양이가 손을 흔든다", "emoji 👋 ok"])
def test_plain_text_is_left_alone(text: str) -> None:
    assert escape_markdown(text) == text


def test_a_cut_never_splits_an_escape_and_respects_the_limit() -> None:
    text = "ab" + "*" * 50
    for limit in range(1, 40):
        cut = escape_markdown_within(text, limit)
        assert len(cut) <= limit
        assert cut.endswith(ELLIPSIS)
        body = cut.removesuffix(ELLIPSIS)
        assert live_markup(body + "[x](y)") == ["masked link"]
    assert escape_markdown_within("short", 100) == "short"


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example/out.mp4",
        "https://cdn.example:8443/a/b_c-d~e.mp4?sig=abc%2Fdef&x=1#frag",
        "https://" + "a" * (MAX_LINK_CHARS - len("https://")),
    ],
)
def test_plain_https_urls_may_be_links(url: str) -> None:
    assert safe_link_url(url) == url
    assert masked_link("video", url) == f"[video]({url})"


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example/out.mp4",
        "javascript:alert(1)",
        "data:video/mp4;base64,AAAA",
        "ftp://cdn.example/x",
        "https://",
        "https:///path",
        "",
        "https://" + "a" * (MAX_LINK_CHARS - len("https://") + 1),
        "https://cdn.example/a b",
        "https://cdn.example/a\nb",
        "https://cdn.example/a\tb",
        "https://cdn.example/x)[free nitro](https://evil.example",
        "https://cdn.example/<x>",
        "https://cdn.example/[x]",
        "https://cdn.example/`x`",
        "https://cdn.example/x||y",
        "https://cdn.example/x\\y",
        "https://cdn.example/é",
        "https://cdn.example/\u202egnp.exe",
        "https://cdn.example/\u200bx",
        "https://discord.com@evil.example/",
        "https://cdn.example:notaport/",
        "https://[::1/",
    ],
)
def test_other_urls_are_never_links(url: str) -> None:
    assert safe_link_url(url) is None
    assert masked_link("video", url) is None


def test_a_link_label_is_escaped() -> None:
    assert masked_link("[x](https://evil.example)", "https://cdn.example/v.mp4") == (
        r"[\[x\]\(https\://evil\.example\)](https://cdn.example/v.mp4)"
    )


def test_the_module_is_pure() -> None:
    source = Path(__file__).resolve().parents[2] / "bot" / "markdown_safety.py"
    imported = {
        node.names[0].name if isinstance(node, ast.Import) else (node.module or "")
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
    }
    assert not {name for name in imported if name.split(".")[0] in {"discord", "aiohttp"}}
