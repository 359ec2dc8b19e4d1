"""Services over citizen records: the rules for what is stored, shown and erased."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from citizens.models import CitizenProfile, EventSubscription, LearningNeedRecord
from citizens.registry import CitizenData
from core.database import created_within
from core.grouped_counts import (
    as_date,
    citizens_gathered_by,
    counted_citizens,
    grouped_counts_by,
    iso_week,
    merged,
    utc_day,
    weekly,
)


class ConsentRequiredError(ValueError):
    """Raised when something would be stored without the citizen's explicit consent."""


@dataclass(frozen=True)
class LearningNeed:
    """What a citizen wants to learn, as the needs assessment counts it."""

    topic: str
    district: str | None = None
    preferred_times: str | None = None
    language: str | None = None
    age_group: str | None = None


def channel_of(sender_id: str) -> str:
    """Sender ids are namespaced `channel:id`; the prefix names the channel."""
    return sender_id.split(":", 1)[0] if ":" in sender_id else "unknown"


def _profile(session: Session, sender_id: str, create: bool) -> CitizenProfile | None:
    profile = session.get(CitizenProfile, sender_id)
    if profile is None and create:
        profile = CitizenProfile(sender_id=sender_id, channel=channel_of(sender_id), reachable=True)
        session.add(profile)
        session.flush()
    return profile


def get_language(session: Session, sender_id: str) -> str | None:
    """The language the citizen chose, if they chose one."""
    profile = _profile(session, sender_id, create=False)
    return profile.language if profile else None


def set_language(session: Session, sender_id: str, language: str) -> None:
    """Remember the citizen's chosen language (they asked for it, so this is consented)."""
    profile = _profile(session, sender_id, create=True)
    assert profile is not None
    profile.language = language


def mark_unreachable(session: Session, sender_id: str) -> None:
    """The citizen blocked us: stop sending broadcasts until they write again."""
    profile = _profile(session, sender_id, create=False)
    if profile is not None:
        profile.reachable = False


def mark_reachable(session: Session, sender_id: str) -> None:
    """The citizen wrote to us again, so broadcasts may reach them."""
    profile = _profile(session, sender_id, create=False)
    if profile is not None and not profile.reachable:
        profile.reachable = True


def is_reachable(session: Session, sender_id: str) -> bool:
    profile = _profile(session, sender_id, create=False)
    return profile.reachable if profile else True


def register_learning_need(
    session: Session, sender_id: str, need: LearningNeed, *, consent: bool
) -> LearningNeed:
    """Store a learning need for the needs assessment; refuses without explicit consent."""
    if not consent:
        raise ConsentRequiredError("a learning need is stored only with the citizen's consent")
    if not need.topic.strip():
        raise ValueError("a learning need must name a topic")
    session.add(
        LearningNeedRecord(
            sender_id=sender_id,
            topic=need.topic.strip(),
            district=need.district,
            preferred_times=need.preferred_times,
            language=need.language,
            age_group=need.age_group,
            consent_given_at=datetime.now(UTC),
        )
    )
    session.flush()
    return need


def subscribe_events(
    session: Session,
    sender_id: str,
    *,
    topic: str | None = None,
    district: str | None = None,
    consent: bool,
) -> bool:
    """Subscribe to festival announcements; returns False when already subscribed."""
    if not consent:
        raise ConsentRequiredError("a subscription is stored only with the citizen's consent")
    topic_key, district_key = (topic or "").strip(), (district or "").strip()
    existing = session.scalar(
        select(EventSubscription).where(
            EventSubscription.sender_id == sender_id,
            EventSubscription.topic == topic_key,
            EventSubscription.district == district_key,
        )
    )
    if existing is not None:
        return False
    _profile(session, sender_id, create=True)
    session.add(EventSubscription(sender_id=sender_id, topic=topic_key, district=district_key))
    session.flush()
    return True


def unsubscribe_events(session: Session, sender_id: str, *, topic: str | None = None) -> int:
    """Remove the citizen's subscriptions (all, or those for one topic); returns how many."""
    statement = delete(EventSubscription).where(EventSubscription.sender_id == sender_id)
    if topic:
        statement = statement.where(EventSubscription.topic == topic.strip())
    return session.execute(statement).rowcount or 0


def subscribers_for(
    session: Session, *, topic: str | None = None, district: str | None = None
) -> list[str]:
    """Reachable senders whose subscriptions match an announcement's topic and district.

    An announcement without a topic (or district) is for every topic (district): it reaches
    every subscriber on that axis, as `learncity broadcast` without `--topic` promises.
    """
    rows = session.scalars(select(EventSubscription)).all()
    unreachable = set(
        session.scalars(
            select(CitizenProfile.sender_id).where(CitizenProfile.reachable.is_(False))
        ).all()
    )
    matched: list[str] = []
    for row in rows:
        topic_ok = not topic or not row.topic or row.topic.lower() in topic.lower()
        district_ok = not district or not row.district or row.district == district
        if topic_ok and district_ok and row.sender_id not in unreachable:
            matched.append(row.sender_id)
    return sorted(set(matched))


