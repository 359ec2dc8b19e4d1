"""A citizen's unmet searches in "my data", and erased by "forget me" (citizens/registry.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from citizens.registry import CitizenData
from knowledge.models import UnmetDemandRecord


def _export(session: Session, sender_id: str) -> dict[str, Any]:
    rows = session.execute(
        select(UnmetDemandRecord.query, UnmetDemandRecord.created_at)
        .where(UnmetDemandRecord.sender_id == sender_id)
        .order_by(UnmetDemandRecord.id)
    ).all()
    return {
        "unmet_searches": [{"query": query, "at": at.isoformat()} for query, at in rows],
    }


def _erase(session: Session, sender_id: str) -> int:
    result = session.execute(
        delete(UnmetDemandRecord).where(UnmetDemandRecord.sender_id == sender_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


CITIZEN_DATA = [CitizenData("unmet_demand", ("unmet_demand",), _export, _erase)]
