"""accounts, installed base, orders, tickets with SLA, follow-ups and renewals

Replaces the skeleton's ``accounts`` table (never written to) by ``aftersales_accounts``.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, index=index)


def upgrade() -> None:
    op.drop_table("accounts")
    op.create_table(
        "aftersales_accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(128), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("company", sa.JSON(), nullable=False),
        _utc("company_as_of"),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True, index=True),
        sa.Column("team", sa.String(100), nullable=True, index=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("first_order_id", sa.String(128), nullable=False),
        sa.Column("first_fulfillment_id", sa.String(128), nullable=False),
        _utc("onboarded_at"),
        sa.Column("health_score", sa.Integer(), nullable=False),
        sa.Column("health_band", sa.String(20), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("created_at", index=True),
        _utc("updated_at"),
    )
    op.create_table(
        "aftersales_assets",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("aftersales_accounts.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("serial_number", sa.String(200), nullable=True, index=True),
        sa.Column("quantity", sa.Numeric(18, 4), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("order_number", sa.String(100), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("unit_no", sa.Integer(), nullable=False),
        sa.Column("fulfillment_id", sa.String(128), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("warranty_end", sa.Date(), nullable=True, index=True),
        sa.Column("contract_end", sa.Date(), nullable=True, index=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        _utc("created_at"),
        sa.UniqueConstraint("order_id", "line_no", "unit_no", name="uq_aftersales_assets_unit"),
    )
    op.create_table(
        "aftersales_deliveries",
        sa.Column("fulfillment_id", sa.String(128), primary_key=True),
        sa.Column("account_id", sa.String(36), nullable=False, index=True),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("completed_at"),
        _utc("recorded_at"),
    )
    op.create_table(
        "aftersales_orders",
        sa.Column("order_id", sa.String(128), primary_key=True),
        sa.Column("order_number", sa.String(100), nullable=False),
        sa.Column("company_id", sa.String(128), nullable=False, index=True),
        sa.Column("account_id", sa.String(36), nullable=True, index=True),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("net_amount", sa.Numeric(18, 4), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        _utc("first_seen_at"),
        _utc("updated_at"),
    )
    op.create_table(
        "aftersales_tickets",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("aftersales_accounts.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("asset_id", sa.String(36), nullable=True, index=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(2), nullable=False),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(40), nullable=False, index=True),
        sa.Column("opened_by", sa.String(200), nullable=False, index=True),
        _utc("opened_at", index=True),
        _utc("first_responded_at", nullable=True),
        _utc("resolved_at", nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        _utc("closed_at", nullable=True),
        sa.Column("sla_consumed_seconds", sa.Integer(), nullable=False),
        _utc("sla_running_since", nullable=True),
        sa.Column("first_response_seconds", sa.Integer(), nullable=True),
        sa.Column("resolution_seconds", sa.Integer(), nullable=True),
        _utc("first_response_due", nullable=True),
        _utc("resolution_due", nullable=True),
        sa.Column("first_response_breached", sa.Boolean(), nullable=False),
        sa.Column("resolution_breached", sa.Boolean(), nullable=False),
        _utc("breached_at", nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("updated_at"),
    )
    op.create_index(
        "ix_aftersales_tickets_first_response_due", "aftersales_tickets", ["first_response_due"]
    )
    op.create_index(
        "ix_aftersales_tickets_resolution_due", "aftersales_tickets", ["resolution_due"]
    )
    op.create_table(
        "aftersales_ticket_comments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.String(36),
            sa.ForeignKey("aftersales_tickets.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("author_kind", sa.String(20), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("ticket_version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _utc("created_at"),
    )
    op.create_table(
        "aftersales_ticket_changes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.String(36),
            sa.ForeignKey("aftersales_tickets.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("from_status", sa.String(40), nullable=True),
        sa.Column("to_status", sa.String(40), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("ticket_version", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _utc("changed_at"),
    )
    op.create_table(
        "aftersales_followups",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("aftersales_accounts.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("estimated_amount", sa.Numeric(18, 4), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("expected_close_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("asset_ids", sa.JSON(), nullable=False),
        sa.Column("ticket_id", sa.String(36), nullable=True),
        sa.Column("contact", sa.JSON(), nullable=True),
        sa.Column("identified_by", sa.String(200), nullable=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        _utc("created_at", index=True),
    )
    op.create_table(
        "aftersales_renewals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("asset_id", sa.String(36), sa.ForeignKey("aftersales_assets.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False, index=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "followup_id", sa.String(36), sa.ForeignKey("aftersales_followups.id"), nullable=False
        ),
        _utc("raised_at"),
        sa.UniqueConstraint("asset_id", "kind", name="uq_aftersales_renewals_asset"),
    )


def downgrade() -> None:
    for table in (
        "aftersales_renewals",
        "aftersales_followups",
        "aftersales_ticket_changes",
        "aftersales_ticket_comments",
        "aftersales_tickets",
        "aftersales_orders",
        "aftersales_deliveries",
        "aftersales_assets",
        "aftersales_accounts",
    ):
        op.drop_table(table)
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(40), nullable=False, index=True),
        sa.Column("owner", sa.String(200), nullable=True, index=True),
        sa.Column("team", sa.String(100), nullable=True, index=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
