"""stream leases: lease expiry, heartbeat and last poll on streams; due-stream index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # `owner` (from 0001) is the lease holder's id; a lease is held while lease_expires_at > now.
    op.add_column("streams", sa.Column("lease_expires_at", TZ, nullable=True))
    op.add_column("streams", sa.Column("heartbeat_at", TZ, nullable=True))
    op.add_column("streams", sa.Column("last_poll_at", TZ, nullable=True))
    op.create_index("ix_streams_status_scheduled_at", "streams", ["status", "scheduled_at"])


def downgrade() -> None:
    op.drop_index("ix_streams_status_scheduled_at", table_name="streams")
    with op.batch_alter_table("streams") as batch:
        batch.drop_column("last_poll_at")
        batch.drop_column("heartbeat_at")
        batch.drop_column("lease_expires_at")
