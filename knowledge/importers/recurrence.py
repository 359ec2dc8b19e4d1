"""Reading recurrences the formats write: RRULE-style BYDAY with ordinals ("1SA", "-1FR", in
iCalendar and HSDS), days of the month, schema.org's byMonthWeek / repeatFrequency /
exceptDate, and lists of exception dates.

The result is what `knowledge.documents.Session` holds (days, weeks of the month, days of the
month, interval, exception dates); `knowledge.search.occurrences` turns it into dates. Each
reader raises `RowError` naming the field, so an operator sees which value to fix.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from knowledge.importers.common import DAYS, RowError, normalise_day, normalise_days, text
from knowledge.importers.reasons import reason

EXPECTED_BY_DAY = reason("expect_by_day")
EXPECTED_MONTH_DAYS = reason("expect_month_days")
EXPECTED_WEEKS = reason("expect_weeks")
EXPECTED_FREQUENCY = reason("expect_frequency")
EXPECTED_DATES = reason("expect_dates")
EXPECTED_MONTHS = reason("expect_months")
_ORDINAL_DAY = re.compile(r"^([+-]?\d{1,2})?\s*(.+)$")
_DURATION = re.compile(r"^P(\d+)([DWMY])$")
_FREQUENCY_WORDS = {
    "daily": "daily",
    "weekly": "weekly",
    "monthly": "monthly",
    "yearly": "yearly",
    "annually": "yearly",
}
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NTH = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th", -1: "last", -2: "2nd last"}


def split_values(values: object) -> list[str]:
    """A list, or one text separated by commas, bars or spaces, as its parts."""
    if isinstance(values, list | tuple):
        return [text(value) for value in values if text(value)]
    return [part for part in re.split(r"[|,，、\s]+", text(values)) if part]


def days_by_week_of_month(
    values: object, field_name: str
) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
    """BYDAY parts grouped by the weeks of the month they name: "1SA,3SA,SU" ->
    [(("saturday",), (1, 3)), (("sunday",), ())] (no weeks: every week)."""
    normalise_days(values, field_name)  # one error naming every part that is no day
    weeks_of: dict[str, set[int]] = {}
    every: set[str] = set()
    for part in split_values(values):
        found = _ORDINAL_DAY.match(part.strip())
        number = found.group(1) if found else None
        day = normalise_day(found.group(2) if found else part, field_name)
        if number is None:
            every.add(day)
            continue
        week = int(number)
        if not (1 <= abs(week) <= 5):
            raise RowError(
                field_name,
                reason("week_of_month", value=part, week=week),
                value=part,
                expected=EXPECTED_BY_DAY,
            )
        weeks_of.setdefault(day, set()).add(week)
    groups: dict[tuple[int, ...], list[str]] = {}
    for day in DAYS:
        if day in every:
            groups.setdefault((), []).append(day)
        elif day in weeks_of:
            groups.setdefault(tuple(sorted(weeks_of[day], key=_week_order)), []).append(day)
    return [(tuple(days), weeks) for weeks, days in groups.items()]


def numbers_in(values: object, field_name: str, *, limit: int, expected: str) -> tuple[int, ...]:
    """Whole numbers from 1 to `limit` or -1 to -`limit` (counted from the end)."""
    numbers = []
    for part in split_values(values):
        try:
            number = int(part)
        except ValueError:
            number = 0
        if not (1 <= abs(number) <= limit):
            raise RowError(
                field_name,
                reason("not_a_number_up_to", value=part, limit=limit),
                value=part,
                expected=expected,
            )
        numbers.append(number)
    return tuple(sorted(set(numbers), key=_week_order))


def month_days(values: object, field_name: str) -> tuple[int, ...]:
    return numbers_in(values, field_name, limit=31, expected=EXPECTED_MONTH_DAYS)


def weeks_of_month(values: object, field_name: str) -> tuple[int, ...]:
    return numbers_in(values, field_name, limit=5, expected=EXPECTED_WEEKS)


def months_of_year(values: object, field_name: str) -> tuple[int, ...]:
    """Months of the year, 1 (January) to 12, as a yearly pattern names them."""
    months = numbers_in(values, field_name, limit=12, expected=EXPECTED_MONTHS)
    for month in months:
        if month < 0:
            raise RowError(
                field_name,
                reason("not_a_number_up_to", value=str(month), limit=12),
                value=str(month),
                expected=EXPECTED_MONTHS,
            )
    return months


def yearly_pattern(
    months: tuple[int, ...],
    groups: list[tuple[tuple[str, ...], tuple[int, ...]]],
    on_days: tuple[int, ...],
    first: date | None,
    field_name: str,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A yearly rule's (months, days of the month), as RFC 5545 reads FREQ=YEARLY: no month
    named means the first date's month (plain weekdays alone: every such day of the year,
    no month); no day named means the first date's day. "1SA" without a month (the first
    Saturday of the year) is not supported and is rejected naming it."""
    named_days = any(days for days, _weeks in groups)
    if not months and any(weeks for _days, weeks in groups):
        nth = next(f"{weeks[0]}{days[0][:2].upper()}" for days, weeks in groups if weeks)
        raise RowError(
            field_name,
            reason("yearly_nth_without_month", value=nth),
            value=nth,
            expected=EXPECTED_MONTHS,
        )
    if not months and not named_days:
        if first is None:
            raise RowError(
                field_name,
                reason("yearly_without_month"),
                value="",
                expected=EXPECTED_MONTHS,
            )
        months = (first.month,)
    if months and not named_days and not on_days and first is not None:
        on_days = (first.day,)
    return months, on_days


