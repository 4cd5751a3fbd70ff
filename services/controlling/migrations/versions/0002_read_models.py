"""event payloads in journey_events, projections, record index

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = 128
MONEY = 48


def _at(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def _segment() -> list[sa.Column]:
    return [
        sa.Column("company_id", sa.String(ID), nullable=True),
        sa.Column("nace_section", sa.String(1), nullable=True),
        sa.Column("size_class", sa.String(20), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("journey_events") as batch:
        batch.add_column(sa.Column("topic", sa.String(200), nullable=True))
        batch.add_column(sa.Column("service", sa.String(100), nullable=True))
        batch.add_column(sa.Column("aggregate", sa.String(100), nullable=True))
        batch.add_column(sa.Column("aggregate_id", sa.String(ID), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("owner", sa.String(ID), nullable=True))
        batch.add_column(sa.Column("team", sa.String(200), nullable=True))
        batch.add_column(sa.Column("company_id", sa.String(ID), nullable=True))
        batch.add_column(sa.Column("account_id", sa.String(ID), nullable=True))
        batch.add_column(sa.Column("data", sa.JSON(), nullable=True))
    op.create_index("ix_journey_events_aggregate", "journey_events", ["aggregate", "aggregate_id"])
    op.create_index("ix_journey_events_topic_type", "journey_events", ["topic", "type"])
    op.create_index("ix_journey_events_company_id", "journey_events", ["company_id"])

    op.create_table(
        "controlling_journey_links",
        sa.Column("correlation_id", sa.String(64), primary_key=True),
        sa.Column("earlier_correlation_id", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
    )
    op.create_index(
        "ix_controlling_journey_links_earlier_correlation_id",
        "controlling_journey_links",
        ["earlier_correlation_id"],
    )
    op.create_table(
        "controlling_leads",
        sa.Column("lead_id", sa.String(ID), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(40), nullable=True),
        *_segment(),
        sa.Column("owner", sa.String(ID), nullable=True),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("source_channel", sa.String(200), nullable=True),
        sa.Column("existing_customer", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.String(ID), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        _at("created_at"),
        _at("mql_at"),
        _at("sql_at"),
        _at("first_contact_at"),
        _at("converted_at"),
        _at("assigned_at"),
        _at("closed_at"),
    )
    op.create_index("ix_controlling_leads_owner", "controlling_leads", ["owner"])
    op.create_table(
        "controlling_opportunities",
        sa.Column("opportunity_id", sa.String(ID), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(40), nullable=True),
        sa.Column("source", sa.String(40), nullable=True),
        sa.Column("lead_id", sa.String(ID), nullable=True),
        sa.Column("followup_id", sa.String(ID), nullable=True),
        sa.Column("account_id", sa.String(ID), nullable=True),
        *_segment(),
        sa.Column("owner", sa.String(ID), nullable=True),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("source_channel", sa.String(200), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("amount", sa.String(MONEY), nullable=True),
        sa.Column("amount_currency", sa.String(3), nullable=True),
        sa.Column("probability", sa.Integer(), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        _at("opened_at"),
        _at("won_at"),
        _at("lost_at"),
        _at("closed_at"),
    )
    op.create_index(
        "ix_controlling_opportunities_lead_id", "controlling_opportunities", ["lead_id"]
    )
    op.create_index("ix_controlling_opportunities_owner", "controlling_opportunities", ["owner"])
    op.create_table(
        "controlling_offers",
        sa.Column("offer_id", sa.String(ID), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(40), nullable=True),
        sa.Column("opportunity_id", sa.String(ID), nullable=True),
        *_segment(),
        sa.Column("owner", sa.String(ID), nullable=True),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("net_amount", sa.String(MONEY), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        _at("created_at"),
        _at("first_sent_at"),
        _at("accepted_at"),
    )
    op.create_index(
        "ix_controlling_offers_opportunity_id", "controlling_offers", ["opportunity_id"]
    )
    op.create_table(
        "controlling_orders",
        sa.Column("order_id", sa.String(ID), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(40), nullable=True),
        sa.Column("channel", sa.String(40), nullable=True),
        sa.Column("offer_id", sa.String(ID), nullable=True),
        sa.Column("opportunity_id", sa.String(ID), nullable=True),
        sa.Column("account_id", sa.String(ID), nullable=True),
        *_segment(),
        sa.Column("owner", sa.String(ID), nullable=True),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("net_amount", sa.String(MONEY), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        _at("received_at"),
        _at("confirmed_at"),
        _at("completed_at"),
    )
    op.create_index("ix_controlling_orders_offer_id", "controlling_orders", ["offer_id"])
    op.create_table(
        "controlling_fulfillments",
        sa.Column("fulfillment_id", sa.String(ID), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(40), nullable=True),
        sa.Column("order_id", sa.String(ID), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        _at("planned_at"),
        _at("delivered_at"),
        _at("completed_at"),
    )
    op.create_index(
        "ix_controlling_fulfillments_order_id", "controlling_fulfillments", ["order_id"]
    )
    op.create_table(
        "controlling_records",
        sa.Column("topic", sa.String(200), primary_key=True),
        sa.Column("partition", sa.Integer(), primary_key=True),
        sa.Column("offset", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(200), nullable=True),
        sa.Column("event_type", sa.String(200), nullable=True),
        sa.Column("dlq_consumer", sa.String(100), nullable=True),
        sa.Column("dlq_original_topic", sa.String(200), nullable=True),
        sa.Column("dlq_error", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_controlling_records_topic_type", "controlling_records", ["topic", "event_type"]
    )


def downgrade() -> None:
    for table in (
        "controlling_records",
        "controlling_fulfillments",
        "controlling_orders",
        "controlling_offers",
        "controlling_opportunities",
        "controlling_leads",
        "controlling_journey_links",
    ):
        op.drop_table(table)
    op.drop_index("ix_journey_events_company_id", "journey_events")
    op.drop_index("ix_journey_events_topic_type", "journey_events")
    op.drop_index("ix_journey_events_aggregate", "journey_events")
    with op.batch_alter_table("journey_events") as batch:
        for column in (
            "data",
            "account_id",
            "company_id",
            "team",
            "owner",
            "version",
            "aggregate_id",
            "aggregate",
            "service",
            "topic",
        ):
            batch.drop_column(column)
