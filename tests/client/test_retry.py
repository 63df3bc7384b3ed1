import pytest

from client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InputValidationError,
    MalformedResponseError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitedError,
    RunComfyError,
    ServerError,
)
from client.retry import (
    MAX_RETRY_AFTER_S,
    backoff_delay,
    retry_delay,
    should_retry_read,
    should_retry_submit,
    submission_uncertain,
)

REFUSED = APIConnectionError("refused", request_sent=False)
DROPPED = APIConnectionError("dropped", request_sent=True)
CONNECT_TIMEOUT = APITimeoutError("connect", request_sent=False)
READ_TIMEOUT = APITimeoutError("read", request_sent=True)
RATE_LIMITED = RateLimitedError("slow down", status=429)
MALFORMED = MalformedResponseError("junk", status=200)


def server(status: int, retry_after: float | None = None) -> ServerError:
    return ServerError("boom", status=status, retry_after=retry_after)


@pytest.mark.parametrize(
    "exc",
    [REFUSED, DROPPED, CONNECT_TIMEOUT, READ_TIMEOUT, RATE_LIMITED, server(500), server(502), server(503)],
)
def test_reads_are_retried_on_transient_failures(exc: RunComfyError) -> None:
    assert should_retry_read(exc)


@pytest.mark.parametrize(
    "exc",
    [
        AuthenticationError("a", status=401),
        PaymentRequiredError("p", status=402),
        InputValidationError("v", status=422),
        NotFoundError("n", status=404),
        MALFORMED,
        ValueError("x"),
    ],
)
def test_reads_are_not_retried_on_definite_answers(exc: Exception) -> None:
    assert not should_retry_read(exc)


@pytest.mark.parametrize("exc", [REFUSED, CONNECT_TIMEOUT, RATE_LIMITED, server(503, retry_after=5)])
def test_submit_is_retried_only_when_certainly_not_accepted(exc: RunComfyError) -> None:
    assert should_retry_submit(exc)
    assert not submission_uncertain(exc)


@pytest.mark.parametrize(
    "exc",
    [
        DROPPED,
        READ_TIMEOUT,
        server(500),
        server(502),
        server(503),
        server(504),
        ServerError("x", status=200),
        MALFORMED,
    ],
)
def test_submit_that_may_have_been_accepted_is_uncertain_never_retried(exc: RunComfyError) -> None:
    assert not should_retry_submit(exc)
    assert submission_uncertain(exc)


@pytest.mark.parametrize(
    "exc", [AuthenticationError("a", status=401), InputValidationError("v", status=422), NotFoundError("n")]
)
def test_refused_submit_is_neither_retried_nor_uncertain(exc: RunComfyError) -> None:
    assert not should_retry_submit(exc)
    assert not submission_uncertain(exc)


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    ceilings = [backoff_delay(n, base_s=0.5, cap_s=3, rand=lambda: 1.0) for n in range(1, 6)]
    assert ceilings == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_backoff_has_full_jitter() -> None:
    assert backoff_delay(3, base_s=0.5, cap_s=20, rand=lambda: 0.0) == 0.0
    assert backoff_delay(3, base_s=0.5, cap_s=20, rand=lambda: 0.25) == 0.5


def test_retry_after_is_honoured_and_capped() -> None:
    asked = RateLimitedError("x", status=429, retry_after=7)
    assert retry_delay(asked, 1, base_s=0.5, cap_s=20, rand=lambda: 1.0) == 7
    greedy = RateLimitedError("x", status=429, retry_after=3600)
    assert retry_delay(greedy, 1, base_s=0.5, cap_s=20) == MAX_RETRY_AFTER_S == 60


def test_without_retry_after_the_backoff_applies() -> None:
    assert retry_delay(server(500), 2, base_s=0.5, cap_s=20, rand=lambda: 1.0) == 1.0
    assert retry_delay(None, 1, base_s=0.5, cap_s=20, rand=lambda: 1.0) == 0.5
