"""bot: announcements (scheduled, sending, done) and their chunks of recipients for the workers

An announcement is stored before anything is sent, so one scheduled for later survives a
restart; its recipients are split into chunks that broadcast workers claim with a lease
(bot/broadcast_jobs.py). Models in bot/broadcast_jobs.py.

Revision ID: b3_broadcast_queue
Revises: b2_deliveries_by_sender
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "b3_broadcast_queue"
down_revision = "b2_deliveries_by_sender"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcast_announcements",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("announcement_key", sa.String(120), nullable=False, index=True),
        sa.Column("texts", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(200), nullable=True),
        sa.Column("district", sa.String(120), nullable=True),
        sa.Column("event_id", sa.String(120), nullable=True),
        sa.Column("resend_unknown", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.String(120), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(64), nullable=False, server_default=""),
        sa.Column("matched", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("already_sent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("to_send", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("baseline", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "broadcast_chunks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "announcement_id",
            sa.Integer(),
            sa.ForeignKey("broadcast_announcements.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sender_ids", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(64), nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("announcement_id", "position", name="uq_broadcast_chunk"),
    )


def downgrade() -> None:
    op.drop_table("broadcast_chunks")
    op.drop_table("broadcast_announcements")
