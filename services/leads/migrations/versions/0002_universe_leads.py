"""company universe, contacts, touchpoints, segments, configuration, accounts; leads rebuilt

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.drop_table("leads")  # the skeleton's table held no data
    op.create_table(
        "leads_companies",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(5)),
        sa.Column("postal_code", sa.String(20)),
        sa.Column("city", sa.String(200)),
        sa.Column("nace", sa.String(5)),
        sa.Column("nace_rev", sa.String(3)),
        sa.Column("nace_section", sa.String(1)),
        sa.Column("employees", sa.Integer()),
        sa.Column("size_class", sa.String(6)),
        sa.Column("revenue", sa.BigInteger()),
        sa.Column("revenue_currency", sa.String(3)),
        sa.Column("duns", sa.String(9), unique=True),
        sa.Column("vat_id", sa.String(15), unique=True),
        sa.Column("website", sa.String(300)),
        sa.Column("domain", sa.String(253)),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("match_key", sa.String(340), unique=True),
        sa.Column("account_id", sa.String(128)),
        sa.Column("import_id", sa.Integer()),
        sa.Column("import_line", sa.Integer()),
        _utc("created_at"),
        _utc("updated_at"),
    )
    op.create_index(
        "ix_leads_companies_segment",
        "leads_companies",
        ["nace_rev", "nace_section", "size_class", "country"],
    )
    op.create_index("ix_leads_companies_domain", "leads_companies", ["domain"])

    op.create_table(
        "leads_contacts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("email_key", sa.String(254), unique=True),
        sa.Column("phone", sa.String(40)),
        sa.Column("role", sa.String(100)),
        sa.Column("consent_email", sa.Boolean(), nullable=False),
        sa.Column("consent_phone", sa.Boolean(), nullable=False),
        sa.Column("consent_tracking", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
    )

    op.create_table(
        "leads_touchpoints",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.String(36)),
        sa.Column("lead_id", sa.String(36), index=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        _utc("occurred_at"),
        sa.Column("campaign", sa.String(200)),
        sa.Column("external_id", sa.String(200), unique=True),
        sa.Column("existing_customer", sa.Boolean(), nullable=False),
        sa.Column("created_interest", sa.Boolean(), nullable=False),
        _utc("received_at"),
        sa.Column("received_by", sa.String(200), nullable=False),
    )
    op.create_index(
        "ix_leads_touchpoints_company", "leads_touchpoints", ["company_id", "occurred_at"]
    )

    op.create_table(
        "leads",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("open_company_id", sa.BigInteger(), unique=True),
        sa.Column("contact_id", sa.String(36)),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("owner", sa.String(200), index=True),
        sa.Column("team", sa.String(100), index=True),
        sa.Column("queue", sa.String(100)),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_channel", sa.String(20), nullable=False),
        sa.Column("source_kind", sa.String(50)),
        sa.Column("source_campaign", sa.String(200)),
        sa.Column("touchpoint_id", sa.String(36)),
        sa.Column("score", sa.BigInteger(), nullable=False),
        sa.Column("fit_score", sa.BigInteger(), nullable=False),
        sa.Column("engagement_score", sa.BigInteger(), nullable=False),
        sa.Column("score_breakdown", sa.JSON()),
        sa.Column("scoring_model_version", sa.Integer(), nullable=False),
        _utc("scored_at", nullable=True),
        _utc("engagement_since", nullable=True),
        sa.Column("existing_customer", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.String(128)),
        sa.Column("contact", sa.JSON()),
        sa.Column("needs", sa.JSON()),
        _utc("first_contact_at", nullable=True),
        sa.Column("qualified_by", sa.String(200)),
        sa.Column("disqualify_reason", sa.String(500)),
        sa.Column("disqualified_by", sa.String(200)),
        sa.Column("converted_by", sa.String(200)),
        sa.Column("expected_amount", sa.BigInteger()),
        sa.Column("expected_currency", sa.String(3)),
        sa.Column("expected_close_date", sa.Date()),
        _utc("mql_at", nullable=True),
        _utc("assigned_at", nullable=True),
        _utc("sql_at", nullable=True),
        _utc("closed_at", nullable=True),
        _utc("created_at"),
        _utc("updated_at"),
    )
    op.create_index("ix_leads_created_at", "leads", ["created_at"])

    op.create_table(
        "leads_segments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        _utc("materialized_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
    )
    op.create_index("ix_leads_segments_created_at", "leads_segments", ["created_at"])
    op.create_table(
        "leads_segment_members",
        sa.Column("segment_id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.BigInteger(), primary_key=True),
        _utc("added_at"),
    )
    op.create_table(
        "leads_configs",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _utc("created_at"),
    )
    op.create_table(
        "leads_routing_cursors",
        sa.Column("team", sa.String(100), primary_key=True),
        sa.Column("last_rep", sa.String(200)),
        _utc("updated_at"),
    )
    op.create_table(
        "leads_accounts",
        sa.Column("account_id", sa.String(128), primary_key=True),
        sa.Column("company_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("team", sa.String(100)),
        sa.Column("order_id", sa.String(128), nullable=False),
        _utc("onboarded_at"),
    )
    op.create_table(
        "leads_imports",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("nace_revision", sa.String(3), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        _utc("started_at"),
        _utc("finished_at", nullable=True),
    )


def downgrade() -> None:
    for table in (
        "leads_imports",
        "leads_accounts",
        "leads_routing_cursors",
        "leads_configs",
        "leads_segment_members",
        "leads_segments",
        "leads",
        "leads_touchpoints",
        "leads_contacts",
        "leads_companies",
    ):
        op.drop_table(table)
    op.create_table(
        "leads",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(40), nullable=False, index=True),
        sa.Column("owner", sa.String(200), nullable=True, index=True),
        sa.Column("team", sa.String(100), nullable=True, index=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
