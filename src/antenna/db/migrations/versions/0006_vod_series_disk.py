"""vod series disk stamps

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 17:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("vod_series", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disk", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("vod_series", schema=None) as batch_op:
        batch_op.drop_column("disk")