def learning_need_times(session: Session, sender_id: str) -> list[datetime]:
    """When the citizen registered each learning need, oldest first (the planner's kept day
    counts, which "forget me" drops, are found by these days)."""
    return list(
        session.scalars(
            select(LearningNeedRecord.created_at)
            .where(LearningNeedRecord.sender_id == sender_id)
            .order_by(LearningNeedRecord.id)
        )
    )


def _export_profile(session: Session, sender_id: str) -> dict[str, Any]:
    profile = _profile(session, sender_id, create=False)
    return {
        "language": profile.language if profile else None,
        "reachable": profile.reachable if profile else True,
    }


def _export_needs(session: Session, sender_id: str) -> dict[str, Any]:
    needs = session.scalars(
        select(LearningNeedRecord)
        .where(LearningNeedRecord.sender_id == sender_id)
        .order_by(LearningNeedRecord.id)
    ).all()
    return {
        "learning_needs": [
            asdict(
                LearningNeed(
                    topic=need.topic,
                    district=need.district,
                    preferred_times=need.preferred_times,
                    language=need.language,
                    age_group=need.age_group,
                )
            )
            for need in needs
        ]
    }


def _export_subscriptions(session: Session, sender_id: str) -> dict[str, Any]:
    rows = session.scalars(
        select(EventSubscription)
        .where(EventSubscription.sender_id == sender_id)
        .order_by(EventSubscription.id)
    ).all()
    return {
        "subscriptions": [
            {"topic": row.topic or None, "district": row.district or None} for row in rows
        ]
    }


def _erase_rows(model: Any) -> Any:
    def erase(session: Session, sender_id: str) -> int:
        return session.execute(delete(model).where(model.sender_id == sender_id)).rowcount or 0

    return erase


CITIZEN_DATA = [
    CitizenData(
        "learning_needs", ("learning_needs",), _export_needs, _erase_rows(LearningNeedRecord)
    ),
    CitizenData(
        "event_subscriptions",
        ("event_subscriptions",),
        _export_subscriptions,
        _erase_rows(EventSubscription),
    ),
    CitizenData(
        "citizen_profiles", ("citizen_profiles",), _export_profile, _erase_rows(CitizenProfile)
    ),
]


def needs_summary(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    citizens: bool = False,
) -> dict[str, Any]:
    """Learning needs counted by topic, district, language, preferred time, age group and
    week (ISO, of registration), with no personal data; registered in [since, until) when
    given (the staff console's date range). With `citizens`, each count is of different
    citizens rather than registrations (open data leaves out cells under 5 citizens)."""
    if citizens:
        return _needs_citizens_summary(session, since, until)
    # Counted in SQL (core.grouped_counts; one scan on PostgreSQL), not row by row in Python.
    created = LearningNeedRecord.created_at
    rows = grouped_counts_by(
        session,
        {
            "topic": LearningNeedRecord.topic,
            "district": LearningNeedRecord.district,
            "language": LearningNeedRecord.language,
            "times": LearningNeedRecord.preferred_times,
            "age_group": LearningNeedRecord.age_group,
            "day": utc_day(session, created),
        },
        created,
        since,
        until,
    )
    by_district = merged(rows["district"], _or_unknown)
    return {
        "total": sum(by_district.values()),
        # Topics as citizens typed them; case folded in Python (SQLite's lower() is ASCII only).
        "by_topic": merged(rows["topic"], lambda v: str(v).lower()),
        "by_district": by_district,
        "by_language": merged(rows["language"], _or_unknown),
        # preferred_times holds words such as "weekday evening": each word is counted.
        "by_time": _words_counted(rows["times"]),
        "by_age_group": merged(rows["age_group"], _or_unknown),
        "by_week": weekly(rows["day"]),
    }


def _needs_citizens_summary(
    session: Session, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    """`needs_summary` counting different citizens per cell: a citizen with "Pottery" and
    "pottery", or needs on two days of one week, is one citizen there (open data)."""
    record, created = LearningNeedRecord, LearningNeedRecord.created_at
    gathered = citizens_gathered_by(
        session,
        {
            "by_topic": (record.topic, lambda value: [str(value).lower()]),
            "by_district": (record.district, lambda value: [_or_unknown(value)]),
            "by_language": (record.language, lambda value: [_or_unknown(value)]),
            "by_time": (record.preferred_times, _time_words),
            "by_age_group": (record.age_group, lambda value: [_or_unknown(value)]),
            "by_week": (utc_day(session, created), lambda day: [iso_week(as_date(day))]),
        },
        created,
        since,
        until,
        record.sender_id,
    )
    counted = counted_citizens(gathered)
    everyone = created_within(
        select(func.count(record.sender_id.distinct())), created, since, until
    )
    return {
        "total": int(session.execute(everyone).scalar_one()),
        **counted,
        "by_week": dict(sorted(counted["by_week"].items())),  # type: ignore[type-var]
    }


def _or_unknown(value: Any) -> str:
    return value or "unknown"


def _time_words(value: Any) -> list[str]:
    """The words of a preferred time ("weekday evening"), each counted; none: "unknown"."""
    return (value or "unknown").replace(",", " ").split()


def _words_counted(rows: list[tuple[Any, int]]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for value, count in rows:
        for word in _time_words(value):
            counts[word] += count
    return dict(counts.most_common())
