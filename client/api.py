"""RunComfyClient: submit / status / result / cancel / follow / wait over one aiohttp session.

Every call is bounded by ``timeout_s`` per attempt; retries follow :mod:`client.retry` (a submit is never
sent twice unless it certainly was not accepted). The token never appears in a repr, a log record or an
error message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    EndpointNotFoundError,
    MalformedResponseError,
    MissingTokenError,
    NotCancellableError,
    NotFoundError,
    PaymentRequiredError,
    RunComfyError,
    SubmissionUncertainError,
    UnexpectedAnswerError,
    error_from_answer,
    mask_secret,
)
from client.models import (
    AnimateInput,
    CancelOutcome,
    JobStatus,
    Result,
    StatusAnswer,
    Submission,
    parse_answer,
)
from client.retry import retry_delay, should_retry_read, should_retry_submit, submission_uncertain

DEFAULT_BASE_URL = "https://model-api.runcomfy.net"
TOKEN_ENV = "RUNCOMFY_API_TOKEN"  # noqa: S105 (the name of the variable, not a secret)
BASE_URL_ENV = "RUNCOMFY_API_BASE"
SUBMIT_PATH = "/v1/models/bytedance/seedance-1-0/lite/image-to-video"
POLL_GROWTH = 1.5

# RunComfy's ids are UUIDs; anything outside this charset could change the URL it is put in.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")

log = logging.getLogger("client")

Sleep = Callable[[float], Awaitable[None]]
CallObserver = Callable[[str, str, float, BaseException | None], None]
"""Told of each HTTP call: method, path, seconds, and the error it raised (None when it answered)."""


def check_request_id(request_id: object) -> str:
    """``request_id`` if it is safe to put in a URL path, else :class:`UnexpectedAnswerError`.

    Safe means 1 to 128 ASCII letters, digits, ``-`` or ``_``, starting with a letter or digit. The
    error never quotes the value (it came from outside and may hold anything).
    """
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        raise UnexpectedAnswerError(
            "RunComfy answered a request id that is not URL-safe "
            "(expected 1 to 128 letters, digits, '-' or '_')"
        )
    return request_id


class RunComfyClient:
    """An async client of RunComfy's Model API for Seedance 1.0 Lite image-to-video.

    Use it as ``async with RunComfyClient() as client: ...``. It creates its own
    :class:`aiohttp.ClientSession` unless one is injected; it closes only the one it created.
    ``sleep`` (for retry waits and polling) and ``rand`` (for jitter) are injectable for tests.
    """

    def __init__(
        self,
        token: str | None = None,
        base_url: str | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout_s: float = 30,
        max_attempts: int = 4,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 20,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        observe: CallObserver | None = None,
    ) -> None:
        """``observe`` hears of every HTTP call: method, path, seconds taken, and the error it raised."""
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        if not token or not token.strip():
            raise MissingTokenError(f"no RunComfy API token: set {TOKEN_ENV}")
        base = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        if not base.startswith(("https://", "http://")):
            raise ValueError(f"{BASE_URL_ENV} must be an http(s) URL")
        if timeout_s <= 0 or max_attempts < 1:
            raise ValueError("timeout_s must be positive and max_attempts at least 1")
        self._token = token.strip()
        self.base_url = base.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self._sleep = sleep
        self._rand = rand
        self._observe = observe

    def __repr__(self) -> str:
        return f"RunComfyClient(base_url={self.base_url!r}, timeout_s={self.timeout_s})"

    async def __aenter__(self) -> Self:
        self._ensure_session()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client created it."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # --- the API ------------------------------------------------------------------------------------

    async def submit(self, job: AnimateInput) -> Submission:
        """Create a job. Raises :class:`SubmissionUncertainError` when it may or may not exist."""
        try:
            body = await self._call("POST", SUBMIT_PATH, job.to_payload(), submit=True)
            submission = parse_answer(Submission, body, what="submit")
        except NotFoundError as exc:
            raise EndpointNotFoundError(
                f"RunComfy has no submission route at {self.base_url}: check {BASE_URL_ENV}",
                status=exc.status,
                error_code=exc.error_code,
            ) from exc
        except RunComfyError as exc:
            if submission_uncertain(exc):
                raise SubmissionUncertainError(
                    f"the submission may or may not have been accepted ({exc}); do not resubmit blindly",
                    status=exc.status,
                    error_code=exc.error_code,
                ) from exc
            raise
        # Accepted (and maybe charged), but unusable: say so plainly rather than as "uncertain".
        check_request_id(submission.request_id)
        return submission

    async def status(self, request_id: str) -> JobStatus:
        """The job's current status (``GET …/status``; a completion here carries no output)."""
        body = await self._call("GET", _request_path(request_id, "status"))
        return parse_answer(StatusAnswer, body, what="status").status

    async def result(self, request_id: str) -> Result:
        """The job's result (``GET …/result``): the output once finished, else its current status."""
        body = await self._call("GET", _request_path(request_id, "result"))
        return parse_answer(Result, body, what="result")

    async def cancel(self, request_id: str) -> CancelOutcome:
        """Ask RunComfy to cancel a queued job; ``.cancelled`` is False when it was already running.

        A 400 or 409 refusal means "not cancellable" too; other errors are raised.
        """
        try:
            body = await self._call("POST", _request_path(request_id, "cancel"))
        except RunComfyError as exc:
            account_problem = isinstance(exc, AuthenticationError | PaymentRequiredError)
            if exc.status not in (400, 409) or account_problem:
                raise
            return CancelOutcome.model_validate({"request_id": request_id, "outcome": "not_cancellable"})
        return parse_answer(CancelOutcome, body, what="cancel")

    async def cancel_or_raise(self, request_id: str) -> CancelOutcome:
        """:meth:`cancel`, but a job that can no longer be cancelled raises :class:`NotCancellableError`."""
        outcome = await self.cancel(request_id)
        if not outcome.cancelled:
            raise NotCancellableError(f"request {request_id} is already in progress or finished")
        return outcome

    async def follow(
        self, request_id: str, *, poll_min_s: float = 2.0, poll_max_s: float = 15.0
    ) -> AsyncIterator[JobStatus]:
        """Yield each change of the job's status until a terminal one (which is yielded last).

        Polls ``/result`` (it answers the status while the job runs, so a completion costs no extra
        call) every ``poll_min_s``, growing ×1.5 up to ``poll_max_s`` while nothing changes.
        """
        interval = poll_min_s
        last: JobStatus | None = None
        while True:
            current = (await self.result(request_id)).status
            if current != last:
                last = current
                interval = poll_min_s
                yield current
            else:
                interval = min(interval * POLL_GROWTH, poll_max_s)
            if current.terminal:
                return
            await self._sleep(interval)

    async def wait(self, request_id: str, *, poll_min_s: float = 2.0, poll_max_s: float = 15.0) -> JobStatus:
        """Follow the job to its end and return the terminal status. Bound it with ``asyncio.timeout``."""
        final: JobStatus | None = None
        async for status in self.follow(request_id, poll_min_s=poll_min_s, poll_max_s=poll_max_s):
            final = status
        assert final is not None  # follow always yields at least once
        return final

    # --- HTTP ---------------------------------------------------------------------------------------

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the RunComfy client is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def _call(
        self, method: str, path: str, payload: dict[str, Any] | None = None, *, submit: bool = False
    ) -> dict[str, Any]:
        should_retry = should_retry_submit if submit else should_retry_read
        # Most calls succeed at once: only a failure worth another try builds the retry loop.
        try:
            return await self._send_observed(method, path, payload)
        except Exception as exc:
            if self.max_attempts <= 1 or not should_retry(exc):
                raise
            first_failure = exc
        delay = self._delay(first_failure, 1)
        self._log_failure(1, first_failure, delay)
        await self._sleep(delay)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts - 1),
            retry=retry_if_exception(should_retry),
            wait=self._wait_before_retry,
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        result: dict[str, Any] = await retrying(self._send_observed, method, path, payload)
        return result

    async def _send_observed(self, method: str, path: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        if self._observe is None:
            return await self._send_once(method, path, payload)
        started = time.monotonic()
        try:
            answer = await self._send_once(method, path, payload)
        except Exception as exc:
            self._observe(method, path, time.monotonic() - started, exc)
            raise
        self._observe(method, path, time.monotonic() - started, None)
        return answer

    def _delay(self, exc: BaseException | None, attempt: int) -> float:
        base_s, cap_s = self.backoff_base_s, self.backoff_cap_s
        return retry_delay(exc, attempt, base_s=base_s, cap_s=cap_s, rand=self._rand)

    def _wait_before_retry(self, state: RetryCallState) -> float:
        """Tenacity counts from the second attempt, the first one made before its loop."""
        exc = state.outcome.exception() if state.outcome else None
        return self._delay(exc, state.attempt_number + 1)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        self._log_failure(state.attempt_number + 1, exc, delay)

    @staticmethod
    def _log_failure(attempt: int, exc: BaseException | None, delay: float) -> None:
        log.warning("RunComfy call failed (attempt %d): %s; retrying in %.1fs", attempt, exc, delay)

    async def _send_once(self, method: str, path: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        session = self._ensure_session()
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with asyncio.timeout(self.timeout_s):
                async with session.request(
                    method, self.base_url + path, json=payload, headers=headers, timeout=timeout
                ) as response:
                    raw = await response.read()
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
        except aiohttp.ClientConnectorError as exc:
            raise APIConnectionError(
                self._masked(f"could not connect to RunComfy: {exc}"), request_sent=False
            ) from None
        except aiohttp.ConnectionTimeoutError:
            raise APITimeoutError("timed out connecting to RunComfy", request_sent=False) from None
        except TimeoutError:
            raise APITimeoutError(
                f"RunComfy did not answer within {self.timeout_s:g}s", request_sent=True
            ) from None
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                self._masked(f"connection to RunComfy failed: {type(exc).__name__}"), request_sent=True
            ) from None
        log.debug("%s %s -> HTTP %d", method, path, status)
        return self._decode(status, raw, retry_after)

    def _decode(self, status: int, raw: bytes, retry_after: str | None) -> dict[str, Any]:
        text = self._masked(raw.decode("utf-8", errors="replace"))
        try:
            body: object = json.loads(text) if text.strip() else None
        except ValueError:
            body = None
        has_error_code = isinstance(body, dict) and body.get("error_code") is not None
        if not 200 <= status < 300 or has_error_code:
            raise error_from_answer(status, body, retry_after_header=retry_after, now=datetime.now(UTC))
        if not isinstance(body, dict):
            raise MalformedResponseError("RunComfy's answer is not a JSON object", status=status)
        return body

    def _masked(self, text: str) -> str:
        return mask_secret(text, self._token)


def _request_path(request_id: str, action: str) -> str:
    return f"/v1/requests/{quote(check_request_id(request_id), safe='')}/{action}"
