"""Search filters (free, audience, language, time of day, weekdays, district, type) over
catalog items.

Each item is reduced once to its `ItemFeatures`; `SearchFilters.matches` checks one item and
`FilterColumns` holds the same features as numpy columns so the index can filter 100k items
in well under a millisecond. Both read the same features, so they always agree.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from knowledge.documents import CatalogItem
from knowledge.importers.common import normalise_audience, normalise_district, normalise_language

TIMES_OF_DAY = ("day", "evening", "weekend", "morning", "weekday")
_TIME_ALIASES = {
    "daytime": "day",
    "weekends": "weekend",
    "weekdays": "weekday",
    "evenings": "evening",
}
_TIME_BIT = {name: 1 << index for index, name in enumerate(TIMES_OF_DAY)}
EVENING_STARTS = "17:00"  # a session starting at or after this is an evening session
MORNING_ENDS = "12:00"
DAY_STARTS = "08:00"
_WEEKEND = {"saturday", "sunday"}
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SHORT_DAYS = {day[:2]: day for day in _DAYS} | {day[:3]: day for day in _DAYS}
_TIME_RANGE = re.compile(r"(\d{1,2}:\d{2})\s*[-–~至到]\s*(\d{1,2}:\d{2})")


@dataclass(frozen=True)
class SearchFilters:
    """What a citizen narrowed the search to; every field left empty means "any"."""

    free_only: bool = False
    audience: str | None = None
    language: str | None = None  # language of instruction
    time_of_day: str | None = None  # day, evening, weekend, morning, weekday
    district: str | None = None
    types: tuple[str, ...] = ()  # course, space, event
    # Held on one of these weekdays ("saturday", ...): the cheap first cut of a search for
    # dates ("this weekend", "tomorrow"); the exact dates are checked on the results
    # (`upcoming.happening_within`). Items with no dated session or start never pass.
    weekdays: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.time_of_day:
            value = _TIME_ALIASES.get(self.time_of_day.lower(), self.time_of_day.lower())
            if value not in TIMES_OF_DAY:
                raise ValueError(
                    f"time_of_day {self.time_of_day!r} is not one of {', '.join(TIMES_OF_DAY)}"
                )
            object.__setattr__(self, "time_of_day", value)
        if self.audience:
            object.__setattr__(self, "audience", normalise_audience(self.audience))
        if self.language:
            object.__setattr__(self, "language", normalise_language(self.language))
        if self.district:
            object.__setattr__(self, "district", normalise_district(self.district))
        object.__setattr__(self, "types", tuple(t.lower() for t in self.types or ()))
        unknown = set(self.weekdays) - set(_DAYS)
        if unknown:
            raise ValueError(f"weekdays {sorted(unknown)} are not among {', '.join(_DAYS)}")
        object.__setattr__(self, "weekdays", tuple(sorted(set(self.weekdays), key=_DAYS.index)))

    def is_empty(self) -> bool:
        return not any(asdict(self).values())

    def as_dict(self) -> dict[str, Any]:
        """The filters that are set, for logs and unmet-demand records."""
        return {key: value for key, value in asdict(self).items() if value not in (None, False, ())}

    def matches(self, item: CatalogItem) -> bool:
        """Whether one item passes every filter that is set."""
        return self.matches_features(item_features(item))

    def matches_features(self, features: ItemFeatures) -> bool:
        if self.free_only and not features.free:
            return False
        if self.types and features.type not in self.types:
            return False
        if self.district and features.district != self.district:
            return False
        if self.audience and self.audience not in features.audiences:
            return False
        if self.language and features.languages and self.language not in features.languages:
            return False
        if self.weekdays and not features.weekdays.intersection(self.weekdays):
            return False
        return not (self.time_of_day and self.time_of_day not in features.times)


@dataclass(frozen=True)
class ItemFeatures:
    """The facts about an item that filters look at."""

    type: str
    free: bool
    district: str
    audiences: frozenset[str]
    languages: frozenset[str]  # empty: not stated, passes any language filter
    times: frozenset[str]
    weekdays: frozenset[str] = frozenset()  # the days of the week it may be held on


def item_features(item: CatalogItem) -> ItemFeatures:
    return ItemFeatures(
        type=item.type,
        free=item.free is True,
        district=normalise_district(item.district) if item.district else "",
        audiences=frozenset(normalise_audience(a) for a in item.audiences),
        languages=frozenset(normalise_language(language) for language in item.languages),
        times=frozenset(_times(item)),
        weekdays=frozenset(_weekdays(item)),
    )


def _weekdays(item: CatalogItem) -> set[str]:
    """The weekdays an item may be held on: its sessions' days; a session by day of the month
    or a span of dates, the weekdays its dates can fall on; else its start to end."""
    found: set[str] = set()
    for session in item.sessions:
        if session.days:
            found |= set(session.days)
        elif session.month_days or session.months:
            return set(_DAYS)  # the 15th (1 June) falls on any weekday
        else:
            found |= _weekdays_between(session.start_date, session.end_date)
    if not item.sessions:
        found |= _weekdays_between(item.start, item.end)
    return found


def _weekdays_between(first: str | None, last: str | None) -> set[str]:
    """The weekdays from `first` to `last` (dates or date-times; no last: `first` alone)."""
    start = _day_of(first)
    if start is None:
        return set()
    end = _day_of(last) or start
    days = min(max((end - start).days + 1, 1), 7)
    return {_DAYS[(start.weekday() + offset) % 7] for offset in range(days)}


def _day_of(iso: str | None) -> date | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).date() if "T" in iso else date.fromisoformat(iso[:10])
    except ValueError:
        return None


def _times(item: CatalogItem) -> set[str]:
    """Time-of-day tags: from sessions, else an event's start, else a space's opening hours."""
    times: set[str] = set()
    for session in item.sessions:
        days = set(session.days) or _weekday_of(session.start_date)
        times |= _day_tags(days)
        if session.start_time:
            times |= _start_tags(session.start_time)
    if item.start and not item.sessions:
        times |= _day_tags(_weekday_of(item.start))
        if "T" in item.start:
            times |= _start_tags(item.start.split("T", 1)[1][:5])
    if item.opening_hours and not item.sessions:
        times |= _opening_tags(item.opening_hours)
    return times


def _day_tags(days: set[str]) -> set[str]:
    tags = set()
    if days & _WEEKEND:
        tags.add("weekend")
    if days - _WEEKEND:
        tags.add("weekday")
    return tags


def _start_tags(start: str) -> set[str]:
    start = start.zfill(5)
    if start >= EVENING_STARTS:
        return {"evening"}
    tags = {"morning"} if start < MORNING_ENDS else set()
    if start >= DAY_STARTS or start < MORNING_ENDS:
        tags.add("day")
    return tags


def _opening_tags(opening_hours: str) -> set[str]:
    """A space is open "in the evening" if it closes after 18:00, "in the morning" if it opens
    before noon; its days come from day names in the same segment (none named: every day)."""
    tags: set[str] = set()
    for segment in re.split(r"[;；\n]", opening_hours):
        times = _TIME_RANGE.findall(segment)
        if not times:
            continue
        days = _days_in(segment) or set(_DAYS)
        tags |= _day_tags(days)
        for opens, closes in times:
            opens, closes = opens.zfill(5), closes.zfill(5)
            if closes > "18:00" or closes < opens:
                tags.add("evening")
            if opens < MORNING_ENDS:
                tags.add("morning")
            if opens < "17:00" and closes > DAY_STARTS:
                tags.add("day")
    return tags


def _days_in(segment: str) -> set[str]:
    words = re.findall(r"[a-z]+", segment.lower())
    named = [_SHORT_DAYS.get(word[:3]) or _SHORT_DAYS.get(word[:2]) for word in words]
    named = [day for day in named if day]
    if not named:
        return set()
    ranges = re.findall(r"([a-z]{2,9})\s*-\s*([a-z]{2,9})", segment.lower())
    days = set(named)
    for first, last in ranges:
        start, end = _SHORT_DAYS.get(first[:3]), _SHORT_DAYS.get(last[:3])
        if start and end:
            i, j = _DAYS.index(start), _DAYS.index(end)
            days |= set(_DAYS[i : j + 1]) if i <= j else set(_DAYS[i:] + _DAYS[: j + 1])
    return days


def _weekday_of(iso: str | None) -> set[str]:
    day = _day_of(iso)
    return set() if day is None else {_DAYS[day.weekday()]}


def _weekday_mask(days: frozenset[str] | tuple[str, ...]) -> int:
    return sum(1 << _DAYS.index(day) for day in set(days))


class FilterColumns:
    """Item features as numpy columns, one row per index slot, for fast vectorised filtering."""

    _NO_LANGUAGE_BIT = 1 << 62

    def __init__(self) -> None:
        self.free = np.zeros(0, dtype=bool)
        self.type_code = np.zeros(0, dtype=np.int16)
        self.district_code = np.zeros(0, dtype=np.int16)
        self.audience_bits = np.zeros(0, dtype=np.int64)
        self.language_bits = np.zeros(0, dtype=np.int64)
        self.time_bits = np.zeros(0, dtype=np.int8)
        self.weekday_bits = np.zeros(0, dtype=np.int8)
        self._codes: dict[str, dict[str, int]] = {"type": {}, "district": {}}
        self._bits: dict[str, dict[str, int]] = {"audience": {}, "language": {}}

    def __len__(self) -> int:
        return len(self.free)

    def append(self, features_list: list[ItemFeatures]) -> None:
        """Add rows for new slots, in slot order."""
        self.free = np.concatenate([self.free, [f.free for f in features_list]]).astype(bool)
        self.type_code = self._extend(self.type_code, "type", [f.type for f in features_list])
        self.district_code = self._extend(
            self.district_code, "district", [f.district for f in features_list]
        )
        self.audience_bits = np.concatenate(
            [self.audience_bits, [self._mask("audience", f.audiences) for f in features_list]]
        ).astype(np.int64)
        self.language_bits = np.concatenate(
            [
                self.language_bits,
                [
                    self._mask("language", f.languages) if f.languages else self._NO_LANGUAGE_BIT
                    for f in features_list
                ],
            ]
        ).astype(np.int64)
        self.time_bits = np.concatenate(
            [self.time_bits, [sum(_TIME_BIT[t] for t in f.times) for f in features_list]]
        ).astype(np.int8)
        self.weekday_bits = np.concatenate(
            [self.weekday_bits, [_weekday_mask(f.weekdays) for f in features_list]]
        ).astype(np.int8)

    def mask(self, filters: SearchFilters) -> np.ndarray:
        """True for every slot whose item passes `filters`."""
        keep = np.ones(len(self), dtype=bool)
        if filters.free_only:
            keep &= self.free
        if filters.types:
            codes = [self._codes["type"].get(t, -1) for t in filters.types]
            keep &= np.isin(self.type_code, codes)
        if filters.district:
            keep &= self.district_code == self._codes["district"].get(filters.district, -1)
        if filters.audience:
            bit = self._bits["audience"].get(filters.audience, 0)
            keep &= (self.audience_bits & bit) != 0
        if filters.language:
            bit = self._bits["language"].get(filters.language, 0) | self._NO_LANGUAGE_BIT
            keep &= (self.language_bits & bit) != 0
        if filters.time_of_day:
            keep &= (self.time_bits & _TIME_BIT[filters.time_of_day]) != 0
        if filters.weekdays:
            keep &= (self.weekday_bits & _weekday_mask(filters.weekdays)) != 0
        return keep

    def teaches_in(self, slot: int, language: str) -> bool:
        """Whether the item in `slot` states `language` as a language of instruction."""
        bit = self._bits["language"].get(language, 0)
        return bool(self.language_bits[slot] & bit)

    def _extend(self, column: np.ndarray, name: str, values: list[str]) -> np.ndarray:
        codes = self._codes[name]
        new = [codes.setdefault(value, len(codes)) for value in values]
        return np.concatenate([column, np.asarray(new, dtype=column.dtype)])

    def _mask(self, name: str, values: frozenset[str]) -> int:
        bits = self._bits[name]
        mask = 0
        for value in values:
            if value not in bits:
                if len(bits) >= 62:  # past 62 distinct values, share the last bit (may over-match)
                    bits[value] = 1 << 61
                else:
                    bits[value] = 1 << len(bits)
            mask |= bits[value]
        return mask
