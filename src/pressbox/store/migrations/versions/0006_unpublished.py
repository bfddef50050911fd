"""stream documents not published (yet): kept apart from the degraded ones in `health`

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A JSON list of document names that answered 404 and have never answered otherwise.
    op.add_column("streams", sa.Column("unpublished", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("streams") as batch:
        batch.drop_column("unpublished")
