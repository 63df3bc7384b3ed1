"""Discord's checks on a bulk-overwrite of application commands, down every option and localisation."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

JSON = dict[str, Any]

COMMANDS_MAX: Final = 100
OPTIONS_MAX: Final = 25
CHOICES_MAX: Final = 25
DESCRIPTION_MAX: Final = 100
CHOICE_NAME_MAX: Final = 100
CHOICE_STRING_MAX: Final = 100
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
CHAT_INPUT = 1

# https://discord.com/developers/docs/reference#locales
LOCALES: Final = frozenset(
    {
        *("id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no"),
        *("pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th"),
        *("zh-CN", "ja", "zh-TW", "ko"),
    }
)

_NAME = re.compile(r"^[-_'\w]{1,32}$")


def _error(code: str, message: str) -> JSON:
    return {"_errors": [{"code": code, "message": message}]}


def _bad_name() -> JSON:
    return _error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _bad_length(low: int, high: int) -> JSON:
    return _error("BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def _name_ok(name: object, *, lowercase: bool) -> bool:
    return isinstance(name, str) and bool(_NAME.match(name)) and (not lowercase or name == name.lower())


def _description_ok(text: object) -> bool:
    return isinstance(text, str) and 1 <= len(text) <= DESCRIPTION_MAX


def _localization_errors(values: object, valid: Any) -> JSON:
    """Errors of a ``*_localizations`` map: unknown locales and values that break ``valid``."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        return _error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    errors: JSON = {}
    for locale, value in values.items():
        if locale not in LOCALES:
            errors[locale] = _error("ENUM_TYPE_COERCE", f'Value "{locale}" is not a valid enum value.')
        elif value is not None and not valid(value):
            errors[locale] = _bad_name() if valid is _localized_name else _bad_length(1, DESCRIPTION_MAX)
    return errors


def _localized_name(value: object) -> bool:
    return _name_ok(value, lowercase=True)


def _texts_errors(entry: Mapping[str, Any], *, chat_input: bool) -> JSON:
    errors: JSON = {}
    if not _name_ok(entry.get("name"), lowercase=chat_input):
        errors["name"] = _bad_name()
    if chat_input and not _description_ok(entry.get("description", "")):
        errors["description"] = _bad_length(1, DESCRIPTION_MAX)
    names = _localization_errors(entry.get("name_localizations"), _localized_name if chat_input else bool)
    if names:
        errors["name_localizations"] = names
    if chat_input:
        descriptions = _localization_errors(entry.get("description_localizations"), _description_ok)
        if descriptions:
            errors["description_localizations"] = descriptions
    return errors


def _choices_errors(choices: Sequence[Any]) -> JSON:
    if len(choices) > CHOICES_MAX:
        return _error("BASE_TYPE_MAX_LENGTH", f"Must be {CHOICES_MAX} or fewer in length.")
    errors: JSON = {}
    for index, choice in enumerate(choices):
        entry: JSON = {}
        name = choice.get("name") if isinstance(choice, Mapping) else None
        if not isinstance(name, str) or not 1 <= len(name) <= CHOICE_NAME_MAX:
            entry["name"] = _bad_length(1, CHOICE_NAME_MAX)
        value = choice.get("value") if isinstance(choice, Mapping) else None
        if isinstance(value, str) and not 1 <= len(value) <= CHOICE_STRING_MAX:
            entry["value"] = _bad_length(1, CHOICE_STRING_MAX)
        names = _localization_errors(
            choice.get("name_localizations") if isinstance(choice, Mapping) else None,
            lambda v: isinstance(v, str) and 1 <= len(v) <= CHOICE_NAME_MAX,
        )
        if names:
            entry["name_localizations"] = names
        if entry:
            errors[str(index)] = entry
    return errors


def _options_errors(options: Sequence[Any]) -> JSON:
    if len(options) > OPTIONS_MAX:
        return _error("BASE_TYPE_MAX_LENGTH", f"Must be {OPTIONS_MAX} or fewer in length.")
    errors: JSON = {}
    seen_optional = False
    for index, option in enumerate(options):
        if not isinstance(option, Mapping):
            errors[str(index)] = _error("MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        entry = _texts_errors(option, chat_input=True)
        if option.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            inner = _options_errors(option.get("options") or [])
            if inner:
                entry["options"] = inner
        elif option.get("required"):
            if seen_optional:
                entry.update(
                    _error(
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
                )
        else:
            seen_optional = True
        choices = _choices_errors(option.get("choices") or [])
        if choices:
            entry["choices"] = choices
        if entry:
            errors[str(index)] = entry
    return errors


def command_errors(commands: Sequence[Any]) -> JSON:
    """The ``errors`` tree Discord answers for a list of command definitions (empty when valid)."""
    if len(commands) > COMMANDS_MAX:
        return _error("BASE_TYPE_MAX_LENGTH", f"Must be {COMMANDS_MAX} or fewer in length.")
    errors: JSON = {}
    for index, command in enumerate(commands):
        if not isinstance(command, Mapping):
            errors[str(index)] = _error("MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        chat_input = command.get("type", CHAT_INPUT) == CHAT_INPUT
        entry = _texts_errors(command, chat_input=chat_input)
        options = _options_errors(command.get("options") or []) if chat_input else {}
        if options:
            entry["options"] = options
        if entry:
            errors[str(index)] = entry
    return errors
