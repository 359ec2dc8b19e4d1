"""staff: unmet questions' meanings, decided when the planner's day counts are kept

Revision ID: s3_planner_meanings
Revises: s2_planner_days
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "s3_planner_meanings"
down_revision = "s2_planner_days"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planner_meanings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(80), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("query", sa.String(500), nullable=False),
        sa.Column("meaning", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("model", "language", "query", name="uq_planner_meaning"),
    )


def downgrade() -> None:
    op.drop_table("planner_meanings")
