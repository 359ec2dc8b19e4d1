"""The dates a citizen names ("this weekend", 这周末, "mañana"), read in the city's time zone
and said back in their language ("this weekend, 5–6 December").

Reading is `knowledge.resolve_when`; the city's clock is `city: time_zone` in the city file
(docs/city-data.md). LEARNCITY_TODAY pins today, so conversation tests about dated events
do not depend on the day they run.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from actions.messages import say
from knowledge.city import load_city
from knowledge.search import DateSpan, city_calendar, resolve_when

_LABELLED = {  # meanings said in words before the dates; a named weekday shows its date only
    "today",
    "tomorrow",
    "day_after_tomorrow",
    "this_weekend",
    "next_weekend",
    "this_week",
    "next_week",
}


def city_time_zone() -> str:
    """The city's IANA time zone (the city file's `time_zone`)."""
    return load_city().time_zone


def city_today() -> date:
    """Today in the city: LEARNCITY_TODAY when set, else the clock in the city's time zone."""
    return city_calendar(city_time_zone())[0]


def city_now() -> datetime | None:
    """The moment events are judged "still to come" from: the start of a pinned today in the
    city, or None for the clock."""
    return city_calendar(city_time_zone())[1]


def dates_named(text: str | None, today: date | None = None) -> DateSpan | None:
    """The dates `text` names on the city's calendar, or None (a bare "周末" names none)."""
    if not text or text.startswith("/"):
        return None
    return resolve_when(text, today or city_today(), city_time_zone())


def span_as_slot(span: DateSpan) -> dict[str, str]:
    return {"start": span.start.isoformat(), "end": span.end.isoformat(), "meaning": span.meaning}


def span_from_slot(value: Any) -> DateSpan | None:
    if not isinstance(value, dict):
        return None
    try:
        start, end = date.fromisoformat(value["start"]), date.fromisoformat(value["end"])
    except (KeyError, TypeError, ValueError):
        return None
    return DateSpan(start, end, str(value.get("meaning") or ""))


def describe(span: DateSpan, language: str) -> str:
    """The span as the citizen reads it: "this weekend, 5–6 December", "12月5日"."""
    dates = _dates(span, language)
    if span.meaning in _LABELLED:
        return say(
            "dates_labelled", language, when=say(f"when_{span.meaning}", language), dates=dates
        )
    return dates


def _dates(span: DateSpan, language: str) -> str:
    months = [name.strip() for name in say("month_names", language).split(",")]

    def day(value: date) -> str:
        return say("date_day", language, day=value.day, month=months[value.month - 1])

    if span.start == span.end:
        return day(span.start)
    if (span.start.year, span.start.month) == (span.end.year, span.end.month):
        return say(
            "date_days",
            language,
            first=span.start.day,
            last=span.end.day,
            month=months[span.start.month - 1],
        )
    return say("date_range", language, first=day(span.start), last=day(span.end))
