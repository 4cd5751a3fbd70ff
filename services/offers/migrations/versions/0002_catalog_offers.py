"""catalog, price books, opportunity read model, offers with versions and outcomes

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.drop_table("offers")  # the skeleton's table held no data; replaced by the full one
    op.create_table(
        "offers_products",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(3), nullable=False),
        sa.Column("tax_category", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("requires_skus", sa.JSON(), nullable=False),
        sa.Column("excludes_skus", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
    )
    op.create_index("ix_offers_products_active", "offers_products", ["active"])
    op.create_table(
        "offers_price_books",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("segment", sa.String(100), nullable=True),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
    )
    op.create_index("ix_offers_price_books_currency", "offers_price_books", ["currency"])
    op.create_index("ix_offers_price_books_customer_id", "offers_price_books", ["customer_id"])
    op.create_index("ix_offers_price_books_created_at", "offers_price_books", ["created_at"])
    op.create_table(
        "offers_price_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("book_id", sa.String(36), sa.ForeignKey("offers_price_books.id"), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("option_code", sa.String(64), nullable=False),
        sa.Column("option_value", sa.String(200), nullable=False),
        sa.Column("unit_price", sa.Numeric(20, 6), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.UniqueConstraint(
            "book_id", "sku", "option_code", "option_value", name="uq_offers_price"
        ),
    )
    op.create_index("ix_offers_price_entries_book_id", "offers_price_entries", ["book_id"])
    op.create_index("ix_offers_price_entries_sku", "offers_price_entries", ["sku"])
    op.create_table(
        "offers_opportunities",
        sa.Column("opportunity_id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("account", sa.JSON(), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=True),
        sa.Column("contact", sa.JSON(), nullable=True),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        _utc("updated_at"),
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("approval", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("opportunity_id", sa.String(128), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=True),
        sa.Column("customer_name", sa.String(300), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("offer_version", sa.Integer(), nullable=False),
        sa.Column("sent_version", sa.Integer(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("net", sa.Numeric(18, 4), nullable=False),
        sa.Column("gross", sa.Numeric(18, 4), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
    )
    for column in ("status", "owner", "team", "opportunity_id", "created_at"):
        op.create_index(f"ix_offers_{column}", "offers", [column])
    op.create_index("ix_offers_open_expiry", "offers", ["status", "valid_until"])
    op.create_table(
        "offers_versions",
        sa.Column("offer_id", sa.String(36), sa.ForeignKey("offers.id"), primary_key=True),
        sa.Column("number", sa.Integer(), primary_key=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("approval", sa.String(20), nullable=False),
        sa.Column("approval_reasons", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        _utc("decided_at", nullable=True),
        sa.Column("sent_by", sa.String(128), nullable=True),
        _utc("sent_at", nullable=True),
        _utc("created_at"),
    )
    op.create_table(
        "offers_outcomes",
        sa.Column("offer_id", sa.String(36), sa.ForeignKey("offers.id"), primary_key=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("offer_version", sa.Integer(), nullable=False),
        sa.Column("customer_po_number", sa.String(100), nullable=True),
        sa.Column("customer_person", sa.String(200), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("bill_to", sa.JSON(), nullable=True),
        sa.Column("ship_to", sa.JSON(), nullable=True),
        sa.Column("recorded_by", sa.String(128), nullable=True),
        _utc("recorded_at"),
    )


def downgrade() -> None:
    for table in (
        "offers_outcomes",
        "offers_versions",
        "offers",
        "offers_opportunities",
        "offers_price_entries",
        "offers_price_books",
        "offers_products",
    ):
        op.drop_table(table)
    op.create_table(
        "offers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(40), nullable=False, index=True),
        sa.Column("owner", sa.String(200), nullable=True, index=True),
        sa.Column("team", sa.String(100), nullable=True, index=True),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
