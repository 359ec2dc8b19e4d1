"""bot: broadcast deliveries (idempotency per announcement and citizen) and the web chat outbox

Owned by the bot package (models in bot/models.py); kept on the "core" branch so that
`upgrade_database` finds it without a new migration location.

Revision ID: b1_broadcasts_web_outbox
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "b1_broadcasts_web_outbox"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcast_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("announcement_key", sa.String(120), nullable=False, index=True),
        sa.Column("sender_id", sa.String(160), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("announcement_key", "sender_id", name="uq_broadcast_delivery"),
    )
    op.create_table(
        "web_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False, index=True),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("web_outbox")
    op.drop_table("broadcast_deliveries")
