"""Jobs to store in tests: one with every optional field set, one with only what is required."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

from bot.jobs import CancelPlace, FailureReason, ImageRef, Job, JobRequest, JobState, ReplyTarget

SECRET_TOKEN = "aW50ZXJhY3Rpb246c2VjcmV0LXRva2VuLWRvLW5vdC1sb2c"
T0 = datetime(2025, 11, 27, 9, 0, 0, 123456, tzinfo=UTC)
SEOUL = timezone(timedelta(hours=9))


def minimal_job(job_id: str = "0000000a", *, created_at: datetime = T0, **changes: object) -> Job:
    job = Job(
        id=job_id,
        guild_id=111,
        channel_id=222,
        user_id=333,
        locale="en-US",
        request=JobRequest(
            prompt="a cat waves",
            image=ImageRef(
                url="https://cdn.example/cat.png",
                filename="cat.png",
                content_type=None,
                width=None,
                height=None,
                size=1,
            ),
        ),
        reply=ReplyTarget(
            application_id=444,
            interaction_token=SECRET_TOKEN,
            token_expires_at=created_at + timedelta(minutes=15),
        ),
        created_at=created_at,
        updated_at=created_at,
    )
    return dataclasses.replace(job, **changes)  # type: ignore[arg-type]


def full_job(job_id: str = "f00dbabe") -> Job:
    """Every field set to a value unlike its default, Discord-sized ids, and datetimes given in +09:00."""
    at = T0.astimezone(SEOUL)
    return Job(
        id=job_id,
        guild_id=2**63 - 1,
        channel_id=1_234_567_890_123_456_789,
        user_id=987_654_321_098_765_432,
        locale="ko",
        request=JobRequest(
            prompt="고양이가 손을 흔든다, slowly — 'quoted' \"twice\"\nsecond line",
            image=ImageRef(
                url="https://cdn.discordapp.com/attachments/1/2/first.webp?ex=abc&is=def",
                filename="first.webp",
                content_type="image/webp",
                width=1920,
                height=1080,
                size=9_999_999,
            ),
            last_frame=ImageRef(
                url="https://cdn.discordapp.com/attachments/1/3/last.jpeg",
                filename="last.jpeg",
                content_type="image/jpeg",
                width=640,
                height=480,
                size=12_345,
            ),
            resolution="720p",
            duration=10,
        ),
        reply=ReplyTarget(
            application_id=555_555_555_555_555_555,
            interaction_token=SECRET_TOKEN,
            token_expires_at=at + timedelta(minutes=15),
            message_id=666_666_666_666_666_666,
            fallback_message_id=777_777_777_777_777_777,
            upload_limit=26_214_400,
        ),
        state=JobState.FAILED,
        created_at=at,
        updated_at=at + timedelta(seconds=40, microseconds=1),
        submitted_at=at + timedelta(seconds=1),
        started_at=at + timedelta(seconds=2),
        finished_at=at + timedelta(seconds=30),
        request_id="6f1c1f4e-1d7e-4a55-9a2a-0c2f5b1f0e11",
        remote_queue_position=3,
        video_url="https://files.runcomfy.example/out.mp4",
        failure_reason=FailureReason.DELIVERY_FAILED,
        failure_detail="upload refused: 413",
        cancel_requested_by=888,
        cancelled_by=999,
        cancel_place=CancelPlace.RUNCOMFY,
        reply_final=True,
        version=41,
    )
