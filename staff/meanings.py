"""Unmet questions' meanings, kept for the planner dashboard: which questions, in any of the
citizens' languages, mean the same thing (bot/admin/unmet_meanings.py decides it when a day's
counts are kept; a dashboard view only reads it).

One row per (model, language, question as counted): its vector (float16, language-centred,
unit length) and its meaning, the id of the first question of that meaning. The questions are
citizens' words: "forget me" deletes the rows of every question the citizen asked
(`forget_citizen_meanings`, run by staff.rollups.forget_citizen_days before the questions go).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.database import Base

_IN_CHUNK = 500  # values per IN (...) list


class PlannerMeaningRecord(Base):
    """One unmet question's meaning under one embedding model."""

    __tablename__ = "planner_meanings"
    __table_args__ = (UniqueConstraint("model", "language", "query", name="uq_planner_meaning"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(8))
    query: Mapped[str] = mapped_column(String(500))
    meaning: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


def known_meanings(
    session: Session, model: str, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """{(question, language): meaning} for those of `pairs` that have one."""
    wanted = set(pairs)
    texts = sorted({question for question, _ in wanted})
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(texts), _IN_CHUNK):
        rows = session.execute(
            select(
                PlannerMeaningRecord.query,
                PlannerMeaningRecord.language,
                PlannerMeaningRecord.meaning,
            ).where(
                PlannerMeaningRecord.model == model,
                PlannerMeaningRecord.query.in_(texts[start : start + _IN_CHUNK]),
            )
        )
        for question, language, meaning in rows:
            if (question, language) in wanted:
                found[(question, language)] = meaning
    return found


def kept_vectors(session: Session, model: str) -> tuple[list[str], list[int], np.ndarray]:
    """Every kept question's (languages, meanings, vectors as float32 rows) for `model`."""
    rows = session.execute(
        select(
            PlannerMeaningRecord.language,
            PlannerMeaningRecord.meaning,
            PlannerMeaningRecord.vector,
        ).where(PlannerMeaningRecord.model == model)
    ).all()
    if not rows:
        return [], [], np.zeros((0, 0), dtype=np.float32)
    vectors = np.vstack([np.frombuffer(vector, dtype=np.float16) for _, _, vector in rows])
    return [row[0] for row in rows], [row[1] for row in rows], vectors.astype(np.float32)


def keep_meaning(
    session: Session, model: str, question: str, language: str, vector: np.ndarray, meaning: int
) -> int:
    """Keep one question with its vector; `meaning` 0: a new meaning (its own id). Returns
    the meaning it was kept with."""
    record = PlannerMeaningRecord(
        model=model,
        language=language,
        query=question[:500],
        meaning=meaning,
        vector=np.asarray(vector, dtype=np.float16).tobytes(),
    )
    session.add(record)
    session.flush()
    if not meaning:
        record.meaning = record.id
        session.flush()
    return record.meaning


def forget_citizen_meanings(session: Session, sender_id: str) -> int:
    """Delete the kept meanings of every unmet question the citizen asked (before those go)."""
    import knowledge  # the questions are kept as planners count them

    asked = knowledge.unmet_searches_of(session, sender_id)
    questions = sorted({knowledge.query_as_counted((query, None))[0] for query, _ in asked})
    dropped = 0
    for start in range(0, len(questions), _IN_CHUNK):
        dropped += (
            session.query(PlannerMeaningRecord)
            .filter(PlannerMeaningRecord.query.in_(questions[start : start + _IN_CHUNK]))
            .delete()
        )
    return dropped
