"""fulfilment plans, shipments with lines, tasks, timeline, early status events and cancellations

Replaces the skeleton's ``fulfillments`` table (it never held data) with the plan table.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

QUANTITY = sa.Numeric(24, 8).with_variant(sa.String(40), "sqlite")  # exact on both
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.drop_table("fulfillments")
    op.create_table(
        "fulfillments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("order_number", sa.String(128), nullable=False),
        sa.Column("order_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("account_id", sa.String(128), nullable=True),
        sa.Column("customer", sa.JSON(), nullable=False),
        sa.Column("ship_to", sa.JSON(), nullable=False),
        sa.Column("requested_delivery_date", sa.Date(), nullable=True),
        sa.Column("next_due_date", sa.Date(), nullable=True),
        sa.Column("cancellation_flagged", sa.Boolean(), nullable=False),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        _utc("cancelled_at", nullable=True),
        _utc("completed_at", nullable=True),
        sa.Column("correlation_id", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        sa.UniqueConstraint("order_id", name="uq_fulfillments_order_id"),
    )
    for column in ("order_number", "status", "owner", "team", "next_due_date", "created_at"):
        op.create_index(f"ix_fulfillments_{column}", "fulfillments", [column])

    op.create_table(
        "fulfillment_shipments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "fulfillment_id", sa.String(36), sa.ForeignKey("fulfillments.id"), nullable=False
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=True),
        sa.Column("carrier", sa.String(200), nullable=True),
        sa.Column("tracking_number", sa.String(200), nullable=True),
        sa.Column("tracking_url", sa.String(1000), nullable=True),
        sa.Column("external_ids", sa.JSON(), nullable=False),
        sa.Column("proof_of_delivery", sa.JSON(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        _utc("dispatched_at", nullable=True),
        _utc("delivered_at", nullable=True),
        _utc("last_status_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
    )
    op.create_index(
        "ix_fulfillment_shipments_fulfillment_id", "fulfillment_shipments", ["fulfillment_id"]
    )

    op.create_table(
        "fulfillment_shipment_lines",
        sa.Column(
            "shipment_id",
            sa.String(36),
            sa.ForeignKey("fulfillment_shipments.id"),
            primary_key=True,
        ),
        sa.Column("line_no", sa.Integer(), primary_key=True),
        sa.Column("fulfillment_id", sa.String(36), nullable=False),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(3), nullable=False),
        sa.Column("quantity", QUANTITY, nullable=False),
        sa.Column("delivered_quantity", QUANTITY, nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("serial_numbers", sa.JSON(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=True),
    )
    op.create_index(
        "ix_fulfillment_shipment_lines_fulfillment_id",
        "fulfillment_shipment_lines",
        ["fulfillment_id"],
    )

    op.create_table(
        "fulfillment_tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "fulfillment_id", sa.String(36), sa.ForeignKey("fulfillments.id"), nullable=False
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("quantity", QUANTITY, nullable=False),
        sa.Column("unit", sa.String(3), nullable=False),
        sa.Column("assignee", sa.String(128), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        _utc("completed_at", nullable=True),
        sa.Column("completed_by", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
    )
    op.create_index("ix_fulfillment_tasks_fulfillment_id", "fulfillment_tasks", ["fulfillment_id"])
    op.create_index("ix_fulfillment_tasks_assignee", "fulfillment_tasks", ["assignee"])

    op.create_table(
        "fulfillment_timeline",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("fulfillment_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        _utc("occurred_at"),
        _utc("recorded_at"),
        sa.Column("shipment_id", sa.String(36), nullable=True),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(40), nullable=True),
        sa.Column("status_event_id", sa.String(128), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.UniqueConstraint(
            "status_event_id", "shipment_id", name="uq_fulfillment_timeline_status_event"
        ),
    )
    op.create_index(
        "ix_fulfillment_timeline_status_event_id", "fulfillment_timeline", ["status_event_id"]
    )
    op.create_index(
        "ix_fulfillment_timeline_fulfillment_id", "fulfillment_timeline", ["fulfillment_id"]
    )
    op.create_index("ix_fulfillment_timeline_shipment_id", "fulfillment_timeline", ["shipment_id"])

    op.create_table(
        "fulfillment_pending_status",
        sa.Column("status_event_id", sa.String(128), primary_key=True),
        sa.Column("order_id", sa.String(128), nullable=False),
        _utc("occurred_at"),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _utc("received_at"),
    )
    op.create_index(
        "ix_fulfillment_pending_status_order_id", "fulfillment_pending_status", ["order_id"]
    )

    op.create_table(
        "fulfillment_order_cancellations",
        sa.Column("order_id", sa.String(128), primary_key=True),
        sa.Column("order_version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("cancelled_by", sa.String(128), nullable=False),
        _utc("recorded_at"),
    )


def downgrade() -> None:
    for table in (
        "fulfillment_order_cancellations",
        "fulfillment_pending_status",
        "fulfillment_timeline",
        "fulfillment_tasks",
        "fulfillment_shipment_lines",
        "fulfillment_shipments",
        "fulfillments",
    ):
        op.drop_table(table)
    op.create_table(  # the skeleton's table of revision 0001
        "fulfillments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(40), nullable=False, index=True),
        sa.Column("owner", sa.String(200), nullable=True, index=True),
        sa.Column("team", sa.String(100), nullable=True, index=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
