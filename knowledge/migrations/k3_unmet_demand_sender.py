"""knowledge: unmet searches keep the sender id, so "my data" shows them, "forget me" erases
them and open data counts citizens

Revision ID: k3_unmet_demand_sender
Revises: k2_catalog_imports
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "k3_unmet_demand_sender"
down_revision = "k2_catalog_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unmet_demand") as table:
        table.add_column(sa.Column("sender_id", sa.String(255), nullable=True))
    op.create_index("ix_unmet_demand_sender_id", "unmet_demand", ["sender_id"])


def downgrade() -> None:
    op.drop_index("ix_unmet_demand_sender_id", table_name="unmet_demand")
    with op.batch_alter_table("unmet_demand") as table:
        table.drop_column("sender_id")
