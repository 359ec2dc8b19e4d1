"""iCalendar (RFC 5545): each VEVENT is an event; RRULE and EXDATE its dates, CATEGORIES its topics.

Besides the standard properties, a few optional `X-LEARNCITY-*` properties carry what iCalendar
has no word for: AUDIENCES, LANGUAGES, PRICE, DISTRICT, ACCESSIBILITY (comma separated).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import icalendar

from knowledge.documents import CatalogItem, Session
from knowledge.importers.common import (
    DAYS,
    ParsedFile,
    RowError,
    RowProblems,
    describe_schedule,
    free_from_price,
    normalise_accessibility,
    normalise_audience,
    normalise_district,
    normalise_language,
    parse_link,
    text,
    unique,
)
from knowledge.importers.reasons import reason
from knowledge.importers.recurrence import (
    days_by_week_of_month,
    describe_pattern,
    iso_dates,
    month_days,
    months_of_year,
    weeks_of_month,
    yearly_pattern,
)

_EXPECTED = {
    "DTSTART": reason("expect_ical_dtstart"),
    "DTEND": reason("expect_ical_dtend"),
    "DURATION": reason("expect_ical_duration"),
    "GEO": reason("expect_ical_geo"),
    "RRULE": reason("expect_ical_rrule"),
}
_BROKEN_MESSAGES = {  # reason codes
    "DTSTART": "ical_not_a_datetime",
    "DTEND": "ical_not_a_datetime",
    "DURATION": "ical_not_a_duration",
    "GEO": "ical_not_a_geo",
    "RRULE": "ical_not_a_rule",
}


def parse_ical(content: str, *, file: str, source: str) -> ParsedFile:
    """Parse every VEVENT; a bad one is rejected by its UID (or its position when it has none)."""
    parsed = ParsedFile(source=source)
    try:
        calendars = icalendar.Calendar.from_ical(content, multiple=True)
    except ValueError as error:
        parsed.readable = False
        parsed.reject(file, "file", "(calendar)", reason("invalid_ical", detail=error))
        return parsed
    events = [event for calendar in calendars for event in calendar.walk("VEVENT")]
    for index, event in enumerate(events):
        uid = text(event.get("UID"))
        position = f"VEVENT UID {uid}" if uid else f"VEVENT {index + 1}"
        if uid:
            parsed.listed_ids.add(uid)
        try:
            item = _item(event, uid, source)
        except RowError as error:
            parsed.reject_error(file, position, error)
            continue
        parsed.add(item, position, file)
    return parsed


def _item(event: Any, uid: str, source: str) -> CatalogItem:
    problems = RowProblems()
    for name, _problem in event.errors:
        raw = event.get(name)
        shown = text(raw) if isinstance(raw, str) else _ical_text(raw)
        problems.add(
            name,
            reason(_BROKEN_MESSAGES.get(name, "ical_unreadable"), value=shown),
            value=shown,
            expected=_EXPECTED.get(name, reason("expect_ical_value")),
        )
    broken = {name for name, _problem in event.errors}
    if not uid:
        problems.add("UID", reason("missing"), value="", expected=reason("expect_uid"))
    summary = text(event.get("SUMMARY"))
    if not summary:
        problems.add("SUMMARY", reason("missing"), value="", expected=reason("expect_title"))
    if event.get("DTSTART") is None and "DTSTART" not in broken:
        problems.add("DTSTART", reason("missing"), value="", expected=_EXPECTED["DTSTART"])
    url = problems.check(parse_link, event.get("URL"), "URL", default="")
    rule = event.get("RRULE") if "RRULE" not in broken else None
    days = problems.check(_rule_days, rule, default=[])
    problems.check(_exception_dates, event, default=())
    problems.raise_if_any()
    start = event.get("DTSTART").dt
    end = event.get("DTEND").dt if event.get("DTEND") is not None else None
    if end is None and event.get("DURATION") is not None:
        end = start + event.get("DURATION").dt
    location = text(event.get("LOCATION"))
    place_name, _, address = location.partition(",")
    geo = event.get("GEO")
    price = text(event.get("X-LEARNCITY-PRICE"))
    return CatalogItem(
        id=uid,
        type="event",
        name=summary,
        description=text(event.get("DESCRIPTION")),
        source=source,
        topics=_categories(event),
        languages=_languages(event),
        audiences=unique(normalise_audience(v) for v in _commas(event, "X-LEARNCITY-AUDIENCES")),
        free=free_from_price(price),
        price=price,
        place_name=place_name.strip(),
        address=address.strip() or location,
        district=normalise_district(event.get("X-LEARNCITY-DISTRICT"))
        or normalise_district(location, strict=True),
        latitude=geo.latitude if geo is not None else None,
        longitude=geo.longitude if geo is not None else None,
        sessions=_sessions(event, rule, days, start, end),
        accessibility=unique(
            normalise_accessibility(v) for v in _commas(event, "X-LEARNCITY-ACCESSIBILITY")
        ),
        start=_iso(start),
        end=_iso(end) if end is not None else None,
        url=url,
        organizer=_organizer(event.get("ORGANIZER")),
    )


def _ical_text(value: Any) -> str:
    """A property as the file wrote it (icalendar escapes `;` and `,` when writing)."""
    written = value.to_ical().decode() if hasattr(value, "to_ical") else text(value)
    return written.replace("\\;", ";").replace("\\,", ",")


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _commas(event: Any, name: str) -> list[str]:
    return [part.strip() for part in text(event.get(name)).split(",") if part.strip()]


def _categories(event: Any) -> tuple[str, ...]:
    values = event.get("CATEGORIES")
    groups = values if isinstance(values, list) else [values] if values is not None else []
    return unique(text(category) for group in groups for category in group.cats)


def _languages(event: Any) -> tuple[str, ...]:
    codes = [normalise_language(v) for v in _commas(event, "X-LEARNCITY-LANGUAGES")]
    for name in ("SUMMARY", "DESCRIPTION"):
        prop = event.get(name)
        if prop is not None and getattr(prop, "params", {}).get("LANGUAGE"):
            codes.append(normalise_language(prop.params["LANGUAGE"]))
    return unique(codes)


def _organizer(value: Any) -> str:
    if value is None:
        return ""
    return text(value.params.get("CN")) or text(value).removeprefix("mailto:")


def _rule_days(rule: Any) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
    """The days an RRULE's BYDAY names, grouped by their weeks of the month ("1SA,3SA": the
    first and third Saturday); BYSETPOS=n with plain days means the nth of them."""
    if rule is None:
        return []
    groups = days_by_week_of_month(list(rule.get("BYDAY") or []), "RRULE")
    positions = weeks_of_month(list(rule.get("BYSETPOS") or []), "RRULE")
    if positions and len(groups) == 1 and not groups[0][1]:
        return [(groups[0][0], positions)]
    return groups


def _sessions(
    event: Any,
    rule: Any,
    groups: list[tuple[tuple[str, ...], tuple[int, ...]]],
    start: date | datetime,
    end: date | datetime | None,
) -> tuple[Session, ...]:
    """A recurring event's pattern (one session per group of days sharing their weeks of the
    month); a one-off event's dates are its start and end."""
    if rule is None:
        return ()
    frequency = text((rule.get("FREQ") or [""])[0]).upper()
    day_of_month = month_days(list(rule.get("BYMONTHDAY") or []), "RRULE")
    if not groups and frequency == "WEEKLY":
        groups = [((DAYS[start.weekday()],), ())]
    elif not groups and frequency == "DAILY":
        groups = [(DAYS, ())]
    elif not groups and frequency == "MONTHLY" and not day_of_month:
        day_of_month = (start.day,)  # FREQ=MONTHLY alone: on DTSTART's day of the month
    months: tuple[int, ...] = ()
    if frequency == "YEARLY":  # in BYMONTH's months (else DTSTART's), "1SA" of each
        first_day = start.date() if isinstance(start, datetime) else start
        named = months_of_year(list(rule.get("BYMONTH") or []), "RRULE")
        months, day_of_month = yearly_pattern(named, groups, day_of_month, first_day, "RRULE")
    elif frequency != "MONTHLY":  # "1SA" means the first of the month only in a monthly rule
        groups = [(days, ()) for days, _weeks in groups]
        day_of_month = ()
    interval = int((rule.get("INTERVAL") or [1])[0] or 1)
    if frequency not in {"WEEKLY", "MONTHLY", "YEARLY"} or (frequency == "YEARLY" and not months):
        interval = 1
    timed = isinstance(start, datetime)
    start_time = start.strftime("%H:%M") if timed else None
    end_time = end.strftime("%H:%M") if timed and isinstance(end, datetime) else None
    first = (start.date() if timed else start).isoformat()
    last = _date_of((rule.get("UNTIL") or [None])[0]) or _last_of_count(rule, start)
    excepted = _exception_dates(event)
    sessions = []
    for days, weeks in groups or [((), ())]:
        schedule = describe_schedule(days, start_time, end_time)
        if frequency == "MONTHLY":
            schedule = describe_pattern(schedule, weeks, day_of_month, interval, "monthly")
        elif frequency == "YEARLY" and months:
            schedule = describe_pattern(schedule, weeks, day_of_month, interval, "yearly", months)
        elif frequency not in {"WEEKLY", "DAILY"}:
            schedule = f"{frequency.lower()} {schedule}".strip()
        elif interval > 1:
            schedule = describe_pattern(schedule, (), (), interval, "weekly")
        sessions.append(
            Session(
                schedule_text=schedule,
                days=days,
                start_time=start_time,
                end_time=end_time,
                start_date=first,
                end_date=last,
                weeks_of_month=weeks,
                month_days=day_of_month,
                interval=interval,
                except_dates=excepted,
                months=months,
            )
        )
    return tuple(sessions)


def _last_of_count(rule: Any, start: date | datetime) -> str | None:
    """The date of the last occurrence of a rule ending after COUNT occurrences."""
    count = (rule.get("COUNT") or [None])[0]
    if not count:
        return None
    from dateutil.rrule import rrulestr

    occurrences = list(rrulestr(rule.to_ical().decode(), dtstart=start))
    return _date_of(occurrences[-1]) if occurrences else None


def _exception_dates(event: Any) -> tuple[str, ...]:
    """EXDATE values (one property or several, each a list of dates or date-times)."""
    values = event.get("EXDATE")
    groups = values if isinstance(values, list) else [values] if values is not None else []
    return iso_dates([moment.dt for group in groups for moment in group.dts], "EXDATE")


def _date_of(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return None
