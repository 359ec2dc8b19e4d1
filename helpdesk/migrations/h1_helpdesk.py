"""helpdesk: hand-over chats, their messages, office hours

Revision ID: h1_helpdesk
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "h1_helpdesk"
down_revision = None
branch_labels = ("helpdesk",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "helpdesk_chats",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(160), nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        sa.Column("reason", sa.String(64), nullable=False, server_default="asked"),
        sa.Column("claimed_by", sa.String(64), nullable=True, index=True),
        sa.Column("context", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_citizen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "uq_helpdesk_open_chat",
        "helpdesk_chats",
        ["sender_id"],
        unique=True,
        sqlite_where=sa.text("status != 'ended'"),
        postgresql_where=sa.text("status != 'ended'"),
    )
    op.create_table(
        "helpdesk_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "chat_id", sa.Integer(), sa.ForeignKey("helpdesk_chats.id"), nullable=False, index=True
        ),
        sa.Column("sender_id", sa.String(160), nullable=False, index=True),
        sa.Column("author", sa.String(8), nullable=False),
        sa.Column("staff_name", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_error", sa.String(200), nullable=True),
    )
    op.create_table(
        "helpdesk_office_hours",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("hours", sa.String(200), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("helpdesk_office_hours")
    op.drop_table("helpdesk_messages")
    op.drop_index("uq_helpdesk_open_chat", table_name="helpdesk_chats")
    op.drop_table("helpdesk_chats")
