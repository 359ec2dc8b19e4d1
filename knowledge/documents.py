"""The in-memory shape of a catalog item: what importers produce and what search indexes.

This is the contract between the importers, the catalog tables and the search index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ItemType = Literal["course", "space", "event"]


@dataclass(frozen=True)
class Session:
    """One scheduled occurrence pattern of a course or event (a schema.org CourseInstance)."""

    schedule_text: str = ""  # human readable, e.g. "Sat 10:00-12:00" / "周六 10:00-12:00"
    days: tuple[str, ...] = ()  # ISO weekday names in English lower case: "monday", ..., "sunday"
    start_time: str | None = None  # "HH:MM" local time
    end_time: str | None = None
    start_date: str | None = None  # ISO date
    end_date: str | None = None
    # Monthly patterns (docs/catalog-formats.md, "Recurrence"): the first and third Saturday
    # are days=("saturday",), weeks_of_month=(1, 3) (-1: the last one of the month); the
    # 15th of each month is month_days=(15,). Neither: every week on `days`.
    weeks_of_month: tuple[int, ...] = ()
    month_days: tuple[int, ...] = ()
    interval: int = 1  # every `interval` weeks (months, years) from start_date
    except_dates: tuple[str, ...] = ()  # ISO dates it does not take place
    # Yearly patterns: the months of the year (1-12) the pattern above holds in; 1 June every
    # year is months=(6,), month_days=(1,); the first Saturday of December months=(12,),
    # days=("saturday",), weeks_of_month=(1,).
    months: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # Read back from JSON (the catalog table, the index journal), lists become tuples again.
        for name in ("days", "weeks_of_month", "month_days", "except_dates", "months"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value or ()))

    @property
    def monthly(self) -> bool:
        return bool(self.weeks_of_month or self.month_days) and not self.months

    @property
    def yearly(self) -> bool:
        return bool(self.months)


@dataclass(frozen=True)
class CatalogItem:
    """A course, learning space or event, keyed by its source's own id."""

    id: str  # the source's own id (schema.org @id, HSDS id, iCal UID, CSV id column)
    type: ItemType
    name: str
    description: str = ""
    source: str = ""  # file or feed it came from
    topics: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # language of instruction, ISO codes ("zh", "en")
    audiences: tuple[str, ...] = ()  # seniors, children, parents, migrants, unemployed, ...
    free: bool | None = None
    price: str = ""  # "免费" / "120 CNY" as given by the source
    place_name: str = ""
    address: str = ""
    district: str = ""
    latitude: float | None = None
    longitude: float | None = None
    sessions: tuple[Session, ...] = ()
    opening_hours: str = ""  # spaces
    amenities: tuple[str, ...] = ()  # spaces
    accessibility: tuple[str, ...] = ()  # wheelchair, hearing_loop, sign_language, ...
    start: str | None = None  # events: ISO datetime
    end: str | None = None
    url: str = ""
    organizer: str = ""
    extra: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def schedule_text(self) -> str:
        """One line saying when: sessions for courses, hours for spaces, dates for events."""
        if self.sessions:
            return "; ".join(s.schedule_text for s in self.sessions if s.schedule_text)
        if self.opening_hours:
            return self.opening_hours
        if self.start:
            return event_when(self.start, self.end)
        return ""

    def search_text(self) -> str:
        """The text the lexical and dense indexes see."""
        parts = [self.name, self.description, " ".join(self.topics), self.place_name, self.district]
        return " \n".join(part for part in parts if part)


def event_when(start: str, end: str | None = None) -> str:
    """An event's dates as people read them, in any language: "2027-04-25 09:00–16:00",
    "2027-04-24 – 2027-04-26"; values that are not ISO dates are shown as written."""
    first, last = _readable(start), _readable(end) if end else None
    if first is None or (end and last is None):
        return f"{start} – {end}" if end else start
    if last is None:
        return " ".join(part for part in first if part)
    if first[0] == last[0] and first[1] and last[1]:
        return f"{first[0]} {first[1]}–{last[1]}"
    if first == last:
        return " ".join(part for part in first if part)
    return f"{' '.join(p for p in first if p)} – {' '.join(p for p in last if p)}"


def _readable(value: str) -> tuple[str, str] | None:
    """(date, time or "") of an ISO date or date-time; the time zone is the source's own."""
    try:
        if "T" in value or " " in value.strip():
            moment = datetime.fromisoformat(value.strip())
            return moment.date().isoformat(), moment.strftime("%H:%M")
        return date.fromisoformat(value.strip()).isoformat(), ""
    except ValueError:
        return None
