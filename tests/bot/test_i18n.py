import re

import pytest

from bot.i18n import LANGUAGES, Lang, catalog, language_for, placeholders, shorten, t

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.mark.parametrize("locale", ["ko", "KO", "ko-KR", "ko_KR"])
def test_korean_locales_choose_korean(locale: str) -> None:
    assert language_for(locale) == "ko"


@pytest.mark.parametrize("locale", ["en-US", "en-GB", "fr", "ja", "zh-CN", "kok", "", None])
def test_every_other_locale_falls_back_to_english(locale: str | None) -> None:
    assert language_for(locale) == "en"


def test_both_catalogs_have_the_same_keys() -> None:
    assert set(catalog("en")) == set(catalog("ko"))


def test_each_key_has_the_same_placeholders_in_both_languages() -> None:
    english, korean = catalog("en"), catalog("ko")
    mismatched = {
        key: (placeholders(english[key]), placeholders(korean[key]))
        for key in english
        if placeholders(english[key]) != placeholders(korean[key])
    }
    assert mismatched == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_template_is_empty(lang: Lang) -> None:
    assert [key for key, text in catalog(lang).items() if not text.strip()] == []


def test_korean_catalog_is_written_in_korean() -> None:
    assert [key for key, text in catalog("ko").items() if not HANGUL.search(text)] == []


def test_t_fills_placeholders_in_the_members_language() -> None:
    assert t("en-US", "card.footer", job_id="ab12cd34") == "Job ab12cd34"
    assert t("ko", "card.footer", job_id="ab12cd34") == "작업 ab12cd34"


def test_unknown_locale_reads_the_english_catalog() -> None:
    assert t("fr", "guild_only") == t("en-GB", "guild_only") == catalog("en")["guild_only"]


def test_unknown_key_fails_loudly() -> None:
    with pytest.raises(KeyError):
        t("en", "no.such.key")


def test_catalogs_are_read_only() -> None:
    with pytest.raises(TypeError):
        catalog("en")["guild_only"] = "changed"  # type: ignore[index]


def test_placeholders_lists_field_names() -> None:
    assert placeholders("{a} and {b:>3} but not {{c}}") == frozenset({"a", "b"})


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("eleven char", 10, "eleven ch…"),
        ("word   spaces here", 8, "word…"),
        ("anything", 0, ""),
    ],
)
def test_shorten_marks_a_cut_and_respects_the_limit(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit
