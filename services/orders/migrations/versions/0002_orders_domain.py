"""orders, status history, number counters, customers, price list

Replaces the skeleton's ``orders`` table (it held no data yet).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.drop_table("orders")
    op.create_table(
        "orders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("order_number", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("customer_name", sa.String(300), nullable=False),
        sa.Column("customer", sa.JSON(), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("bill_to", sa.JSON(), nullable=True),
        sa.Column("ship_to", sa.JSON(), nullable=True),
        sa.Column("delivery_contact", sa.JSON(), nullable=True),
        sa.Column("customer_po_number", sa.String(100), nullable=True),
        sa.Column("requested_delivery_date", sa.Date(), nullable=True),
        sa.Column("offer_id", sa.String(128), nullable=True),
        sa.Column("offer_version", sa.Integer(), nullable=True),
        sa.Column("opportunity_id", sa.String(128), nullable=True),
        sa.Column("contract", sa.JSON(), nullable=True),
        sa.Column("rejection_reasons", sa.JSON(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("cancelled_by", sa.String(200), nullable=True),
        sa.Column("fulfillment_id", sa.String(128), nullable=True),
        _utc("dispatched_at", nullable=True),
        _utc("completed_at", nullable=True),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        sa.UniqueConstraint("offer_id", "offer_version", name="uq_orders_offer_version"),
        sa.UniqueConstraint("order_number", name="uq_orders_order_number"),
    )
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    op.create_index("ix_orders_owner", "orders", ["owner"])
    op.create_index("ix_orders_team", "orders", ["team"])
    op.create_index("ix_orders_created_by", "orders", ["created_by"])
    op.create_index("ix_orders_credit", "orders", ["customer_id", "currency", "status"])
    op.create_index("ix_orders_created", "orders", ["created_at", "id"])

    op.create_table(
        "orders_status_history",
        sa.Column("id", _BIG_ID, primary_key=True),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("previous_status", sa.String(40), nullable=True),
        _utc("at"),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_orders_status_history_order_id", "orders_status_history", ["order_id"])

    op.create_table(
        "orders_number_counters",
        sa.Column("series", sa.String(40), primary_key=True),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
    )

    op.create_table(
        "orders_customers",
        sa.Column("customer_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("bill_to", sa.JSON(), nullable=True),
        sa.Column("ship_to", sa.JSON(), nullable=True),
        sa.Column("delivery_contact", sa.JSON(), nullable=True),
        sa.Column("credit_limit_minor", sa.BigInteger(), nullable=True),
        sa.Column("credit_currency", sa.String(3), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        _utc("source_time"),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
    )

    op.create_table(
        "orders_price_list",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("unit_price", sa.String(40), nullable=False),
        sa.Column("tax_rate", sa.String(12), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("updated_at"),
    )


def downgrade() -> None:
    for table in (
        "orders_price_list",
        "orders_customers",
        "orders_number_counters",
        "orders_status_history",
        "orders",
    ):
        op.drop_table(table)
    op.create_table(
        "orders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(40), nullable=False, index=True),
        sa.Column("owner", sa.String(200), nullable=True, index=True),
        sa.Column("team", sa.String(100), nullable=True, index=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
