"""forget the interaction tokens of jobs whose reply is final

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """An empty token is never used: the bot edits such a reply in the channel (its expiry is long past)."""
    jobs = sa.table(
        "jobs",
        sa.column("interaction_token", sa.Text()),
        sa.column("reply_final", sa.Boolean()),
    )
    op.execute(
        jobs.update()
        .where(jobs.c.reply_final.is_(True), jobs.c.interaction_token != "")
        .values(interaction_token="")
    )


def downgrade() -> None:
    """Nothing to restore: a cleared token was of no use to anyone."""
