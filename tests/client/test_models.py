from typing import Any

import pytest
from pydantic import ValidationError

from client.errors import MalformedResponseError
from client.models import (
    PROMPT_MAX_CHARS,
    AnimateInput,
    Cancelled,
    CancelOutcome,
    Completed,
    Failed,
    InProgress,
    Output,
    Queued,
    Result,
    StatusAnswer,
    Submission,
    error_text,
    job_status,
    parse_answer,
)

IMAGE = "https://cdn.example/a.png"


def make_input(**changes: Any) -> AnimateInput:
    fields: dict[str, Any] = {"prompt": "a cat waves", "first_frame_image_url": IMAGE, **changes}
    return AnimateInput(**fields)


def test_defaults_follow_the_seed() -> None:
    job = make_input()
    assert (job.resolution, job.duration, job.last_frame_image_url) == ("480p", 5, None)


def test_payload_omits_unset_fields_and_carries_defaults() -> None:
    assert make_input().to_payload() == {
        "prompt": "a cat waves",
        "first_frame_image_url": IMAGE,
        "resolution": "480p",
        "duration": 5,
    }
    payload = make_input(last_frame_image_url=IMAGE + "?2", resolution="1080p", duration=10).to_payload()
    assert payload["last_frame_image_url"] == IMAGE + "?2"
    assert (payload["resolution"], payload["duration"]) == ("1080p", 10)


def test_prompt_of_1900_chars_passes_and_1901_is_rejected() -> None:
    assert PROMPT_MAX_CHARS == 1900
    assert len(make_input(prompt="x" * 1900).prompt) == 1900
    with pytest.raises(ValidationError, match="1900"):
        make_input(prompt="x" * 1901)


@pytest.mark.parametrize("prompt", ["", "   \n"])
def test_empty_or_blank_prompt_is_rejected(prompt: str) -> None:
    with pytest.raises(ValidationError):
        make_input(prompt=prompt)


@pytest.mark.parametrize("resolution", ["480p", "720p", "1080p"])
def test_every_resolution_of_the_seed_is_accepted(resolution: str) -> None:
    assert make_input(resolution=resolution).resolution == resolution


@pytest.mark.parametrize(("field", "value"), [("resolution", "4k"), ("resolution", "480"), ("duration", 7)])
def test_values_outside_the_enums_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        make_input(**{field: value})


def test_duration_ten_is_accepted() -> None:
    assert make_input(duration=10).duration == 10


def test_required_input_fields_and_unknown_input_fields() -> None:
    with pytest.raises(ValidationError, match="first_frame_image_url"):
        AnimateInput(prompt="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="seed"):
        make_input(seed=3)


@pytest.mark.parametrize(
    "url", ["ftp://x/a.png", "cdn.example/a.png", "javascript:alert(1)", "data:image/png;base64,AAAA"]
)
def test_image_urls_must_be_http_urls(url: str) -> None:
    with pytest.raises(ValidationError):
        make_input(first_frame_image_url=url)
    assert make_input(first_frame_image_url="https://cdn.example/a.png").first_frame_image_url


def test_submission_tolerates_unknown_fields_and_optional_urls() -> None:
    sub = parse_answer(Submission, {"request_id": "r1", "status_url": "u", "extra": 1}, what="submit")
    assert (sub.request_id, sub.status_url, sub.cancel_url) == ("r1", "u", None)


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (Submission, {"status_url": "u"}),
        (Submission, {"request_id": ""}),
        (StatusAnswer, {"request_id": "r1"}),
        (StatusAnswer, {"request_id": "r1", "status": "exploded"}),
        (Result, {"status": "completed"}),
        (CancelOutcome, {"outcome": "cancelled"}),
    ],
)
def test_missing_or_wrong_answer_fields_are_malformed_answers(model: Any, body: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError, match="malformed"):
        parse_answer(model, body, what="test")


def test_malformed_answer_error_never_echoes_the_body() -> None:
    with pytest.raises(MalformedResponseError) as info:
        parse_answer(Submission, {"request_id": 5, "secretish": "s3cr3t"}, what="submit")
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("in_queue", Queued(None)),
        ("pending", Queued(None)),
        ("in_progress", InProgress()),
        ("starting", InProgress()),
        ("processing", InProgress()),
        ("completed", Completed(None, None)),
        ("succeeded", Completed(None, None)),
        ("cancelled", Cancelled()),
        ("canceled", Cancelled()),
        ("failed", Failed(None)),
        ("IN_QUEUE", Queued(None)),
    ],
)
def test_wire_statuses_and_their_synonyms_map_to_types(raw: str, expected: object) -> None:
    assert job_status(raw) == expected


def test_terminal_flags() -> None:
    assert [s.terminal for s in (Queued(), InProgress(), Completed(), Cancelled(), Failed())] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_status_answer_carries_the_queue_position() -> None:
    body = {"request_id": "r", "status": "in_queue", "queue_position": 3}
    answer = parse_answer(StatusAnswer, body, what="s")
    assert answer.status == Queued(3)


@pytest.mark.parametrize(
    ("output", "video"),
    [
        ({"video": "https://v/1.mp4", "videos": ["https://v/2.mp4"]}, "https://v/1.mp4"),
        ({"videos": ["https://v/2.mp4", "https://v/3.mp4"]}, "https://v/2.mp4"),
        ({"image": "https://v/i.png"}, None),
        ({"videos": []}, None),
    ],
)
def test_video_url_is_video_or_first_of_videos(output: dict[str, Any], video: str | None) -> None:
    result = parse_answer(Result, {"request_id": "r", "status": "completed", "output": output}, what="r")
    assert result.video_url == video
    assert result.status == Completed(video, Output.model_validate(output))


def test_result_while_running_answers_the_status() -> None:
    result = parse_answer(Result, {"request_id": "r", "status": "in_progress"}, what="r")
    assert (result.status, result.video_url) == (InProgress(), None)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        ("content policy", "content policy"),
        ({"code": "E42", "message": "upstream failed"}, "upstream failed (code E42)"),
        ({"message": "only a message"}, "only a message"),
        ({"reason": "odd"}, '{"reason": "odd"}'),
        (None, None),
    ],
)
def test_failed_result_keeps_the_error_as_text(error: object, text: str | None) -> None:
    result = parse_answer(Result, {"request_id": "r", "status": "failed", "error": error}, what="r")
    assert result.status == Failed(text)
    assert error_text(error) == text


@pytest.mark.parametrize(
    ("body", "cancelled"),
    [
        ({"request_id": "r", "status": "cancelled", "outcome": "cancelled"}, True),
        ({"request_id": "r", "status": "in_progress", "outcome": "not_cancellable"}, False),
        ({"request_id": "r", "status": "canceled"}, True),
        ({"request_id": "r", "status": "in_progress"}, False),
    ],
)
def test_cancel_outcome_says_plainly_whether_it_was_cancelled(body: dict[str, Any], cancelled: bool) -> None:
    assert parse_answer(CancelOutcome, body, what="cancel").cancelled is cancelled
