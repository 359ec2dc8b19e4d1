"""On which dates a session's schedule takes place: weekly, every n weeks, monthly by nth
weekday ("the first Saturday") or by day of the month, yearly in given months (1 June, the
first Saturday of December, every Saturday in July), minus its exception dates.

Dates are the city's own (a session's days and dates are local, as its times are). Before this,
a monthly event ("first Saturday of the month") was listed for every Saturday, since only the
weekday was read; a yearly one was listed every week.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from knowledge.documents import Session

# How far ahead a next date is looked for: a monthly pattern on the 31st or a fifth Saturday
# comes within a year, a series every 6 months and a yearly one too.
HORIZON_DAYS = 400
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def repeats(session: Session) -> bool:
    """Whether the session follows a pattern of days (rather than being one span of dates)."""
    return bool(session.days or session.month_days or session.months)


def held_on(session: Session, day: date) -> bool:
    """Whether a repeating session takes place on `day` (a date in the city)."""
    if session.days and WEEKDAYS[day.weekday()] not in session.days:
        return False  # first: the cheapest test, and most days fail it
    iso = day.isoformat()
    if session.start_date and iso < session.start_date:
        return False
    if session.end_date and session.end_date < iso:
        return False
    if iso in session.except_dates:
        return False
    if session.months:
        if day.month not in session.months:
            return False
        return _in_month_pattern(session, day) and _on_interval(session, day, unit="year")
    if session.monthly:
        return _in_month_pattern(session, day) and _on_interval(session, day, unit="month")
    return bool(session.days) and _on_interval(session, day, unit="week")


def _in_month_pattern(session: Session, day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if session.month_days and not (
        day.day in session.month_days or (day.day - last - 1) in session.month_days
    ):
        return False  # -1 is the month's last day, -2 the one before
    if session.weeks_of_month:
        nth = (day.day - 1) // 7 + 1  # the 1st..5th such weekday of the month
        nth_from_end = -((last - day.day) // 7 + 1)  # -1: the last such weekday
        return nth in session.weeks_of_month or nth_from_end in session.weeks_of_month
    return True


def _on_interval(session: Session, day: date, *, unit: str) -> bool:
    """Every `interval` weeks (months, years), counted from the week (month, year) of its
    start date."""
    if session.interval <= 1 or not session.start_date:
        return True
    try:
        first = date.fromisoformat(session.start_date)
    except ValueError:
        return True
    if unit == "year":
        steps = day.year - first.year
    elif unit == "month":
        steps = (day.year - first.year) * 12 + day.month - first.month
    else:
        steps = (day.toordinal() - day.weekday() - first.toordinal() + first.weekday()) // 7
    return steps % session.interval == 0


def at_clock(day: date, clock: str | None, zone: ZoneInfo) -> datetime:
    """`day` at a session's "HH:MM" in the city; the day's start when no clock is given (or it
    cannot be read), as a session without a time is listed for the whole day."""
    try:
        hour, minute = (int(part) for part in (clock or "00:00").split(":")[:2])
    except ValueError:
        hour, minute = 0, 0
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def next_date(session: Session, day: date, horizon_days: int | None = None) -> date | None:
    """The first date on or after `day` the repeating session takes place (None within the
    horizon: it has ended, or every date left is excepted). The horizon grows with a yearly
    series' interval (a fair every two years)."""
    if horizon_days is None:
        horizon_days = HORIZON_DAYS * (max(session.interval, 1) if session.months else 1)
    for offset in range(horizon_days + 1):
        candidate = date.fromordinal(day.toordinal() + offset)
        if session.end_date and session.end_date < candidate.isoformat():
            return None
        if held_on(session, candidate):
            return candidate
    return None
