"""The retry policy, as small pure functions the client's tenacity loop is built from.

Reads (``GET`` status/result) and cancels are retried on connection errors, timeouts, 429 and 5xx.

A submit creates a paid job and RunComfy has no idempotency key, so it is retried ONLY when the request
certainly was not accepted:

* the connection could not be made (refused, DNS, TLS, or the connect timeout): nothing was sent;
* HTTP 429: the request was rate limited, not processed;
* HTTP 503 *that says so*: a ``Retry-After`` header is the server's word that it is not taking requests
  now and the client should come back later.

Everything else after the request may have left — a read timeout, a connection dropped after sending,
a bare 503, HTTP 500/502/504 (or a 200 carrying code 500001), an answer that cannot be parsed — is
*uncertain*: the client raises :class:`~client.errors.SubmissionUncertainError` and never sends a second
POST. A bare 503 may come from a proxy that timed out waiting for a server that did create the job.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from client.errors import (
    APIConnectionError,
    APITimeoutError,
    MalformedResponseError,
    RateLimitedError,
    RunComfyError,
    ServerError,
)

MAX_RETRY_AFTER_S = 60.0


def should_retry_read(exc: BaseException) -> bool:
    """Whether a GET or a cancel that failed with ``exc`` may be sent again."""
    return isinstance(exc, APIConnectionError | APITimeoutError | RateLimitedError | ServerError)


def should_retry_submit(exc: BaseException) -> bool:
    """Whether a submit that failed with ``exc`` certainly was not accepted, so sending it again is safe."""
    if isinstance(exc, APIConnectionError | APITimeoutError):
        return not exc.request_sent
    if isinstance(exc, RateLimitedError):
        return True
    return isinstance(exc, ServerError) and exc.status == 503 and exc.retry_after is not None


def submission_uncertain(exc: BaseException) -> bool:
    """Whether a submit that failed with ``exc`` may nevertheless have created a job."""
    if should_retry_submit(exc):
        return False
    if isinstance(exc, APIConnectionError | APITimeoutError):
        return exc.request_sent
    return isinstance(exc, ServerError | MalformedResponseError)


def backoff_delay(
    attempt: int, *, base_s: float, cap_s: float, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(attempt-1))]."""
    ceiling = min(cap_s, base_s * 2.0 ** max(0, attempt - 1))
    return ceiling * rand()


def retry_delay(
    exc: BaseException | None,
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    max_retry_after_s: float = MAX_RETRY_AFTER_S,
    rand: Callable[[], float] = random.random,
) -> float:
    """How long to wait before the next attempt: the server's ``Retry-After`` (capped) if it gave one,
    else the jittered backoff. ``attempt`` is the number of the attempt that just failed (1-based)."""
    if isinstance(exc, RunComfyError) and exc.retry_after is not None:
        return min(exc.retry_after, max_retry_after_s)
    return backoff_delay(attempt, base_s=base_s, cap_s=cap_s, rand=rand)
