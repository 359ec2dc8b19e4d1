"""The search policy: what a citizen is shown for one question, fallbacks included.

`answer_search(request)` is the one sequence the chat (actions/search_flow.py) and `learncity search`
both run, so an operator checking an answer with the command line sees what a citizen sees:

1. near a point: within 3 km, then 10 km (`widened`), courses and events on the dates asked for
   if any (none on them nearby: at any date, `dates_missed`); words typed around "near me"
   that match nothing nearby give the nearest places instead (`nearest_instead`);
2. events with no topic: the ones still to come, on the dates asked for if any; none on
   them: the next ones after them (`dates_missed`); courses and events found by topic keep
   to the dates (a session on one of them in the city), none on them: the topic at any date
   (`dates_missed`);
3. a topic that finds nothing is tried again as the citizen's whole sentence
   (`retried_question`: the NLU may have caught only part of it);
4. words that match nothing, with filters (or asking for a place): what the filters allow
   (`browsing`);
5. a topic no filter allows: the topic without the filters (`relaxed`, naming the dropped
   ones: "no evening ones; here are others").

Each fallback taken is a `Note` the chat says aloud and the command line prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from knowledge.search.filters import SearchFilters
from knowledge.search.occurrences import WEEKDAYS
from knowledge.search.results import SearchResult, is_unmet
from knowledge.search.upcoming import happening_within
from knowledge.search.when import DEFAULT_TIME_ZONE, DateSpan

NEAR_RADII_M = (3000.0, 10000.0)  # "near me" first means a walk, then a short ride
DATED_KINDS = ("course", "event")  # what has dates to keep to (spaces have opening hours)
DATE_CANDIDATES = 60  # results on the span's weekdays whose exact dates are checked
# What each kind of question looks among: a course search also finds dated events teaching it.
KIND_TYPES: dict[str, tuple[str, ...]] = {
    "course": ("course", "event"),
    "space": ("space",),
    "event": ("event",),
}

_NOTE_TEXTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "widened": lambda v: (
        f"nothing within {v['from_m'] / 1000:g} km: widened to {v['radius_m'] / 1000:g} km"
    ),
    "nearest_instead": lambda v: "the words matched nothing nearby: the nearest places instead",
    "retried_question": lambda v: (
        f"the topic found nothing: searched the whole sentence “{v['question']}”"
    ),
    "browsing": lambda v: "the words matched nothing: what the filters allow",
    "relaxed": lambda v: (
        "none with "
        + ", ".join(f"{name}={value}" for name, value in v["dropped"].items())
        + ": here are others"
    ),
    "dates_missed": lambda v: (
        f"no {v.get('kind', 'event')}s from {v['start']} to {v['end']}: "
        + ("the next ones" if v.get("kind", "event") == "event" else "others at other dates")
    ),
}


@dataclass(frozen=True)
class Note:
    """A fallback the policy took, said to the citizen (`code` names its message)."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"note": self.code, **self.values}

    def __str__(self) -> str:
        return _NOTE_TEXTS[self.code](self.values)


@dataclass(frozen=True)
class SearchRequest:
    """One question as the policy needs it.

    `query`: the words searched (the topic the NLU read, or the citizen's words when it read
    none: then `topic` is None); `question`: the whole sentence, tried when the topic finds
    nothing; `kind`: course, space or event (None: no kind-specific fallback); `dates`: the
    days named, for courses and events; `language`: the citizen's.
    """

    query: str = ""
    topic: str | None = None
    question: str = ""
    kind: str | None = None
    filters: SearchFilters = field(default_factory=SearchFilters)
    near: tuple[float, float] | None = None
    radii_m: tuple[float, ...] = NEAR_RADII_M
    dates: DateSpan | None = None
    offset: int = 0
    page_size: int = 5
    language: str | None = None
    now: datetime | None = None  # events still to come from (None: the clock)
    time_zone: str = DEFAULT_TIME_ZONE


