"""The catalog's upcoming events as an organizer picks one to announce: the list (soonest
first, filtered by words), and what choosing one fills in (a starting text in each language
with the event's name, next date, time and place; the narrowing to its topics and district).

Read through the knowledge package's public names (`all_items`, `get_item`) and the city file:
the console process needs no search index for this, and a repeating event shows its next
meeting not yet ended in the city's time zone (`knowledge.search.occurrences.next_date`, the
rule search uses, asked from tomorrow once today's meeting is over).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session as DbSession

import knowledge
from bot.admin.dates import shown_day
from knowledge.city import City
from knowledge.search.occurrences import at_clock, next_date, repeats

MAX_LISTED_EVENTS = 100

# "When" and "where" and the weekdays in each language the starting text is written in.
_WORDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "zh": ("时间", "地点", ("周一", "周二", "周三", "周四", "周五", "周六", "周日")),
    "en": ("When", "Where", ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")),
    "es": ("Cuándo", "Dónde", ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")),
    "fr": ("Quand", "Où", ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")),
    "ar": (
        "الموعد",
        "المكان",
        ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"),
    ),
    "ru": ("Когда", "Где", ("пн", "вт", "ср", "чт", "пт", "сб", "вс")),
    "uk": ("Коли", "Де", ("пн", "вт", "ср", "чт", "пт", "сб", "нд")),
}
_COLON = {"zh": "：", "fr": " : "}
_RIGHT_TO_LEFT = ("ar",)


def _isolated(text: str) -> str:
    """`text` as a left-to-right island inside a right-to-left line (Unicode LRI … PDI)."""
    return f"\u2066{text}\u2069"


@dataclass(frozen=True)
class EventChoice:
    """One event as the announcement form lists it."""

    id: str
    name: str
    starts: datetime | None  # next start in the city's time zone
    ends: datetime | None
    has_time: bool
    place: str
    district: str  # the city's district key, "" when the event names none
    topics: tuple[str, ...]

    @property
    def narrowing_topic(self) -> str:
        """The topic box's value: a subscriber whose topic is one of these matches
        (`citizens.subscribers_for` matches a subscribed topic found within it)."""
        return ", ".join(self.topics)[:200]

    def when(self, language: str = "") -> str:
        """ "2027-04-24 09:30–17:00" in the city's time zone (no weekday: `starting_texts`);
        the days as `language` writes them (bot/admin/dates.py) when one is given."""
        if self.starts is None:
            return ""

        def day_of(moment: datetime) -> str:
            return shown_day(moment, language) if language else moment.date().isoformat()

        day = day_of(self.starts)
        if not self.has_time:
            return (
                day
                if not self.ends or self.ends.date() == self.starts.date()
                else (f"{day} – {day_of(self.ends)}")
            )
        text = f"{day} {self.starts:%H:%M}"
        if self.ends and self.ends.date() == self.starts.date() and self.ends > self.starts:
            text += f"–{self.ends:%H:%M}"
        elif self.ends and self.ends.date() > self.starts.date():  # a week, a festival
            text += f" – {day_of(self.ends)}"
        return text


def upcoming_events(
    session: DbSession, city: City, *, words: str = "", now: datetime | None = None
) -> list[EventChoice]:
    """Events not yet over, soonest first, those whose name, place, district or topics
    contain every word of `words` (case-insensitive); at most MAX_LISTED_EVENTS."""
    zone = ZoneInfo(city.time_zone)
    moment = (now or datetime.now(UTC)).astimezone(zone)
    wanted = words.lower().split()
    found: list[EventChoice] = []
    for item in knowledge.all_items(session):
        if item.type != "event":
            continue
        choice = _choice(item, city, zone, moment)
        if choice is None or choice.starts is None:
            continue
        haystack = " ".join([choice.name, choice.place, item.district, *choice.topics]).lower()
        if all(word in haystack for word in wanted):
            found.append(choice)
    found.sort(key=lambda choice: (choice.starts, choice.name))
    return found[:MAX_LISTED_EVENTS]


def event_by_id(
    session: DbSession, city: City, event_id: str, now: datetime | None = None
) -> EventChoice | None:
    """The catalog event `event_id` (None when there is no event with that id)."""
    item = knowledge.get_item(session, event_id)
    if item is None or item.type != "event":
        return None
    zone = ZoneInfo(city.time_zone)
    moment = (now or datetime.now(UTC)).astimezone(zone)
    return _choice(item, city, zone, moment, keep_past=True)


def starting_texts(event: EventChoice, city: City) -> dict[str, str]:
    """An editable first text in each language: the name, the next date (with its weekday)
    and time, and the place with the district's name in that language."""
    texts = {}
    for language, (when_word, where_word, weekdays) in _WORDS.items():
        colon = _COLON.get(language, ": ")
        # In Arabic the date and a Latin place are isolated left-to-right (LRI … PDI), else
        # "2026-12-12 14:00–16:00" reads "16:00–14:00 12-12-2026" in a right-to-left line.
        ltr = _isolated if language in _RIGHT_TO_LEFT else str
        lines = [event.name]
        if event.starts is not None:
            weekday = weekdays[event.starts.weekday()]
            lines.append(f"{when_word}{colon}{weekday} {ltr(event.when())}")
        district = city.district_name(event.district, language) if event.district else ""
        place = ", ".join(
            part for part in (ltr(event.place) if event.place else "", district) if part
        )
        if place:
            lines.append(f"{where_word}{colon}{place}")
        texts[language] = "\n".join(lines)
    return texts


