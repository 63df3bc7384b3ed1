"""One flat error hierarchy for the RunComfy client, and the pure mapping from an answer to an error.

Callers catch meaning (``AuthenticationError``, ``RateLimitedError`` …), not status codes. No error ever
carries the API token: messages come from the API's answer (with the token masked should it echo it) or
from this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# RunComfy's documented error codes.
CODE_UNKNOWN_MODEL = 400001
CODE_NO_BALANCE = 400002
CODE_BAD_TOKEN = 400004
CODE_FOREIGN_REQUEST = 403001
CODE_REQUEST_NOT_FOUND = 404001
CODE_VALIDATION = 422001
CODE_SERVER = 500001

_MESSAGE_KEYS = ("error_message", "message", "error", "detail")


class RunComfyError(Exception):
    """Any failure talking to RunComfy. ``status`` is the HTTP status when an answer came back."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.retry_after = retry_after

    def __str__(self) -> str:
        extras = []
        if self.status is not None:
            extras.append(f"HTTP {self.status}")
        if self.error_code is not None:
            extras.append(f"code {self.error_code}")
        return f"{self.message} ({', '.join(extras)})" if extras else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status}, error_code={self.error_code})"


class AuthenticationError(RunComfyError):
    """The token is missing, wrong or expired, or the request belongs to another account."""


class PaymentRequiredError(RunComfyError):
    """The account has no balance left."""


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One entry of the API's ``detail`` array."""

    loc: tuple[str | int, ...]
    msg: str
    type: str | None = None

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.loc if part != "body")
        return f"{where}: {self.msg}" if where else self.msg


class InputValidationError(RunComfyError):
    """The API refused the input. ``message`` is the API's own text, ``details`` its ``detail`` array."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: int | None = None,
        details: tuple[ValidationIssue, ...] = (),
    ) -> None:
        super().__init__(message, status=status, error_code=error_code)
        self.details = details


class NotFoundError(RunComfyError):
    """RunComfy does not know the request (never existed, deleted or expired)."""


class EndpointNotFoundError(RunComfyError):
    """RunComfy has no such route (a 404 to a submission, which never names an existing request): the
    configured base URL is most likely wrong. Nothing was created."""


class RateLimitedError(RunComfyError):
    """Too many requests; ``retry_after`` (seconds) is what the server asked for, if anything."""


class ServerError(RunComfyError):
    """RunComfy failed on its side (5xx or code 500001)."""


class APITimeoutError(RunComfyError):
    """No answer in time. ``request_sent`` is False only when the connection itself could not be made."""

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class APIConnectionError(RunComfyError):
    """The connection failed. ``request_sent`` is False when it failed before the request went out."""

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class NotCancellableError(RunComfyError):
    """The job can no longer be cancelled (it is already in progress or finished)."""


class MalformedResponseError(RunComfyError):
    """The answer could not be understood (not JSON, or missing required fields)."""


class UnexpectedAnswerError(MalformedResponseError):
    """RunComfy answered something the client will not use (e.g. a ``request_id`` that is not URL-safe).

    The message is a plain reason; it never repeats the offending value.
    """


class SubmissionUncertainError(RunComfyError):
    """The submit POST may or may not have been accepted. Do not resubmit blindly: a job may exist."""


def error_from_answer(
    status: int, body: object, *, retry_after_header: str | None = None, now: datetime | None = None
) -> RunComfyError:
    """Turn an error answer (status ≥ 400, or a 200 whose body carries ``error_code``) into an error.

    A known ``error_code`` decides the class, except that HTTP 429 is always rate limiting and an
    unknown code falls back to the HTTP status.
    """
    fields = body if isinstance(body, Mapping) else {}
    code = _int_or_none(fields.get("error_code"))
    message = _message_of(fields) or _fallback_message(status)
    retry_after = parse_retry_after(retry_after_header, now=now)
    if status == 429:
        return RateLimitedError(message, status=status, error_code=code, retry_after=retry_after)
    cls = _CLASS_BY_CODE.get(code) if code is not None else None
    if cls is None:
        cls = _class_by_status(status)
    if cls is InputValidationError:
        details = _issues_of(fields.get("detail"))
        if not _message_of(fields) and details:
            message = "; ".join(str(issue) for issue in details)
        return InputValidationError(message, status=status, error_code=code, details=details)
    return cls(message, status=status, error_code=code, retry_after=retry_after)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def mask_secret(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``***``."""
    return text.replace(secret, "***") if secret else text


_CLASS_BY_CODE: dict[int, type[RunComfyError]] = {
    CODE_UNKNOWN_MODEL: InputValidationError,
    CODE_NO_BALANCE: PaymentRequiredError,
    CODE_BAD_TOKEN: AuthenticationError,
    CODE_FOREIGN_REQUEST: AuthenticationError,
    CODE_REQUEST_NOT_FOUND: NotFoundError,
    CODE_VALIDATION: InputValidationError,
    CODE_SERVER: ServerError,
}


def _class_by_status(status: int) -> type[RunComfyError]:
    if status in (401, 403):
        return AuthenticationError
    if status == 402:
        return PaymentRequiredError
    if status in (400, 422):
        return InputValidationError
    if status == 404:
        return NotFoundError
    if status >= 500:
        return ServerError
    return RunComfyError


def _fallback_message(status: int) -> str:
    return f"RunComfy answered HTTP {status}" if status >= 400 else "RunComfy reported an error"


def _message_of(fields: Mapping[object, object]) -> str | None:
    for key in _MESSAGE_KEYS:
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, Mapping):
            nested = value.get("message")
            if isinstance(nested, str) and nested.strip():
                return nested.strip()
    return None


def _issues_of(detail: object) -> tuple[ValidationIssue, ...]:
    if not isinstance(detail, list):
        return ()
    issues = []
    for item in detail:
        if not isinstance(item, Mapping):
            continue
        loc = item.get("loc")
        parts = tuple(p for p in loc if isinstance(p, str | int)) if isinstance(loc, list) else ()
        kind = item.get("type")
        issues.append(
            ValidationIssue(
                loc=parts, msg=str(item.get("msg", "")), type=kind if isinstance(kind, str) else None
            )
        )
    return tuple(issues)


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class MissingTokenError(AuthenticationError):
    """No API token was given and ``RUNCOMFY_API_TOKEN`` is not set."""
