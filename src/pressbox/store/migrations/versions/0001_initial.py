"""games, streams and the per-game event log

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "games",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sport", sa.String(32), nullable=False),
        sa.Column("league", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("short_name", sa.String(64), nullable=False),
        sa.Column("start_time", TZ, nullable=True),
        sa.Column("home", sa.JSON, nullable=False),
        sa.Column("away", sa.JSON, nullable=False),
        sa.Column("status", sa.JSON, nullable=True),
        sa.Column("home_score", sa.Integer, nullable=True),
        sa.Column("away_score", sa.Integer, nullable=True),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("updated_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_games"),
    )
    op.create_table(
        "streams",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("scheduled_at", TZ, nullable=False),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("failure_reason", sa.String(512), nullable=True),
        sa.Column("retry_count", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("health", sa.JSON, nullable=True),
        sa.Column("updated_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_streams"),
        sa.ForeignKeyConstraint(["game_id"], ["games.id"], name="fk_streams_game_id_games"),
        sa.UniqueConstraint("game_id", name="uq_streams_game_id"),
    )
    op.create_table(
        "events",
        sa.Column("game_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("game_id", "seq", name="pk_events"),
        sa.ForeignKeyConstraint(["game_id"], ["games.id"], name="fk_events_game_id_games"),
        sa.UniqueConstraint("game_id", "key", name="uq_events_game_id_key"),
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("streams")
    op.drop_table("games")
