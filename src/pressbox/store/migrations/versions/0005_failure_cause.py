"""stream failure cause: why a stream ended Failed, beside the reason's text

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

streams = sa.table(
    "streams",
    sa.column("status", sa.String),
    sa.column("failure_reason", sa.String),
    sa.column("failure_cause", sa.String),
)


def upgrade() -> None:
    # limit | stall | takeovers | operator | upstream (domain.failure.FailureCause).
    op.add_column("streams", sa.Column("failure_cause", sa.String(16), nullable=True))
    failed = streams.c.status == "Failed"
    reason = streams.c.failure_reason
    # The reasons earlier versions wrote, read back into causes. "... failed N times in a row"
    # was the old budget of failed polls: an upstream outage, which no longer fails a stream.
    for cause, pattern in (
        ("upstream", "% failed % times in a row%"),
        ("limit", "stream ran longer than the limit%"),
        ("stall", "game status has not changed for%"),
        ("takeovers", "gave up after % retries%"),
    ):
        op.execute(
            streams.update()
            .where(failed, streams.c.failure_cause.is_(None), reason.like(pattern))
            .values(failure_cause=cause)
        )


def downgrade() -> None:
    with op.batch_alter_table("streams") as batch:
        batch.drop_column("failure_cause")
