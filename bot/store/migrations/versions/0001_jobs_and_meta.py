"""jobs and meta

Revision ID: 0001
Revises:
Create Date: 2025-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("image_url", sa.Text(), nullable=False),
        sa.Column("image_filename", sa.Text(), nullable=False),
        sa.Column("image_content_type", sa.String(255), nullable=True),
        sa.Column("image_width", sa.Integer(), nullable=True),
        sa.Column("image_height", sa.Integer(), nullable=True),
        sa.Column("image_size", sa.BigInteger(), nullable=False),
        sa.Column("last_frame_url", sa.Text(), nullable=True),
        sa.Column("last_frame_filename", sa.Text(), nullable=True),
        sa.Column("last_frame_content_type", sa.String(255), nullable=True),
        sa.Column("last_frame_width", sa.Integer(), nullable=True),
        sa.Column("last_frame_height", sa.Integer(), nullable=True),
        sa.Column("last_frame_size", sa.BigInteger(), nullable=True),
        sa.Column("resolution", sa.String(16), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.BigInteger(), nullable=False),
        sa.Column("interaction_token", sa.Text(), nullable=False),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("fallback_message_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("request_id", sa.String(255), nullable=True),
        sa.Column("remote_queue_position", sa.Integer(), nullable=True),
        sa.Column("video_url", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.String(64), nullable=True),
        sa.Column("failure_detail", sa.Text(), nullable=True),
        sa.Column("cancel_requested_by", sa.BigInteger(), nullable=True),
        sa.Column("cancelled_by", sa.BigInteger(), nullable=True),
        sa.Column("cancel_place", sa.String(32), nullable=True),
        sa.Column("reply_final", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_index("ix_jobs_guild_id_state_created_at", "jobs", ["guild_id", "state", "created_at"])
    op.create_index("ix_jobs_guild_id_user_id_state", "jobs", ["guild_id", "user_id", "state"])
    op.create_table(
        "meta",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_meta"),
    )


def downgrade() -> None:
    op.drop_table("meta")
    op.drop_index("ix_jobs_guild_id_user_id_state", table_name="jobs")
    op.drop_index("ix_jobs_guild_id_state_created_at", table_name="jobs")
    op.drop_index("ix_jobs_state", table_name="jobs")
    op.drop_table("jobs")
