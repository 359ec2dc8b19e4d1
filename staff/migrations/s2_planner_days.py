"""staff: the planner dashboard's counts kept per day, and erasures that outdate kept counts

Revision ID: s2_planner_days
Revises: s1_staff_accounts
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "s2_planner_days"
down_revision = "s1_staff_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planner_days",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("utc_offset", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
    )
    # "forget me" drops days of every source at once.
    op.create_index("ix_planner_days_day", "planner_days", ["day"])
    op.create_table(
        "planner_erasures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("planner_erasures")
    op.drop_index("ix_planner_days_day", table_name="planner_days")
    op.drop_table("planner_days")
