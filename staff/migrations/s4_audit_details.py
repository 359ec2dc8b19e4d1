"""staff: audit entries keep their parameters as data, worded in the reader's language

Revision ID: s4_audit_details
Revises: s3_planner_meanings
Create Date: 2026-12-02

Entries written before keep their English target text; those whose target has a known
shape (an announcement, a chat, a new account, an export's dates) get the same parameters
a new entry stores, so a Chinese auditor reads them in Chinese too. The downgrade drops the
column; the target text was never changed, so nothing is lost either way.
"""

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "s4_audit_details"
down_revision = "s3_planner_meanings"
branch_labels = None
depends_on = None

# The target texts of earlier code, by action (bot/admin as of s3), and the parameters in them.
_OLD_TARGETS = {
    "broadcast_cancel": re.compile(r"announcement (?P<id>\d+)"),
    "broadcast_cancel_refused": re.compile(r"announcement (?P<id>\d+)"),
    "broadcast_send": re.compile(
        r"announcement (?P<id>\d+) (?P<key>\S+) topic=(?P<topic>.*) district=(?P<district>\S+) "
        r"event=(?P<event>\S+) at=(?P<send_at>\S+)"
    ),
    "helpdesk_claim": re.compile(r"chat (?P<chat>\d+)"),
    "helpdesk_end": re.compile(r"chat (?P<chat>\d+)"),
    "helpdesk_transfer": re.compile(r"chat (?P<chat>\d+) to (?P<to>\S+)"),
    "staff_add": re.compile(r"(?P<name>\S+) \((?P<role>[a-z]+)\)"),
    "export_csv": re.compile(r"planner counts (?P<first>[\d-]+)\.\.(?P<last>[\d-]+)"),
    "export_open_data": re.compile(r"planner counts (?P<first>[\d-]+)\.\.(?P<last>[\d-]+)"),
}


def upgrade() -> None:
    op.add_column("staff_audit_log", sa.Column("details", sa.Text(), nullable=True))
    log = sa.table(
        "staff_audit_log",
        sa.column("id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("target", sa.String),
        sa.column("details", sa.Text),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(log.c.id, log.c.action, log.c.target).where(log.c.action.in_(list(_OLD_TARGETS)))
    ).all()
    for row_id, action, target in rows:
        match = _OLD_TARGETS[action].fullmatch(target or "")
        if match is None:
            continue
        details = {
            name: (None if value == "-" else value) for name, value in match.groupdict().items()
        }
        if details.get("send_at") == "now":
            details["send_at"] = None
        connection.execute(
            log.update().where(log.c.id == row_id).values(details=json.dumps(details))
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_audit_log") as batch:
        batch.drop_column("details")
