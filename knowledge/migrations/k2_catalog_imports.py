"""knowledge: the history of catalog imports (who, when, which files, what changed)

Revision ID: k2_catalog_imports
Revises: k1_catalog
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "k2_catalog_imports"
down_revision = "k1_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_imports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False, server_default=""),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("removed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rejected_rows", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_catalog_imports_at", "catalog_imports", ["at"])


def downgrade() -> None:
    op.drop_index("ix_catalog_imports_at", table_name="catalog_imports")
    op.drop_table("catalog_imports")
