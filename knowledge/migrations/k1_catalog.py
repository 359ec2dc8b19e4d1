"""knowledge catalog: courses, learning spaces, events, and unmet demand

Revision ID: k1_catalog
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "k1_catalog"
down_revision = None
branch_labels = ("knowledge",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_items",
        sa.Column("id", sa.String(512), primary_key=True),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("audiences", sa.JSON(), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=True),
        sa.Column("price", sa.String(200), nullable=False, server_default=""),
        sa.Column("place_name", sa.String(500), nullable=False, server_default=""),
        sa.Column("address", sa.String(500), nullable=False, server_default=""),
        sa.Column("district", sa.String(120), nullable=False, server_default=""),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("sessions", sa.JSON(), nullable=False),
        sa.Column("opening_hours", sa.Text(), nullable=False, server_default=""),
        sa.Column("amenities", sa.JSON(), nullable=False),
        sa.Column("accessibility", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.String(40), nullable=True),
        sa.Column("ends_at", sa.String(40), nullable=True),
        sa.Column("url", sa.String(1000), nullable=False, server_default=""),
        sa.Column("organizer", sa.String(500), nullable=False, server_default=""),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_catalog_items_source", "catalog_items", ["source"])
    op.create_index("ix_catalog_items_type", "catalog_items", ["type"])
    op.create_index("ix_catalog_items_district", "catalog_items", ["district"])
    op.create_table(
        "unmet_demand",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("query", sa.String(500), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("district", sa.String(120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_unmet_demand_created_at", "unmet_demand", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_unmet_demand_created_at", table_name="unmet_demand")
    op.drop_table("unmet_demand")
    op.drop_index("ix_catalog_items_district", table_name="catalog_items")
    op.drop_index("ix_catalog_items_type", table_name="catalog_items")
    op.drop_index("ix_catalog_items_source", table_name="catalog_items")
    op.drop_table("catalog_items")