def repeat_frequency(value: object, field_name: str) -> tuple[str, int]:
    """("weekly" | "monthly" | "yearly" | "daily" | "", interval) from "P2W", "P1M", "P1Y",
    "Weekly"."""
    raw = text(value)
    if not raw:
        return "", 1
    word = _FREQUENCY_WORDS.get(raw.lower().rsplit("/", 1)[-1])
    if word:
        return word, 1
    found = _DURATION.match(raw.upper())
    if found and int(found.group(1)) >= 1:
        unit = {"D": "daily", "W": "weekly", "M": "monthly", "Y": "yearly"}[found.group(2)]
        return unit, int(found.group(1))
    raise RowError(
        field_name, reason("not_a_frequency", value=raw), value=raw, expected=EXPECTED_FREQUENCY
    )


def iso_dates(values: object, field_name: str) -> tuple[str, ...]:
    """ISO dates (the date part of date-times) from a list or a separated text."""
    found = []
    for part in values if isinstance(values, list | tuple) else split_values(values):
        if isinstance(part, datetime):
            found.append(part.date().isoformat())
            continue
        if isinstance(part, date):
            found.append(part.isoformat())
            continue
        raw = text(part)
        try:
            found.append(date.fromisoformat(raw[:10]).isoformat())
        except ValueError:
            raise RowError(
                field_name, reason("not_a_date", value=raw), value=raw, expected=EXPECTED_DATES
            ) from None
    return tuple(sorted(set(found)))


def describe_pattern(
    schedule: str,
    weeks: tuple[int, ...],
    days_of_month: tuple[int, ...],
    interval: int,
    frequency: str,
    months: tuple[int, ...] = (),
) -> str:
    """The schedule line with its pattern in front: "1st, 3rd Sat 10:00", "monthly on day 15,
    10:00", "yearly in Jun on day 1, 10:00", "yearly in Dec, 1st Sat 10:00"."""
    prefix = ""
    if weeks:
        prefix = ", ".join(_NTH.get(week, f"{week}th") for week in weeks)
    elif days_of_month:
        named = ", ".join("the last day" if day == -1 else f"day {day}" for day in days_of_month)
        prefix = f"{'' if months else 'monthly '}on {named}" + ("," if schedule else "")
    if months:
        named_months = ", ".join(_MONTH_NAMES[month - 1] for month in months)
        prefix = f"yearly in {named_months}" + (
            f" {prefix}" if days_of_month else f", {prefix}" if prefix else ""
        )
    if interval > 1:
        unit = {"monthly": "months", "yearly": "years"}.get(frequency, "weeks")
        prefix = f"every {interval} {unit}" + (f", {prefix}" if prefix else "")
    return " ".join(part for part in (prefix, schedule) if part)


def _week_order(number: int) -> int:
    return number if number > 0 else 100 - number
