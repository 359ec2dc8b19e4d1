"""bot: index broadcast deliveries by citizen, which "my data" and "forget me" filter on

The unique key (announcement_key, sender_id) cannot serve a lookup by sender_id alone, so
erasing one citizen scanned every delivery of every announcement.

Revision ID: b2_deliveries_by_sender
Revises: b1_broadcasts_web_outbox
Create Date: 2026-12-01
"""

from alembic import op

revision = "b2_deliveries_by_sender"
down_revision = "b1_broadcasts_web_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_broadcast_deliveries_sender_id", "broadcast_deliveries", ["sender_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_broadcast_deliveries_sender_id", table_name="broadcast_deliveries")
