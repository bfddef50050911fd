"""game market line: the last market state and price on the game row, for the games list

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Folded from the game's `market` and `market_status` events as they are appended (in the
    # same transaction), so the games list reads it with the game row: no query per game.
    op.add_column("games", sa.Column("market", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("games") as batch:
        batch.drop_column("market")
