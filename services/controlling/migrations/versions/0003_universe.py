"""suspects and prospects: counted chunks and their cells

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = 128


def _chunk_key() -> list[sa.Column]:
    return [
        sa.Column("stage", sa.String(20), primary_key=True),
        sa.Column("segment_id", sa.String(ID), primary_key=True),
        sa.Column("batch_id", sa.String(ID), primary_key=True),
        sa.Column("chunk", sa.BigInteger(), primary_key=True, autoincrement=False),
    ]


def upgrade() -> None:
    op.create_table(
        "controlling_universe_chunks",
        *_chunk_key(),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "controlling_universe_cells",
        *_chunk_key(),
        sa.Column("cell_no", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("nace_section", sa.String(1), nullable=True),
        sa.Column("size_class", sa.String(20), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_controlling_universe_cells_occurred_at",
        "controlling_universe_cells",
        ["occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_controlling_universe_cells_occurred_at", "controlling_universe_cells")
    op.drop_table("controlling_universe_cells")
    op.drop_table("controlling_universe_chunks")
