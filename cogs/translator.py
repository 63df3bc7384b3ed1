"""Korean localisations of the command names, descriptions and options, fed to Discord at sync."""

from __future__ import annotations

from discord import Locale, app_commands

from bot.i18n import t
from bot.texts import command_texts

# Discord shows these names to Korean clients; the English names stay the canonical ones.
KOREAN_NAMES = {
    "animate": "움직이기",
    "help": "도움말",
    "image": "이미지",
    "prompt": "프롬프트",
    "last_frame": "마지막_프레임",
    "resolution": "해상도",
    "duration": "길이",
}


def text(key: str) -> app_commands.locale_str:
    """A command string: its English text from the catalog, and its key so the translator finds the Korean."""
    return app_commands.locale_str(t("en", key), key=key)


class CommandTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is not Locale.korean:
            return None
        if context.location in (
            app_commands.TranslationContextLocation.command_name,
            app_commands.TranslationContextLocation.parameter_name,
        ):
            return KOREAN_NAMES.get(string.message)
        key = string.extras.get("key")
        if not isinstance(key, str):
            return None
        return command_texts().get(key.removeprefix("command."), {}).get("ko")
