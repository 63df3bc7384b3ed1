"""Discord's documented limits and the exact error bodies it answers with when they are broken."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

JSON = dict[str, Any]

CONTENT_MAX: Final = 2000
EMBEDS_MAX: Final = 10
EMBED_TITLE_MAX: Final = 256
EMBED_DESCRIPTION_MAX: Final = 4096
EMBED_FIELDS_MAX: Final = 25
EMBED_FIELD_NAME_MAX: Final = 256
EMBED_FIELD_VALUE_MAX: Final = 1024
EMBED_FOOTER_MAX: Final = 2048
EMBED_AUTHOR_MAX: Final = 256
EMBED_TOTAL_MAX: Final = 6000
CUSTOM_ID_MAX: Final = 100
BUTTON_LABEL_MAX: Final = 80
BUTTON_STYLE_LINK: Final = 5
BUTTON_STYLE_PREMIUM: Final = 6
ACTION_ROWS_MAX: Final = 5
ROW_COMPONENTS_MAX: Final = 5
DEFAULT_UPLOAD_LIMIT: Final = 10 * 1024 * 1024
TIER_2_UPLOAD_LIMIT: Final = 50 * 1024 * 1024
TIER_3_UPLOAD_LIMIT: Final = 100 * 1024 * 1024

FLAG_SUPPRESS_EMBEDS: Final = 1 << 2
FLAG_EPHEMERAL: Final = 1 << 6
FLAG_LOADING: Final = 1 << 7

# Error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json)
UNKNOWN_CHANNEL: Final = 10003
UNKNOWN_GUILD: Final = 10004
UNKNOWN_MESSAGE: Final = 10008
UNKNOWN_WEBHOOK: Final = 10015
UNKNOWN_INTERACTION: Final = 10062
MAX_OLD_MESSAGE_EDITS: Final = 30046
REQUEST_TOO_LARGE: Final = 40005
ALREADY_ACKNOWLEDGED: Final = 40060
MISSING_ACCESS: Final = 50001
CANNOT_EDIT_OTHERS_MESSAGE: Final = 50005
CANNOT_SEND_EMPTY_MESSAGE: Final = 50006
MISSING_PERMISSIONS: Final = 50013
INVALID_FORM_BODY: Final = 50035
INVALID_WEBHOOK_TOKEN: Final = 50027


def premium_tier_for(upload_limit: int) -> int:
    """The boost tier whose upload limit a guild has (tier 1 keeps the default limit, so it is not used)."""
    if upload_limit >= TIER_3_UPLOAD_LIMIT:
        return 3
    if upload_limit >= TIER_2_UPLOAD_LIMIT:
        return 2
    return 0


def error_body(code: int, message: str, errors: JSON | None = None) -> JSON:
    """The JSON body of a Discord error answer."""
    body: JSON = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return body


def old_message_edits_body(retry_after: float) -> JSON:
    """The 429 body when a channel used up its edits of messages older than an hour."""
    return {
        "code": MAX_OLD_MESSAGE_EDITS,
        "message": "Maximum number of edits to messages older than 1 hour reached. Try again later",
        "retry_after": round(retry_after, 3),
        "global": False,
    }


def not_found_body() -> JSON:
    return error_body(0, "404: Not Found")


def unauthorized_body() -> JSON:
    return error_body(0, "401: Unauthorized")


def invalid_form_body(errors: JSON) -> JSON:
    return error_body(INVALID_FORM_BODY, "Invalid Form Body", errors)


def _field_error(code: str, message: str) -> JSON:
    return {"_errors": [{"code": code, "message": message}]}


def _max_length(limit: int) -> JSON:
    return _field_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _required() -> JSON:
    return _field_error("BASE_TYPE_REQUIRED", "This field is required")


def _scheme_error(url: object, *, attachment_ok: bool) -> JSON | None:
    """Discord takes http(s) links in embeds (and ``attachment://`` for images); else this error."""
    text = _text(url)
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    allowed = ("http", "https", "attachment") if attachment_ok else ("http", "https")
    if scheme in allowed:
        return None
    return _field_error(
        "URL_TYPE_INVALID_SCHEME", f'Scheme "{scheme}" is not supported. Scheme must be one of {allowed}.'
    )


def _set_path(tree: JSON, path: Sequence[str], leaf: JSON) -> None:
    node = tree
    for key in path:
        node = node.setdefault(key, {})
    node.update(leaf)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def embed_text_length(embed: Mapping[str, Any]) -> int:
    """The characters Discord counts toward the 6000 total of a message's embeds."""
    total = len(_text(embed.get("title"))) + len(_text(embed.get("description")))
    total += len(_text((embed.get("footer") or {}).get("text")))
    total += len(_text((embed.get("author") or {}).get("name")))
    for field in embed.get("fields") or []:
        total += len(_text(field.get("name"))) + len(_text(field.get("value")))
    return total


def _embed_errors(embed: Mapping[str, Any]) -> JSON:
    errors: JSON = {}
    limits: list[tuple[tuple[str, ...], object, int]] = [
        (("title",), embed.get("title"), EMBED_TITLE_MAX),
        (("description",), embed.get("description"), EMBED_DESCRIPTION_MAX),
        (("footer", "text"), (embed.get("footer") or {}).get("text"), EMBED_FOOTER_MAX),
        (("author", "name"), (embed.get("author") or {}).get("name"), EMBED_AUTHOR_MAX),
    ]
    for path, value, limit in limits:
        if len(_text(value)) > limit:
            _set_path(errors, path, _max_length(limit))
    if "footer" in embed and not _text((embed.get("footer") or {}).get("text")):
        _set_path(errors, ("footer", "text"), _required())
    links: list[tuple[tuple[str, ...], object, bool]] = [(("url",), embed.get("url"), False)]
    links += [((key, "url"), (embed.get(key) or {}).get("url"), True) for key in ("thumbnail", "image")]
    for path, url, attachment_ok in links:
        present = embed.get(path[0]) is not None
        problem = _scheme_error(url, attachment_ok=attachment_ok) if present else None
        if problem:
            _set_path(errors, path, problem)
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        _set_path(errors, ("fields",), _max_length(EMBED_FIELDS_MAX))
    for index, field in enumerate(fields):
        for key in ("name", "value"):
            if not _text(field.get(key)):
                _set_path(errors, ("fields", str(index), key), _required())
        if len(_text(field.get("name"))) > EMBED_FIELD_NAME_MAX:
            _set_path(errors, ("fields", str(index), "name"), _max_length(EMBED_FIELD_NAME_MAX))
        if len(_text(field.get("value"))) > EMBED_FIELD_VALUE_MAX:
            _set_path(errors, ("fields", str(index), "value"), _max_length(EMBED_FIELD_VALUE_MAX))
    return errors


def _components_errors(rows: Sequence[Mapping[str, Any]]) -> JSON:
    errors: JSON = {}
    if len(rows) > ACTION_ROWS_MAX:
        _set_path(errors, (), _max_length(ACTION_ROWS_MAX))
    for row_index, row in enumerate(rows):
        children = row.get("components") or []
        if len(children) > ROW_COMPONENTS_MAX:
            _set_path(errors, (str(row_index), "components"), _max_length(ROW_COMPONENTS_MAX))
        for child_index, child in enumerate(children):
            where = (str(row_index), "components", str(child_index))
            if len(_text(child.get("custom_id"))) > CUSTOM_ID_MAX:
                _set_path(errors, (*where, "custom_id"), _max_length(CUSTOM_ID_MAX))
            if child.get("type") != 2:
                continue
            if len(_text(child.get("label"))) > BUTTON_LABEL_MAX:
                _set_path(errors, (*where, "label"), _max_length(BUTTON_LABEL_MAX))
            unlinked = child.get("style") not in (BUTTON_STYLE_LINK, BUTTON_STYLE_PREMIUM)
            if unlinked and not _text(child.get("custom_id")):
                _set_path(errors, (*where, "custom_id"), _required())
    return errors


def message_errors(payload: Mapping[str, Any]) -> JSON:
    """The ``errors`` tree Discord answers for a message body that breaks its limits (empty when valid)."""
    errors: JSON = {}
    if len(_text(payload.get("content"))) > CONTENT_MAX:
        errors["content"] = _max_length(CONTENT_MAX)
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        errors["embeds"] = _max_length(EMBEDS_MAX)
    else:
        for index, embed in enumerate(embeds):
            embed_errors = _embed_errors(embed)
            if embed_errors:
                errors.setdefault("embeds", {})[str(index)] = embed_errors
        if "embeds" not in errors and sum(embed_text_length(e) for e in embeds) > EMBED_TOTAL_MAX:
            errors["embeds"] = _field_error(
                "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"
            )
    components_errors = _components_errors(payload.get("components") or [])
    if components_errors:
        errors["components"] = components_errors
    return errors


def is_empty_message(payload: Mapping[str, Any], file_count: int) -> bool:
    """True when a new message would have nothing to show (Discord answers 50006)."""
    return not (
        payload.get("content")
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or file_count
    )
