"""Add the plugins table: manifests workers advertised, kept across restarts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.job_api.sqltypes import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plugins",
        sa.Column("plugin_id", sa.String(128), nullable=False),
        sa.Column("manifest_json", sa.Text(), nullable=False),
        sa.Column("advertised_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("plugin_id", name="pk_plugins"),
    )


def downgrade() -> None:
    op.drop_table("plugins")
