"""pipeline: opportunities with all fields, stage history, activities, offers seen

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _amount(name: str, nullable: bool) -> sa.Column:
    # exact decimals: NUMERIC on PostgreSQL, text on SQLite (its NUMERIC goes through float)
    return sa.Column(
        name, sa.Numeric(18, 4).with_variant(sa.String(40), "sqlite"), nullable=nullable
    )


def upgrade() -> None:
    # The skeleton's table held no business data yet: replace it with the real one.
    op.drop_table("opportunities")
    op.create_table(
        "opportunities",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("lead_id", sa.String(128), nullable=True),
        sa.Column("followup_id", sa.String(128), nullable=True),
        sa.Column("account_id", sa.String(128), nullable=True),
        sa.Column("account", sa.JSON(), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        _amount("amount", nullable=True),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("probability_override", sa.Integer(), nullable=True),
        sa.Column("expected_close_date", sa.Date(), nullable=True),
        sa.Column("next_step", sa.String(500), nullable=True),
        sa.Column("next_step_date", sa.Date(), nullable=True),
        sa.Column("needs", sa.JSON(), nullable=True),
        sa.Column("lost_reason", sa.String(500), nullable=True),
        sa.Column("won_offer_id", sa.String(128), nullable=True),
        sa.Column("won_offer_version", sa.Integer(), nullable=True),
        sa.Column("source_channel", sa.String(100), nullable=True),
        sa.Column("source_campaign", sa.String(200), nullable=True),
        sa.Column("opened_by", sa.String(200), nullable=True),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("related_correlation_ids", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        _utc("stage_entered_at"),
        _utc("last_activity_at"),
        _utc("closed_at", nullable=True),
        # exactly one opportunity per lead and per follow-up, whatever the redelivery
        sa.UniqueConstraint("lead_id", name="uq_opportunities_lead_id"),
        sa.UniqueConstraint("followup_id", name="uq_opportunities_followup_id"),
    )
    op.create_index("ix_opportunities_stage", "opportunities", ["stage"])
    op.create_index("ix_opportunities_owner", "opportunities", ["owner"])
    op.create_index("ix_opportunities_team", "opportunities", ["team"])
    op.create_index("ix_opportunities_account_id", "opportunities", ["account_id"])
    op.create_index("ix_opportunities_created", "opportunities", ["created_at", "id"])
    op.create_index(
        "ix_opportunities_open_activity", "opportunities", ["stage", "last_activity_at"]
    )

    op.create_table(
        "opportunities_stage_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column(
            "opportunity_id", sa.String(36), sa.ForeignKey("opportunities.id"), nullable=False
        ),
        sa.Column("stage", sa.String(40), nullable=False),
        _utc("entered_at"),
        _utc("left_at", nullable=True),
        sa.Column("trigger", sa.String(100), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=True),
        sa.Column("offer_id", sa.String(128), nullable=True),
    )
    op.create_index(
        "ix_opportunities_stage_history_opportunity_id",
        "opportunities_stage_history",
        ["opportunity_id"],
    )

    op.create_table(
        "opportunities_activities",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "opportunity_id", sa.String(36), sa.ForeignKey("opportunities.id"), nullable=False
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("notes", sa.String(5000), nullable=True),
        _utc("occurred_at"),
        sa.Column("next_step", sa.String(500), nullable=True),
        sa.Column("next_step_date", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        _utc("created_at"),
    )
    op.create_index(
        "ix_opportunities_activities_list",
        "opportunities_activities",
        ["opportunity_id", "created_at"],
    )

    op.create_table(
        "opportunities_offers",
        sa.Column("offer_id", sa.String(128), primary_key=True),
        sa.Column("opportunity_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("offer_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _amount("net", nullable=False),
        _utc("updated_at"),
    )
    op.create_index(
        "ix_opportunities_offers_opportunity_id", "opportunities_offers", ["opportunity_id"]
    )


def downgrade() -> None:
    op.drop_table("opportunities_offers")
    op.drop_table("opportunities_activities")
    op.drop_table("opportunities_stage_history")
    op.drop_table("opportunities")
    op.create_table(
        "opportunities",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(40), nullable=False, index=True),
        sa.Column("owner", sa.String(200), nullable=True, index=True),
        sa.Column("team", sa.String(100), nullable=True, index=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
