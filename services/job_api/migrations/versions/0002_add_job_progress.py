"""Add jobs.progress: percent done, null meaning "no progress data".

Its own revision on top of the pre-progress table, as ForgeSyte's migration
006, so existing databases upgrade in place. Jobs that existed before keep
null: they never reported progress, and null is not 0%.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("progress", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            "ck_jobs_progress", "progress IS NULL OR (progress >= 0 AND progress <= 100)"
        )
    op.create_index("ix_jobs_progress", "jobs", ["progress"])


def downgrade() -> None:
    op.drop_index("ix_jobs_progress", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("ck_jobs_progress", type_="check")
        batch.drop_column("progress")
