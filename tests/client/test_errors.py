from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from client.errors import (
    AuthenticationError,
    InputValidationError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitedError,
    RunComfyError,
    ServerError,
    ValidationIssue,
    error_from_answer,
    mask_secret,
    parse_retry_after,
)

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (402, PaymentRequiredError),
        (400, InputValidationError),
        (422, InputValidationError),
        (404, NotFoundError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (409, RunComfyError),
    ],
)
def test_http_status_decides_the_class_without_a_known_code(status: int, cls: type[RunComfyError]) -> None:
    error = error_from_answer(status, {"error_message": "nope"})
    assert type(error) is cls
    assert (error.status, error.message) == (status, "nope")


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (400001, InputValidationError),
        (400002, PaymentRequiredError),
        (400004, AuthenticationError),
        (403001, AuthenticationError),
        (404001, NotFoundError),
        (422001, InputValidationError),
        (500001, ServerError),
    ],
)
def test_documented_codes_decide_the_class(code: int, cls: type[RunComfyError]) -> None:
    error = error_from_answer(400, {"error_code": code, "error_message": "m"})
    assert type(error) is cls
    assert error.error_code == code


def test_a_200_with_an_error_code_maps_by_its_code() -> None:
    error = error_from_answer(200, {"error_code": 400002, "message": "no balance"})
    assert isinstance(error, PaymentRequiredError)
    assert error.message == "no balance"


def test_429_is_rate_limiting_whatever_the_code() -> None:
    error = error_from_answer(429, {"error_code": 500001}, retry_after_header="7")
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 7.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error_message": "a"}, "a"),
        ({"message": "b"}, "b"),
        ({"error": "c"}, "c"),
        ({"error": {"message": "d"}}, "d"),
        ({"detail": "e"}, "e"),
        ("not a dict", "RunComfy answered HTTP 500"),
        (None, "RunComfy answered HTTP 500"),
    ],
)
def test_message_is_taken_from_any_of_the_usual_keys(body: object, message: str) -> None:
    assert error_from_answer(500, body).message == message


def test_validation_error_carries_the_api_message_and_details() -> None:
    body = {
        "error_code": 422001,
        "error_message": "Validation failed",
        "detail": [{"loc": ["body", "prompt"], "msg": "too long", "type": "string_too_long"}, "junk"],
    }
    error = error_from_answer(422, body)
    assert isinstance(error, InputValidationError)
    assert error.message == "Validation failed"
    assert error.details == (ValidationIssue(("body", "prompt"), "too long", "string_too_long"),)
    assert str(error.details[0]) == "prompt: too long"


def test_validation_error_without_message_is_described_by_its_details() -> None:
    error = error_from_answer(422, {"detail": [{"loc": ["body", "duration"], "msg": "bad enum"}]})
    assert error.message == "duration: bad enum"


def test_str_names_status_and_code() -> None:
    error = error_from_answer(404, {"error_code": 404001, "error_message": "gone"})
    assert str(error) == "gone (HTTP 404, code 404001)"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_in_seconds_or_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_mask_secret() -> None:
    assert mask_secret("Bearer tok123 and tok123", "tok123") == "Bearer *** and ***"
    assert mask_secret("nothing", "") == "nothing"
