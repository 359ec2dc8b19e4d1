"""Office hours: when a person answers at the help desk, written as `mon-fri 09:00-17:00; sat 10:00-13:00`.

The setting HELPDESK_OFFICE_HOURS gives the default; an admin may change it in the console
(kept in the database, so every gateway replica sees the same). Times are the city's local
time (`time_zone` in the city file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from helpdesk.texts import desk_text

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<opens>\d{1,2}:\d{2})\s*-\s*(?P<closes>\d{1,2}:\d{2})\s*$"
)


class OfficeHoursError(ValueError):
    """Office hours that cannot be read; the message names the part and what is expected."""


@dataclass(frozen=True)
class OpeningSpan:
    first_day: int  # 0 = Monday
    last_day: int
    opens: time
    closes: time  # time.max stands for 24:00

    def covers(self, moment: datetime) -> bool:
        return (
            self.first_day <= moment.weekday() <= self.last_day
            and self.opens <= moment.time() < self.closes
        )


@dataclass(frozen=True)
class OfficeHours:
    spans: tuple[OpeningSpan, ...]
    source: str

    def is_open(self, moment: datetime, time_zone: str) -> bool:
        """Whether a person answers at `moment` (an aware datetime), in the city's time zone."""
        local = moment.astimezone(ZoneInfo(time_zone))
        return any(span.covers(local) for span in self.spans)

    def describe(self, language: str) -> str:
        """The hours in the citizen's language, e.g. "Mon–Fri 09:00–17:00" or "周一至周五 09:00–17:00"."""
        days = desk_text("days", language).split()
        parts = []
        for span in self.spans:
            named = (
                days[span.first_day]
                if span.first_day == span.last_day
                else desk_text(
                    "day_range", language, first=days[span.first_day], last=days[span.last_day]
                )
            )
            closes = "24:00" if span.closes == time.max else span.closes.strftime("%H:%M")
            parts.append(f"{named} {span.opens.strftime('%H:%M')}–{closes}")
        return "; ".join(parts)


def parse_office_hours(text: str) -> OfficeHours:
    """Read `mon-fri 09:00-17:00; sat 10:00-13:00`; raises OfficeHoursError naming the part."""
    spans = []
    for part in [p for p in re.split(r"[;\n]", text.lower()) if p.strip()]:
        match = _PART.match(part)
        if match is None:
            raise OfficeHoursError(
                f"office hours part {part.strip()!r}: write it like 'mon-fri 09:00-17:00'"
            )
        first, last = match["first"], match["last"] or match["first"]
        for day in (first, last):
            if day not in DAY_KEYS:
                raise OfficeHoursError(
                    f"office hours part {part.strip()!r}: {day!r} is not one of {' '.join(DAY_KEYS)}"
                )
        opens, closes = _clock(match["opens"], part), _clock(match["closes"], part)
        if DAY_KEYS.index(first) > DAY_KEYS.index(last) or opens >= closes:
            raise OfficeHoursError(
                f"office hours part {part.strip()!r}: the days and the hours must run forwards"
            )
        spans.append(OpeningSpan(DAY_KEYS.index(first), DAY_KEYS.index(last), opens, closes))
    if not spans:
        raise OfficeHoursError("office hours are empty: write them like 'mon-fri 09:00-17:00'")
    return OfficeHours(tuple(spans), text.strip())


def _clock(value: str, part: str) -> time:
    hours, minutes = (int(number) for number in value.split(":"))
    if (hours, minutes) == (24, 0):
        return time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise OfficeHoursError(f"office hours part {part.strip()!r}: {value} is not a time of day")
    return time(hours, minutes)
