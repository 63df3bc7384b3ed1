"""Discord's checks on an interaction callback's type and on the modal (9) and autocomplete (8) answers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

JSON = dict[str, Any]

APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
MODAL_TITLE_MAX: Final = 45
MODAL_ROWS_MAX: Final = 5
CUSTOM_ID_MAX: Final = 100
TEXT_INPUT_LABEL_MAX: Final = 45
TEXT_INPUT_VALUE_MAX: Final = 4000
TEXT_INPUT_PLACEHOLDER_MAX: Final = 100
AUTOCOMPLETE_CHOICES_MAX: Final = 25
CHOICE_TEXT_MAX: Final = 100
ACTION_ROW, TEXT_INPUT, LABEL = 1, 4, 18


def allowed_callbacks(interaction_type: int, *, from_message: bool) -> frozenset[int]:
    """The callback types Discord accepts for an interaction: an autocomplete only gets choices (8), a
    modal submit cannot open another modal, and only a component (or a modal opened from one) may
    update its message (6, 7)."""
    if interaction_type == AUTOCOMPLETE:
        return frozenset({8})
    if interaction_type == MESSAGE_COMPONENT:
        return frozenset({4, 5, 6, 7, 9})
    if interaction_type == MODAL_SUBMIT:
        return frozenset({4, 5, 6, 7}) if from_message else frozenset({4, 5})
    return frozenset({4, 5, 9})


def _error(code: str, message: str) -> JSON:
    return {"_errors": [{"code": code, "message": message}]}


def _length(value: object, low: int, high: int) -> JSON | None:
    if isinstance(value, str) and low <= len(value) <= high:
        return None
    if value is None and low > 0:
        return _error("BASE_TYPE_REQUIRED", "This field is required")
    return _error("BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def text_inputs(modal: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], str | None]]:
    """Each text input of a modal with its label (from the input, or from the Label wrapping it)."""
    for row in modal.get("components") or []:
        if not isinstance(row, Mapping):
            continue
        if row.get("type") == LABEL and isinstance(row.get("component"), Mapping):
            yield row["component"], row.get("label")
        for child in row.get("components") or [] if row.get("type") == ACTION_ROW else []:
            if isinstance(child, Mapping):
                yield child, child.get("label")


def _text_input_errors(item: Mapping[str, Any], label: object) -> JSON:
    errors: JSON = {}
    if item.get("type") != TEXT_INPUT:
        return _error("UNION_TYPE_CHOICES", 'Value of field "type" must be one of (4,).')
    checks: list[tuple[str, JSON | None]] = [
        ("custom_id", _length(item.get("custom_id"), 1, CUSTOM_ID_MAX)),
        ("label", _length(label, 1, TEXT_INPUT_LABEL_MAX)),
    ]
    if item.get("style") not in (1, 2):
        checks.append(("style", _error("BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")))
    for key, most in (("value", TEXT_INPUT_VALUE_MAX), ("placeholder", TEXT_INPUT_PLACEHOLDER_MAX)):
        if item.get(key) is not None:
            checks.append((key, _length(item.get(key), 0, most)))
    low, high = item.get("min_length"), item.get("max_length")
    if low is not None and not (isinstance(low, int) and 0 <= low <= TEXT_INPUT_VALUE_MAX):
        checks.append(("min_length", _error("INT_TYPE_COERCE", "int value should be <= 4000 and >= 0.")))
    if high is not None and not (isinstance(high, int) and 1 <= high <= TEXT_INPUT_VALUE_MAX):
        checks.append(("max_length", _error("INT_TYPE_COERCE", "int value should be <= 4000 and >= 1.")))
    errors.update({key: problem for key, problem in checks if problem is not None})
    return errors


def modal_errors(modal: Mapping[str, Any]) -> JSON:
    """The ``errors`` tree Discord answers for a MODAL callback's ``data`` (empty when valid)."""
    errors: JSON = {}
    for key, high in (("custom_id", CUSTOM_ID_MAX), ("title", MODAL_TITLE_MAX)):
        problem = _length(modal.get(key), 1, high)
        if problem:
            errors[key] = problem
    rows = modal.get("components")
    if not isinstance(rows, Sequence) or not 1 <= len(rows) <= MODAL_ROWS_MAX:
        errors["components"] = _error(
            "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MODAL_ROWS_MAX} in length."
        )
        return errors
    rows_errors: JSON = {}
    for index, row in enumerate(rows):
        kind = row.get("type") if isinstance(row, Mapping) else None
        if kind == LABEL:
            inner = _text_input_errors(row.get("component") or {}, row.get("label"))
            entry = {"component": inner} if inner else {}
        elif kind == ACTION_ROW and len(row.get("components") or []) == 1:
            inner = _text_input_errors(row["components"][0], row["components"][0].get("label"))
            entry = {"components": {"0": inner}} if inner else {}
        else:
            entry = _error("BASE_TYPE_BAD_LENGTH", "An action row in a modal holds exactly one text input.")
        if entry:
            rows_errors[str(index)] = entry
    if rows_errors:
        errors["components"] = rows_errors
    return errors


def choices_errors(data: Mapping[str, Any]) -> JSON:
    """The ``errors`` tree for an autocomplete answer's ``data`` (at most 25 choices, names 1-100)."""
    choices = data.get("choices")
    if not isinstance(choices, Sequence) or isinstance(choices, str):
        return {"choices": _error("BASE_TYPE_REQUIRED", "This field is required")}
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        return {
            "choices": _error(
                "BASE_TYPE_MAX_LENGTH", f"Must be {AUTOCOMPLETE_CHOICES_MAX} or fewer in length."
            )
        }
    errors: JSON = {}
    for index, choice in enumerate(choices):
        entry: JSON = {}
        name = choice.get("name") if isinstance(choice, Mapping) else None
        value = choice.get("value") if isinstance(choice, Mapping) else None
        if (problem := _length(name, 1, CHOICE_TEXT_MAX)) is not None:
            entry["name"] = problem
        if isinstance(value, str) and (problem := _length(value, 1, CHOICE_TEXT_MAX)) is not None:
            entry["value"] = problem
        if entry:
            errors[str(index)] = entry
    return {"choices": errors} if errors else {}
