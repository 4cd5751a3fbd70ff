"""platform tables and journey events

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from salesflow.migrations import create_platform_tables, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables()
    op.create_table(
        "journey_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("correlation_id", sa.String(64), nullable=False, index=True),
        sa.Column("causation_id", sa.String(64), nullable=True, index=True),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("journey_events")
    drop_platform_tables()
