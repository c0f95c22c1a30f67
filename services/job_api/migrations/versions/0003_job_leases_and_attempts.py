"""Add what workers and live progress need: leases, attempts, frames, versions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.job_api.sqltypes import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _new_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("original_filename", sa.String(255), server_default="", nullable=False),
        sa.Column("input_size_bytes", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="3", nullable=False),
        sa.Column("current_frame", sa.BigInteger(), nullable=True),
        sa.Column("total_frames", sa.BigInteger(), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column(
            "cancel_requested", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("lease_id", sa.String(36), nullable=True),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        for column in _new_columns():
            batch.add_column(column)
    op.create_index("ix_jobs_request_id", "jobs", ["request_id"], unique=True)
    op.create_index("ix_jobs_status_lease_expires_at", "jobs", ["status", "lease_expires_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_status_lease_expires_at", table_name="jobs")
    op.drop_index("ix_jobs_request_id", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        for column in reversed(_new_columns()):
            batch.drop_column(column.name)