def _choice(
    item: knowledge.CatalogItem,
    city: City,
    zone: ZoneInfo,
    moment: datetime,
    *,
    keep_past: bool = False,
) -> EventChoice | None:
    """The event's next start (None when it is over, unless `keep_past`)."""
    starts, ends, has_time = _next_dates(item, zone, moment)
    if starts is None and not keep_past:
        return None
    place = ", ".join(part for part in (item.place_name, item.address) if part)
    return EventChoice(
        id=item.id,
        name=item.name,
        starts=starts,
        ends=ends,
        has_time=has_time,
        place=place,
        district=city.district_key(item.district, item.place_name, item.address),
        topics=item.topics,
    )


def _next_dates(
    item: knowledge.CatalogItem, zone: ZoneInfo, moment: datetime
) -> tuple[datetime | None, datetime | None, bool]:
    """(next start, its end, whether a time is known) in the city; (None, None, False) when
    the event is over or has no date."""
    options: list[tuple[datetime, datetime | None, bool]] = []
    for session in item.sessions:
        if not repeats(session):
            continue
        day = next_date(session, moment.date())
        if day is not None and _over(session, day, zone, moment):
            # Today's meeting has ended: the next one, from tomorrow (a weekly event had
            # dropped from the list for the rest of its day).
            day = next_date(session, day + timedelta(days=1))
        if day is None:
            continue
        starts, ends = _meeting(session, day, zone)
        options.append((starts, ends, bool(session.start_time)))
    if options:
        return min(options, key=lambda option: option[0])
    starts = _moment(item.start, zone)
    if starts is None:
        return None, None, False
    ends = _moment(item.end, zone) if item.end else None
    has_time = "T" in (item.start or "")
    last = ends or (starts if has_time else starts.replace(hour=23, minute=59))
    if last < moment:
        return None, None, False
    return starts, ends, has_time


def _meeting(
    session: knowledge.Session, day: date, zone: ZoneInfo
) -> tuple[datetime, datetime | None]:
    """When a repeating session meets on `day`: its start and end in the city (no end time:
    None, and it counts as lasting the day)."""
    starts = at_clock(day, session.start_time, zone)
    return starts, at_clock(day, session.end_time, zone) if session.end_time else None


def _over(session: knowledge.Session, day: date, zone: ZoneInfo, moment: datetime) -> bool:
    """Whether the session's meeting on `day` has ended by `moment`."""
    starts, ends = _meeting(session, day, zone)
    return (ends or starts.replace(hour=23, minute=59)) < moment


def _moment(value: str | None, zone: ZoneInfo) -> datetime | None:
    """An ISO date or date-time in the city's time zone (naive ones are read as city time)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)
