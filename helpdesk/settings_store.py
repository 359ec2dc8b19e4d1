"""Which office hours apply: the ones an admin set in the console, else HELPDESK_OFFICE_HOURS."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.settings import get_settings
from helpdesk.models import OfficeHoursRecord
from helpdesk.office_hours import OfficeHours, OfficeHoursError, parse_office_hours

logger = logging.getLogger(__name__)
_ROW = 1


def current_office_hours(session: Session) -> OfficeHours:
    """The console's hours when set, else the setting's (an unreadable setting stops nothing:
    the desk then says the default hours and the log names the setting)."""
    record = session.get(OfficeHoursRecord, _ROW)
    if record is not None:
        return parse_office_hours(record.hours)
    configured = get_settings().helpdesk_office_hours
    try:
        return parse_office_hours(configured)
    except OfficeHoursError as error:
        logger.error("HELPDESK_OFFICE_HOURS: %s; using mon-fri 09:00-17:00", error)
        return parse_office_hours("mon-fri 09:00-17:00")


def set_office_hours(session: Session, hours: str, staff_name: str) -> OfficeHours:
    """Keep new hours for every gateway (raises OfficeHoursError naming the bad part)."""
    parsed = parse_office_hours(hours)
    record = session.get(OfficeHoursRecord, _ROW)
    if record is None:
        record = OfficeHoursRecord(id=_ROW, hours=parsed.source, updated_by=staff_name)
        session.add(record)
    record.hours, record.updated_by, record.updated_at = (
        parsed.source[:200],
        staff_name,
        datetime.now(UTC),
    )
    session.flush()
    return parsed


def is_open_now(session: Session, now: datetime | None = None) -> bool:
    """Whether a person answers now (the console shows it; citizens are told in their reply)."""
    return current_office_hours(session).is_open(now or datetime.now(UTC), desk_time_zone())


def desk_time_zone() -> str:
    """The city's time zone (the city file), in which the office hours are read."""
    from knowledge.city import load_city

    return load_city().time_zone
