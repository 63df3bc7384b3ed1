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
    "queue": "대기열",
    "page": "페이지",
    "mod": "관리",
    "pause": "일시정지",
    "resume": "재개",
    "clear": "비우기",
    "cancel": "취소",
    "front": "맨앞",
    "block": "차단",
    "unblock": "차단해제",
    "settings": "설정",
    "channels": "채널",
    "roles": "역할",
    "words": "금지어",
    "reason": "이유",
    "job": "작업",
    "member": "멤버",
    "hours": "시간",
    "channel": "채널",
    "role": "역할",
    "allowed": "허용",
    "action": "동작",
    "word": "단어",
    "member_active": "멤버_동시",
    "member_daily": "멤버_일일",
    "cooldown_s": "대기_초",
    "queue_max": "대기열_최대",
    "max_resolution": "최대_해상도",
    "max_duration": "최대_길이",
    "daily_budget": "일일_예산",
    "approval": "승인",
    "log_channel": "로그_채널",
    "moderator_role": "관리자_역할",
    "unset": "해제",
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
            app_commands.TranslationContextLocation.group_name,
            app_commands.TranslationContextLocation.command_name,
            app_commands.TranslationContextLocation.parameter_name,
        ):
            return KOREAN_NAMES.get(string.message)
        key = string.extras.get("key")
        if not isinstance(key, str):
            return None
        return command_texts().get(key.removeprefix("command."), {}).get("ko")