@dataclass(frozen=True)
class SearchAnswer:
    """What the citizen is shown: one page of results (none when unmet) and why."""

    results: list[SearchResult]
    has_more: bool
    unmet: bool
    notes: tuple[Note, ...] = ()
    closest: list[SearchResult] = field(default_factory=list)  # unmet: the nearest misses

    def noted(self, code: str) -> Note | None:
        return next((note for note in self.notes if note.code == code), None)

    @property
    def browsing(self) -> bool:
        return self.noted("browsing") is not None

    @property
    def relaxed(self) -> bool:
        return self.noted("relaxed") is not None

    @property
    def dates_missed(self) -> bool:
        return self.noted("dates_missed") is not None

    def as_dict(self) -> dict[str, Any]:
        """The JSON `learncity search --json` prints."""
        return {
            "results": [result.as_dict() for result in self.results],
            "has_more": self.has_more,
            "unmet": self.unmet,
            "notes": [note.as_dict() for note in self.notes],
            "closest": [result.as_dict() for result in self.closest],
        }


def answer_search(request: SearchRequest) -> SearchAnswer:
    """One page for `request`, best first (nearest first near a point), after the fallbacks."""
    from knowledge.search import search

    wanted = request.offset + request.page_size + 1
    filters = request.filters
    notes: list[Note] = []
    if request.near is not None:
        results = _near(request, wanted, notes)
    elif request.kind == "event" and not request.query:
        results = _upcoming_events(request, wanted, notes)
    elif request.dates is not None and request.kind in DATED_KINDS:
        results = _on_dates(request, wanted, notes)
    else:
        results = search(request.query, **_options(request, wanted))
    unmet = is_unmet(results)
    if unmet and request.question and request.near is None:
        retried = search(request.question, **_options(request, wanted))
        if not is_unmet(retried):
            results, unmet = retried, False
            notes.append(Note("retried_question", {"question": request.question}))
    browsing = not request.query
    if (
        unmet
        and request.query
        and not request.topic
        and (_narrowing(filters) or request.kind == "space")
        and request.near is None
    ):
        results = search("", **_options(request, wanted))
        unmet, browsing = is_unmet(results), True
    if browsing and request.query:
        notes.append(Note("browsing"))
    if unmet and request.topic and _narrowing(filters) and request.near is None:
        unfiltered = search(
            request.query, **_options(request, wanted, SearchFilters(types=filters.types))
        )
        if not is_unmet(unfiltered):
            results, unmet = unfiltered, False
            notes.append(Note("relaxed", {"dropped": _narrowing(filters)}))
    shown = [result for result in results if result.matched or request.near is not None]
    end = request.offset + request.page_size
    return SearchAnswer(
        results=shown[request.offset : end] if not unmet else [],
        has_more=len(shown) > end and not unmet,
        unmet=unmet,
        notes=tuple(notes),
        closest=results[: request.page_size] if unmet else [],
    )


def city_calendar(time_zone: str) -> tuple[date, datetime | None]:
    """Today in the city and the moment events count as still to come from: LEARNCITY_TODAY
    when set (its midnight in the city), else the clock (and None: the clock)."""
    from core.settings import get_settings

    pinned = get_settings().learncity_today
    if pinned is None:
        return datetime.now(ZoneInfo(time_zone)).date(), None
    return pinned, datetime.combine(pinned, time(0, 0), tzinfo=ZoneInfo(time_zone))


def _narrowing(filters: SearchFilters) -> dict[str, Any]:
    """The filters the citizen set (the kind's types are not a wish that can be relaxed)."""
    return replace(filters, types=()).as_dict()


def _options(
    request: SearchRequest, limit: int, filters: SearchFilters | None = None
) -> dict[str, Any]:
    return {
        "limit": limit,
        "filters": request.filters if filters is None else filters,
        "language": request.language,
    }


