"""Which announcements each citizen got: the delivery states, and their export and erasure.

Kept apart from `bot.broadcasts` (which imports the channels) so the citizen-data registry
can show and erase deliveries without pulling in any channel.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.models import BroadcastDelivery
from citizens.registry import CitizenData

# sending: claimed right before its send, outcome not yet written (a kill leaves it so);
# delivered; unreachable (blocked the bot); failed (never reached the platform, retried);
# unknown (interrupted or timed out: may have arrived; resent only when the operator asks).
SENDING, DELIVERED, UNREACHABLE, FAILED, UNKNOWN = (
    "sending",
    "delivered",
    "unreachable",
    "failed",
    "unknown",
)


def export_deliveries(session: Session, sender_id: str) -> dict[str, Any]:
    """The announcements a citizen got (or that were tried), for "my data"."""
    rows = session.scalars(
        select(BroadcastDelivery)
        .where(BroadcastDelivery.sender_id == sender_id)
        .order_by(BroadcastDelivery.id)
    ).all()
    return {
        "broadcast_deliveries": [
            {
                "announcement": row.announcement_key,
                "status": row.status,
                "at": row.updated_at.isoformat() if row.updated_at else None,
            }
            for row in rows
        ]
    }


def erase_deliveries(session: Session, sender_id: str) -> int:
    """Forget which announcements a citizen got (after `forget me`); returns how many rows."""
    return (
        session.execute(
            delete(BroadcastDelivery).where(BroadcastDelivery.sender_id == sender_id)
        ).rowcount
        or 0
    )


CITIZEN_DATA = [
    CitizenData(
        name="broadcast_deliveries",
        tables=("broadcast_deliveries",),
        export=export_deliveries,
        erase=erase_deliveries,
    )
]
