"""citizen records: profiles, learning needs, event subscriptions

Revision ID: c1_citizen_records
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "c1_citizen_records"
down_revision = None
branch_labels = ("citizens",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_profiles",
        sa.Column("sender_id", sa.String(160), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("reachable", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "learning_needs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(160), nullable=False, index=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("district", sa.String(120), nullable=True),
        sa.Column("preferred_times", sa.String(120), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("age_group", sa.String(40), nullable=True),
        sa.Column("consent_given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "event_subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(160), nullable=False, index=True),
        sa.Column("topic", sa.String(200), nullable=False, server_default=""),
        sa.Column("district", sa.String(120), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sender_id", "topic", "district", name="uq_subscription"),
    )


def downgrade() -> None:
    op.drop_table("event_subscriptions")
    op.drop_table("learning_needs")
    op.drop_table("citizen_profiles")
