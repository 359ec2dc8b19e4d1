"""Dates and times as the console shows them: in the reader's language, in the city's time zone.

One place formats every date a console page (or its script) shows, so a Chinese reader never
gets the month first: the browser's own date widgets follow the browser's locale, not the
page's, and showed 11/03/2026 on the Chinese dashboard. CSV exports, JSON and `<time
datetime>` attributes keep ISO 8601, which programs read. The patterns are CLDR's medium
(en) and short (fr, es, ru, uk, ar) date forms and zh's long form, with a 24-hour clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RLM = "\u200f"  # keeps the Arabic day/month/year in reading order inside right-to-left text

_DAY_PATTERNS = {
    "zh": "{year}年{month}月{day}日",
    "en": "{day} {month_name} {year}",
    "fr": "{day:02}/{month:02}/{year}",
    "es": "{day}/{month}/{year}",
    "ru": "{day:02}.{month:02}.{year}",
    "uk": "{day:02}.{month:02}.{year}",
    "ar": "{day}" + _RLM + "/{month}" + _RLM + "/{year}",
}


def shown_day(value: date | datetime | str | None, language: str) -> str:
    """`value`'s day as `language` writes it (zh 2026年12月2日, fr 02/12/2026, en 2 Dec 2026);
    an ISO string is read first; None and "" give ""."""
    if value is None or value == "":
        return ""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    pattern = _DAY_PATTERNS.get(language, _DAY_PATTERNS["en"])
    return pattern.format(
        year=day.year, month=day.month, day=day.day, month_name=_MONTHS_EN[day.month - 1]
    )


def in_zone(moment: datetime, zone: tzinfo) -> datetime:
    """A stored time in `zone`; a naive one is UTC (SQLite gives stored UTC times back naive)."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(zone)


def shown_moment(
    value: datetime | str | None, language: str, zone: tzinfo, *, seconds: bool = False
) -> str:
    """`value` in the city's `zone`, as `language` writes a day, then a 24-hour time
    (zh 2026年12月2日 14:05); a naive or ISO value is read as UTC; None and "" give ""."""
    if value is None or value == "":
        return ""
    moment = (
        datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    )
    local = in_zone(moment, zone)
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{shown_day(local, language)} {clock}"


def shown_period(first: date, last: date, language: str) -> str:
    """A range of days, first to last ("2026年11月3日 至 2026年12月2日")."""
    between = {"zh": " 至 ", "ar": " – "}.get(language, " – ")
    return f"{shown_day(first, language)}{between}{shown_day(last, language)}"
