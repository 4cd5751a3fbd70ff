"""probe tables

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
        "probe_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
    )
    op.create_table(
        "probe_received",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), nullable=False, index=True),
        sa.Column("event_id", sa.String(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("probe_received")
    op.drop_table("probe_items")
    drop_platform_tables()
