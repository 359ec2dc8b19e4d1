"""A citizen's unmet searches in "my data", and erased by "forget me" (citizens/registry.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from citizens.registry import CitizenData
from knowledge.models import UnmetDemandRecord


def unmet_searches_of(session: Session, sender_id: str) -> list[tuple[str, datetime]]:
    """The citizen's searches that found nothing, oldest first: (query as asked, when). For
    "my data", and for the planner's kept counts, which "forget me" must find first."""
    rows = session.execute(
        select(UnmetDemandRecord.query, UnmetDemandRecord.created_at)
        .where(UnmetDemandRecord.sender_id == sender_id)
        .order_by(UnmetDemandRecord.id)
    )
    return [(query, at) for query, at in rows]


def _export(session: Session, sender_id: str) -> dict[str, Any]:
    return {
        "unmet_searches": [
            {"query": query, "at": at.isoformat()}
            for query, at in unmet_searches_of(session, sender_id)
        ],
    }


def _erase(session: Session, sender_id: str) -> int:
    result = session.execute(
        delete(UnmetDemandRecord).where(UnmetDemandRecord.sender_id == sender_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


CITIZEN_DATA = [CitizenData("unmet_demand", ("unmet_demand",), _export, _erase)]
