"""stream fetches: what each stream's streamer asked of upstream, renewed with its lease

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # {requests, bytes, skipped, waited}: shown by `pressbox streams` and GET /api/streams.
    op.add_column("streams", sa.Column("fetches", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("streams") as batch:
        batch.drop_column("fetches")