def _near(request: SearchRequest, wanted: int, notes: list[Note]) -> list[SearchResult]:
    """Within the first radius, then the wider ones; courses and events on the dates asked
    for, if any (none on them: at any date, said); the words matching nothing: nearest."""
    from knowledge.search import nearby

    assert request.near is not None
    span = request.dates if request.kind in DATED_KINDS else None
    results, radius = _nearest_matches(request, wanted, span)
    if span is not None and is_unmet(results):
        results, radius = _nearest_matches(request, wanted, None)
        if not is_unmet(results):
            notes.append(_dates_missed(span, request.kind))
    if results and not is_unmet(results):
        if radius != request.radii_m[0]:
            notes.append(Note("widened", {"from_m": request.radii_m[0], "radius_m": radius}))
        return results
    if request.query and not request.topic:
        # Words typed around "near me" matched nothing: show what is nearest instead.
        notes.append(Note("nearest_instead"))
        return nearby(
            *request.near,
            radius_m=request.radii_m[-1],
            filters=request.filters,
            limit=wanted,
        )
    return results


def _nearest_matches(
    request: SearchRequest, wanted: int, span: DateSpan | None
) -> tuple[list[SearchResult], float]:
    """The results within the first radius that has a match (and that radius), held on one of
    the days of `span` when given; none anywhere: the widest radius's."""
    from knowledge.search import nearby

    assert request.near is not None
    filters, limit = request.filters, wanted
    if span is not None:
        filters, limit = replace(filters, weekdays=_weekdays(span)), max(wanted, DATE_CANDIDATES)
    results: list[SearchResult] = []
    for radius in request.radii_m:
        results = nearby(
            *request.near,
            radius_m=radius,
            query=request.query or None,
            filters=filters,
            limit=limit,
            language=request.language,
        )
        if span is not None:
            results = happening_within(results, span, request.time_zone)[:wanted]
        if results and not is_unmet(results):
            return results, radius
    return results, request.radii_m[-1]


def _weekdays(span: DateSpan) -> tuple[str, ...]:
    return tuple(WEEKDAYS[day.weekday()] for day in span.days)


def _on_dates(request: SearchRequest, wanted: int, notes: list[Note]) -> list[SearchResult]:
    """Courses or events found by topic that are held on one of the dates asked for: the
    index keeps those held on the span's weekdays, the exact dates are checked on the best
    DATE_CANDIDATES of them. None relevant on those dates: the topic at any date, said."""
    from knowledge.search import search

    assert request.dates is not None
    filters = replace(request.filters, weekdays=_weekdays(request.dates))
    found = search(
        request.query, **_options(request, max(wanted, DATE_CANDIDATES), filters=filters)
    )
    on_dates = happening_within(found, request.dates, request.time_zone)
    if on_dates and not is_unmet(on_dates):
        return [result for result in on_dates if result.matched][:wanted]
    results = search(request.query, **_options(request, wanted))
    if not is_unmet(results):
        notes.append(_dates_missed(request.dates, request.kind))
    return results


def _upcoming_events(request: SearchRequest, wanted: int, notes: list[Note]) -> list[SearchResult]:
    """The events still to come, on the dates asked for if any; when none falls on them, the
    next events after them."""
    from knowledge.search import upcoming_events

    filters, now = request.filters, request.now
    if request.dates is None:
        return upcoming_events(limit=wanted, filters=filters, now=now)
    on_dates = upcoming_events(
        limit=wanted, filters=filters, now=now, within=request.dates, time_zone=request.time_zone
    )
    if on_dates:
        return on_dates
    notes.append(_dates_missed(request.dates, "event"))
    # "What's on this weekend?" read "weekend" as a schedule too; the next events need not be.
    return upcoming_events(limit=wanted, filters=replace(filters, time_of_day=None), now=now)


def _dates_missed(span: DateSpan, kind: str | None) -> Note:
    values = {"start": span.start.isoformat(), "end": span.end.isoformat()}
    return Note("dates_missed", values if kind == "event" else {**values, "kind": kind})
