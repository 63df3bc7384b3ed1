"""admission claims and the members' turns, for several processes sharing one queue

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_jobs_lease_owner", "jobs", ["lease_owner"])
    op.create_table(
        "member_turns",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name="pk_member_turns"),
    )


def downgrade() -> None:
    op.drop_table("member_turns")
    op.drop_index("ix_jobs_lease_owner", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("admitted_at")
