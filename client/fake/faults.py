"""Faults a test arms on the fake: what goes wrong, on which endpoint, how many times.

What RunComfy documents is the ``error_code`` values (400001 unknown model, 400002 no remaining balance,
400004 missing/expired token or inactive account, 403001 another user's request, 404001 request not found,
deleted or expired, 422001 validation, 500001 server error), not the HTTP status each comes with. The
pairings below are guesses, kept because clients map statuses that way: 402 for "no balance" (the code's
own family suggests a 400), 401 for a bad token, and 429001 for rate limiting (no such code is documented).
A status with no pairing gets ``status * 1000 + 1``, a guess too. Tests that care arm the documented code
with another status, e.g. ``Fault.http(400, error_code=400002)``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


class Endpoint(enum.StrEnum):
    """The fake's endpoints, as names a fault or a test can filter on."""

    SUBMIT = "submit"
    STATUS = "status"
    RESULT = "result"
    CANCEL = "cancel"
    MEDIA = "media"
    ANY = "any"


class FaultKind(enum.StrEnum):
    LATENCY = "latency"
    HTTP = "http"
    HTTP_AFTER = "http_after"
    DROP_BEFORE = "drop_before"
    DROP_AFTER = "drop_after"
    MALFORMED = "malformed"
    ERROR_200 = "error_200"


# HTTP status -> the error_code the fake sends with it. Only the codes are documented by RunComfy; which
# status carries them is not (see the module docstring), and 429001 is not documented at all.
DEFAULT_ERROR_CODES: Mapping[int, int] = MappingProxyType(
    {
        400: 400001,
        401: 400004,
        402: 400002,
        403: 403001,
        404: 404001,
        422: 422001,
        429: 429001,
    }
)
DEFAULT_ERROR_MESSAGES: Mapping[int, str] = MappingProxyType(
    {
        400: "Bad request.",
        401: "Missing or expired token, or inactive account.",
        402: "No remaining balance.",
        403: "This request belongs to another user.",
        404: "Request not found, deleted or expired.",
        422: "Validation error.",
        429: "Too many requests.",
    }
)
SERVER_ERROR_CODE = 500001


def error_body(status: int, *, error_code: int | None = None, message: str | None = None) -> dict[str, Any]:
    """The API's error body for an HTTP status, with the code the fake pairs with it unless one is given
    (the codes are RunComfy's; the pairing with a status is not documented by RunComfy)."""
    default_code = SERVER_ERROR_CODE if status >= 500 else DEFAULT_ERROR_CODES.get(status, status * 1000 + 1)
    default_message = (
        "Internal server error." if status >= 500 else DEFAULT_ERROR_MESSAGES.get(status, "Error.")
    )
    return {
        "error_code": default_code if error_code is None else error_code,
        "error_message": default_message if message is None else message,
    }


@dataclass(frozen=True, slots=True)
class Fault:
    """One armed fault. Build it with the class methods; ``times=None`` means on every matching request.

    Latency faults stack with each other and with at most one other fault, which decides the answer.
    """

    kind: FaultKind
    endpoint: Endpoint = Endpoint.ANY
    times: int | None = 1
    seconds: float = 0.0
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for always)")

    @classmethod
    def latency(cls, seconds: float, *, endpoint: str = "any", times: int | None = 1) -> Fault:
        """Delay the answer by ``seconds``; the request is still processed (a job may be created)."""
        return cls(FaultKind.LATENCY, Endpoint(endpoint), times, seconds=seconds)

    @classmethod
    def http(
        cls,
        status: int,
        *,
        endpoint: str = "any",
        times: int | None = 1,
        error_code: int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        after: bool = False,
    ) -> Fault:
        """Answer ``status`` with the API's error body instead of the real answer.

        By default the request is not processed (no job created). With ``after=True`` it is processed first
        (a submit creates its job, a cancel cancels) and the error replaces the answer, as when a proxy gives
        up on a server that did the work. ``after=True`` with ``retry_after`` is a scenario the real service
        is not expected to produce: a 503 carrying ``Retry-After`` is the client's documented sign that the
        request certainly was not accepted; arm it only to show what trusting that sign would cost.
        """
        body = error_body(status, error_code=error_code, message=message)
        kind = FaultKind.HTTP_AFTER if after else FaultKind.HTTP
        return cls(kind, Endpoint(endpoint), times, status=status, body=body, retry_after=retry_after)

    @classmethod
    def rate_limited(cls, retry_after: float = 1, *, endpoint: str = "any", times: int | None = 1) -> Fault:
        """429 with a ``Retry-After`` header (seconds); its code 429001 is a guess, not documented."""
        return cls.http(429, endpoint=endpoint, times=times, retry_after=retry_after)

    @classmethod
    def drop(cls, *, after: bool = False, endpoint: str = "any", times: int | None = 1) -> Fault:
        """Cut the connection without an answer: before the request is processed, or after (job created)."""
        kind = FaultKind.DROP_AFTER if after else FaultKind.DROP_BEFORE
        return cls(kind, Endpoint(endpoint), times)

    @classmethod
    def malformed(cls, *, endpoint: str = "any", times: int | None = 1) -> Fault:
        """Process the request, then send its answer cut in half (invalid JSON, or a truncated video)."""
        return cls(FaultKind.MALFORMED, Endpoint(endpoint), times)

    @classmethod
    def error_200(
        cls,
        *,
        endpoint: str = "any",
        times: int | None = 1,
        error_code: int = SERVER_ERROR_CODE,
        message: str = "Internal server error.",
    ) -> Fault:
        """Answer HTTP 200 carrying an error body, without processing the request."""
        body = error_body(500, error_code=error_code, message=message)
        return cls(FaultKind.ERROR_200, Endpoint(endpoint), times, body=body)

    def matches(self, endpoint: Endpoint) -> bool:
        return self.endpoint is Endpoint.ANY or self.endpoint == endpoint


@dataclass(slots=True)
class _Armed:
    fault: Fault
    remaining: int | None


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """What the faults armed for one request say to do."""

    delays: tuple[float, ...] = ()
    answer: Fault | None = None


class FaultBook:
    """The armed faults, consumed in the order they were armed."""

    def __init__(self) -> None:
        self._armed: list[_Armed] = []

    def arm(self, fault: Fault) -> None:
        self._armed.append(_Armed(fault, fault.times))

    def clear(self) -> None:
        self._armed.clear()

    @property
    def pending(self) -> tuple[Fault, ...]:
        """Faults that still have uses left."""
        return tuple(armed.fault for armed in self._armed)

    def take(self, endpoint: Endpoint) -> FaultPlan:
        """Consume every matching latency fault and the first matching other fault."""
        delays: list[float] = []
        answer: Fault | None = None
        for armed in self._armed:
            fault = armed.fault
            if not fault.matches(endpoint):
                continue
            if fault.kind is FaultKind.LATENCY:
                delays.append(fault.seconds)
            elif answer is None:
                answer = fault
            else:
                continue
            if armed.remaining is not None:
                armed.remaining -= 1
        self._armed = [armed for armed in self._armed if armed.remaining is None or armed.remaining > 0]
        return FaultPlan(tuple(delays), answer)
