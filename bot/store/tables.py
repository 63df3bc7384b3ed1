"""The store's tables, and the one place where a Job becomes a row and a row becomes a Job.

The migrations in ``migrations/versions`` create these tables; a test checks the two stay identical.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

from bot.jobs import CancelPlace, FailureReason, ImageRef, Job, JobRequest, JobState, ReplyTarget


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime in both backends.

    PostgreSQL keeps it as ``timestamptz``; SQLite has no time zones, so the value is stored as naive UTC
    text (which still sorts in time order) and read back as aware UTC. Naive values are refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the job store only takes timezone-aware datetimes")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("locale", String(16), nullable=False),
    # JobRequest
    Column("prompt", Text, nullable=False),
    Column("image_url", Text, nullable=False),
    Column("image_filename", Text, nullable=False),
    Column("image_content_type", String(255), nullable=True),
    Column("image_width", Integer, nullable=True),
    Column("image_height", Integer, nullable=True),
    Column("image_size", BigInteger, nullable=False),
    Column("last_frame_url", Text, nullable=True),
    Column("last_frame_filename", Text, nullable=True),
    Column("last_frame_content_type", String(255), nullable=True),
    Column("last_frame_width", Integer, nullable=True),
    Column("last_frame_height", Integer, nullable=True),
    Column("last_frame_size", BigInteger, nullable=True),
    Column("resolution", String(16), nullable=False),
    Column("duration", Integer, nullable=False),
    # ReplyTarget; interaction_token is a secret
    Column("application_id", BigInteger, nullable=False),
    Column("interaction_token", Text, nullable=False),
    Column("token_expires_at", UtcDateTime, nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("fallback_message_id", BigInteger, nullable=True),
    Column("upload_limit", BigInteger, nullable=True),
    # progress
    Column("state", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("request_id", String(255), nullable=True),
    Column("remote_queue_position", Integer, nullable=True),
    Column("video_url", Text, nullable=True),
    Column("failure_reason", String(64), nullable=True),
    Column("failure_detail", Text, nullable=True),
    Column("cancel_requested_by", BigInteger, nullable=True),
    Column("cancelled_by", BigInteger, nullable=True),
    Column("cancel_place", String(32), nullable=True),
    Column("reply_final", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    # which process works on the job, for several processes sharing one PostgreSQL queue
    Column("lease_owner", String(255), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    # set while a queued job holds one of the places the admission claim hands out
    Column("admitted_at", UtcDateTime, nullable=True),
    Index(None, "state"),
    Index(None, "guild_id", "state", "created_at"),
    Index(None, "guild_id", "user_id", "state"),
    Index(None, "lease_owner"),
)

member_turns = Table(
    "member_turns",
    metadata,
    Column("guild_id", BigInteger, primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("served_at", UtcDateTime, nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

IMAGE_FIELDS = ("url", "filename", "content_type", "width", "height", "size")
"""ImageRef's fields; each image is stored as ``<prefix>_<field>`` columns."""


def job_to_row(job: Job) -> dict[str, Any]:
    """Every field of ``job`` as a ``jobs`` row (lease columns excluded: they are not the Job's)."""
    request, reply = job.request, job.reply
    return {
        "id": job.id,
        "guild_id": job.guild_id,
        "channel_id": job.channel_id,
        "user_id": job.user_id,
        "locale": job.locale,
        "prompt": request.prompt,
        **_image_columns("image", request.image),
        **_image_columns("last_frame", request.last_frame),
        "resolution": request.resolution,
        "duration": request.duration,
        "application_id": reply.application_id,
        "interaction_token": reply.interaction_token,
        "token_expires_at": reply.token_expires_at,
        "message_id": reply.message_id,
        "fallback_message_id": reply.fallback_message_id,
        "upload_limit": reply.upload_limit,
        "state": job.state.value,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "submitted_at": job.submitted_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "request_id": job.request_id,
        "remote_queue_position": job.remote_queue_position,
        "video_url": job.video_url,
        "failure_reason": job.failure_reason.value if job.failure_reason else None,
        "failure_detail": job.failure_detail,
        "cancel_requested_by": job.cancel_requested_by,
        "cancelled_by": job.cancelled_by,
        "cancel_place": job.cancel_place.value if job.cancel_place else None,
        "reply_final": job.reply_final,
        "version": job.version,
    }


def row_to_job(row: Mapping[str, Any]) -> Job:
    """The Job a ``jobs`` row holds; the inverse of :func:`job_to_row`."""
    return Job(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        locale=row["locale"],
        request=JobRequest(
            prompt=row["prompt"],
            image=_required_image_from_row(row, "image"),
            last_frame=_image_from_row(row, "last_frame"),
            resolution=row["resolution"],
            duration=row["duration"],
        ),
        reply=ReplyTarget(
            application_id=row["application_id"],
            interaction_token=row["interaction_token"],
            token_expires_at=row["token_expires_at"],
            message_id=row["message_id"],
            fallback_message_id=row["fallback_message_id"],
            upload_limit=row["upload_limit"],
        ),
        state=JobState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        submitted_at=row["submitted_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        request_id=row["request_id"],
        remote_queue_position=row["remote_queue_position"],
        video_url=row["video_url"],
        failure_reason=FailureReason(row["failure_reason"]) if row["failure_reason"] is not None else None,
        failure_detail=row["failure_detail"],
        cancel_requested_by=row["cancel_requested_by"],
        cancelled_by=row["cancelled_by"],
        cancel_place=CancelPlace(row["cancel_place"]) if row["cancel_place"] is not None else None,
        reply_final=bool(row["reply_final"]),
        version=row["version"],
    )


def _image_columns(prefix: str, image: ImageRef | None) -> dict[str, Any]:
    return {f"{prefix}_{field}": getattr(image, field) if image else None for field in IMAGE_FIELDS}


def _image_from_row(row: Mapping[str, Any], prefix: str) -> ImageRef | None:
    if row[f"{prefix}_url"] is None:
        return None
    return ImageRef(**{field: row[f"{prefix}_{field}"] for field in IMAGE_FIELDS})


def _required_image_from_row(row: Mapping[str, Any], prefix: str) -> ImageRef:
    image = _image_from_row(row, prefix)
    if image is None:
        raise ValueError(f"jobs row {row['id']} has no {prefix}")
    return image


# Moderation: each server's settings (ServerSettings.to_dict() as JSON), member blocks, moderators'
# "front" requests and the audit log of every moderator action.
server_settings = Table(
    "server_settings",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("settings", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

member_blocks = Table(
    "member_blocks",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("blocked_until", UtcDateTime, nullable=False),
)

front_requests = Table(
    "front_requests",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("moderator_id", BigInteger, nullable=False),
    Column("action", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("reason", Text, nullable=True),
    Index(None, "guild_id", "at"),
)

approved_jobs = Table(
    "approved_jobs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("approved_at", UtcDateTime, nullable=False),
)
