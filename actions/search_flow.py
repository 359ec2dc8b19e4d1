"""The search conversation's rules: what a question asks for, how follow-ups refine it, paging.

Actions keep one `SearchState` per conversation (in the `last_search` slot, as a dict) so
"more", "only weekends?", "free only" and a shared location continue the previous search.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import knowledge
from actions import event_dates
from core.database import session_scope
from core.replies import Card
from knowledge import DATED_KINDS, KIND_TYPES, Note, SearchFilters, SearchRequest, SearchResult

PAGE_SIZE = 5
KIND_INTENTS = {"course": "search_course", "space": "find_learning_space", "event": "list_events"}
_FILTER_ENTITIES = ("schedule", "price", "audience", "district")
_CARD_TEXT_FIELDS = ("name", "place", "schedule", "price", "url")

# "near me" in the seven languages; a district named in the same message wins over these.
_NEAR_ME = re.compile(
    r"near me|nearby|near here|close to me|around here|closest|nearest|附近|周边|离我近|我家旁边"
    r"|cerca de mí|cerca de aquí|cercan[oa]s?|\bcerca\b|près de moi|près d'ici|à proximité"
    r"|proche de moi|pas loin"
    r"|قريب|بالقرب|рядом|поблизости|недалеко|поруч|неподалік|біля мене",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SearchState:
    """One search as the conversation remembers it."""

    kind: str = "course"  # course, space, event
    query: str = ""
    topic: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)  # SearchFilters fields that are set
    offset: int = 0
    near: tuple[float, float] | None = None
    question: str = ""  # the citizen's own words, tried when the topic alone finds nothing
    dates: dict[str, str] | None = None  # courses, events: the days named ("this weekend")
    # "cheaper?": only results below this price (free ones always), cheapest first
    # (actions/follow_up.py); None when the citizen did not ask for cheaper.
    cheaper_than: float | None = None

    def search_filters(self) -> SearchFilters:
        return SearchFilters(types=KIND_TYPES[self.kind], **self.filters)

    def as_slot(self) -> dict[str, Any]:
        data = asdict(self)
        data["near"] = list(self.near) if self.near else None
        return data

    @classmethod
    def from_slot(cls, value: Mapping[str, Any] | None) -> SearchState | None:
        if not value:
            return None
        near = value.get("near")
        return cls(
            kind=value.get("kind", "course"),
            query=value.get("query", ""),
            topic=value.get("topic"),
            filters=dict(value.get("filters") or {}),
            offset=int(value.get("offset") or 0),
            near=(float(near[0]), float(near[1])) if near else None,
            question=value.get("question", ""),
            dates=dict(value["dates"]) if isinstance(value.get("dates"), dict) else None,
            cheaper_than=_number(value.get("cheaper_than")),
        )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


@dataclass(frozen=True)
class SearchPage:
    """What one turn shows: up to a page of results, whether there are more, and why."""

    state: SearchState
    results: list[SearchResult]
    has_more: bool
    unmet: bool
    browsing: bool = False  # no topic matched, showing what the filters allow
    # Nothing passed the citizen's filters, so these results are the topic without them
    # (the filtered search still counts as unmet demand for the planners).
    relaxed: bool = False
    # Nothing falls on the dates asked for: these are the next events after them, or the
    # courses of the topic at other dates.
    dates_missed: bool = False
    notes: tuple[Note, ...] = ()  # every fallback the search policy took (knowledge.Note)

    def noted(self, code: str) -> Note | None:
        """The policy's note of that kind ("widened", "relaxed", ...), if it took that step."""
        return next((note for note in self.notes if note.code == code), None)


def filters_from_entities(entities: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """SearchFilters fields from the NLU's normalised entities (schedule, price, audience, district)."""
    filters: dict[str, Any] = {}
    for entity in entities:
        name, value = entity.get("entity"), entity.get("value")
        if not isinstance(value, str) or not value.strip():
            continue
        if name == "schedule":
            try:
                filters["time_of_day"] = SearchFilters(time_of_day=value).time_of_day
            except ValueError:
                continue  # a time the filters do not know ("afternoon") narrows nothing
        elif name == "price" and value.lower() == "free":
            filters["free_only"] = True
        elif name == "audience":
            filters["audience"] = value
        elif name == "district":
            filters["district"] = value
    return filters


def language_as_topic(entities: Iterable[Mapping[str, Any]], text: str | None) -> str | None:
    """A language named in a course search ("French lessons", "cursos de inglés") is what the
    citizen wants to learn: the words they wrote for it, as the topic."""
    for entity in entities:
        if entity.get("entity") != "language":
            continue
        start, end = entity.get("start"), entity.get("end")
        if text and isinstance(start, int) and isinstance(end, int) and 0 <= start < end:
            written = text[start:end].strip()
            if written:
                return written
    return None


def _without_filter_words(text: str, entities: Iterable[Mapping[str, Any]]) -> str:
    """The citizen's words without those the NLU read as a district, time, price, audience or
    language: tried again as a search, "in Nanhu for seniors" would match everything there."""
    spans = sorted(
        (entity["start"], entity["end"])
        for entity in entities
        if entity.get("entity") in (*_FILTER_ENTITIES, "language")
        and isinstance(entity.get("start"), int)
        and isinstance(entity.get("end"), int)
    )
    kept, position = [], 0
    for start, end in spans:
        if start >= position:
            kept.append(text[position:start])
            position = end
    kept.append(text[position:])
    return " ".join("".join(kept).split())


def first_entity(entities: Iterable[Mapping[str, Any]], name: str) -> str | None:
    for entity in entities:
        if entity.get("entity") == name and str(entity.get("value") or "").strip():
            return str(entity["value"]).strip()
    return None


def written_topic(entities: Sequence[Mapping[str, Any]], text: str | None) -> str | None:
    """The topic, with the words next to it that the NLU tagged as topics of their own.

    DIET sometimes tags one phrase as two topics ("لغة" + "إنجليزية" in "دورة لغة إنجليزية",
    "language" + "English"); the first alone would search for any language course. Adjacent
    topic spans (only spaces between) are one topic, as the citizen wrote it."""
    topics = [
        entity
        for entity in entities
        if entity.get("entity") == "topic"
        and isinstance(entity.get("start"), int)
        and isinstance(entity.get("end"), int)
    ]
    topics.sort(key=lambda entity: entity["start"])
    if not text or len(topics) < 2:
        return first_entity(entities, "topic")
    start, end = topics[0]["start"], topics[0]["end"]
    for entity in topics[1:]:
        if entity["start"] < end or text[end : entity["start"]].strip():
            break
        end = entity["end"]
    if end == topics[0]["end"]:
        return first_entity(entities, "topic")
    return " ".join(text[start:end].split()) or None


def is_near_me(text: str | None, entities: Sequence[Mapping[str, Any]] = ()) -> bool:
    """Whether the citizen asked for something near where they are (not near a named district)."""
    if not text or text.startswith("/") or first_entity(entities, "district"):
        return False
    return bool(_NEAR_ME.search(text))


def plan_search(
    kind: str,
    *,
    text: str | None,
    entities: Sequence[Mapping[str, Any]],
    previous: SearchState | None,
    refine_previous: bool = False,
) -> SearchState | None:
    """The search this message asks for; None when it asks for nothing we can search yet.

    A message with no topic but a filter ("only weekends?", "free", "in Nanhu") refines the
    previous search of the same kind (or of any kind for a bare `inform` answer).
    """
    typed = text if text and not text.startswith("/") else None
    topic = written_topic(entities, typed)
    if topic is None and kind == "course":
        topic = language_as_topic(entities, typed)
    filters = filters_from_entities(entities)
    refines = previous is not None and not topic and (refine_previous or previous.kind == kind)
    # "and next weekend?" after "what's on?" dates the events; after a course search, the
    # courses. The search policy keeps to the courses and events with a session on those
    # dates (knowledge.answer_search), not to every course held on their weekdays.
    target = previous.kind if refines and previous is not None else kind
    span = event_dates.dates_named(typed)
    dates = event_dates.span_as_slot(span) if span and target in DATED_KINDS else None
    if refines and previous is not None and (filters or refine_previous or dates):
        merged = {**previous.filters, **filters}
        return replace(previous, filters=merged, offset=0, dates=dates or previous.dates)
    if topic:
        question = _without_filter_words(typed, entities) if typed else ""
        question = question if question.strip().lower() != topic.lower() else ""
        # The NLU sometimes tags a word that names nothing ("做" in "有教做面包的吗"): then the
        # citizen's own words are the search.
        query = topic if knowledge.names_a_topic(topic) or not question else question
        return SearchState(
            kind=kind,
            query=query,
            topic=topic,
            filters=filters,
            question=question or "",
            dates=dates,
        )
    if kind == "space" and typed and knowledge.names_a_topic(_without_near_me(typed)):
        # "¿hay bibliotecas?", "a quiet study room": the words say which spaces.
        return SearchState(kind=kind, query=_without_near_me(typed), filters=filters)
    if filters or kind in ("space", "event"):
        return SearchState(kind=kind, query="", filters=filters, dates=dates)
    words = _without_near_me(typed) if typed and not is_near_me(typed) else ""
    if dates and not knowledge.names_a_topic(words):
        # "any courses on Sunday?": the courses held that day.
        return SearchState(kind=kind, query="", dates=dates)
    if words:
        # No topic read ("¿hay clases de taichí la próxima semana?"): the citizen's words.
        return SearchState(kind=kind, query=words, filters=filters, dates=dates)
    return None


def _without_near_me(text: str) -> str:
    return " ".join(_NEAR_ME.sub(" ", text).split())


def strip_near_me(text: str | None) -> str:
    """The question without its "near me" words, as the query to run once a point arrives."""
    return _without_near_me(text or "") if text and not text.startswith("/") else ""


def run_search(state: SearchState, language: str | None, page_size: int = PAGE_SIZE) -> SearchPage:
    """One page of results for `state` after the search policy's fallbacks
    (`knowledge.answer_search`, the same the command line runs)."""
    answer = knowledge.answer_search(search_request(state, language, page_size))
    return SearchPage(
        state=state,
        results=answer.results,
        has_more=answer.has_more,
        unmet=answer.unmet,
        browsing=answer.browsing or not state.query,
        relaxed=answer.relaxed,
        dates_missed=answer.dates_missed,
        notes=answer.notes,
    )


def search_request(
    state: SearchState, language: str | None, page_size: int = PAGE_SIZE
) -> SearchRequest:
    """The policy's request for the conversation's search, dates and clock read in the city."""
    return SearchRequest(
        query=state.query,
        topic=state.topic,
        question=state.question,
        kind=state.kind,
        filters=state.search_filters(),
        near=state.near,
        dates=event_dates.span_from_slot(state.dates) if state.kind in DATED_KINDS else None,
        offset=state.offset,
        page_size=page_size,
        language=language,
        now=event_dates.city_now(),
        time_zone=event_dates.city_time_zone(),
    )


def next_page(state: SearchState, page_size: int = PAGE_SIZE) -> SearchState:
    return replace(state, offset=state.offset + page_size)


def card(result: SearchResult) -> Card:
    """A result as the `Card` every channel renders (texts as strings, never None)."""
    data = result.as_dict()
    shown = {item.name: data.get(item.name) for item in fields(Card)}
    for key in _CARD_TEXT_FIELDS:
        shown[key] = str(shown[key]) if shown[key] is not None else ""
    if not shown["place"] and data.get("address"):
        shown["place"] = str(data["address"])
    return Card.from_json(shown)


def follow_up_payloads(page: SearchPage) -> list[tuple[str, str]]:
    """(message id of the button title, payload) for the follow-ups that still narrow something."""
    state = page.state
    intent = KIND_INTENTS[state.kind]
    buttons: list[tuple[str, str]] = []
    if page.has_more:
        buttons.append(("button_more", "/show_more"))
    if state.kind == "event" or page.relaxed:
        return buttons
    if state.filters.get("time_of_day") != "weekend" and not state.dates:
        buttons.append(("button_weekends", _payload(intent, {"schedule": "weekend"})))
    if state.kind == "course" and not state.filters.get("free_only"):
        buttons.append(("button_free", _payload(intent, {"price": "free"})))
    if state.kind == "course" and state.filters.get("audience") != "children":
        buttons.append(("button_for_my_child", _payload(intent, {"audience": "children"})))
    return buttons


def register_payload(topic: str) -> str:
    return _payload("register_interest", {"topic": topic})


def _payload(intent: str, entities: Mapping[str, Any]) -> str:
    return f"/{intent}{json.dumps(dict(entities), ensure_ascii=False)}"


def record_unmet(
    state: SearchState, language: str | None, sender_id: str, database_url: str | None = None
) -> None:
    """Tell planners a search found nothing: the words, language and filters; the sender id
    only so "my data" and "forget me" reach it and open data counts citizens."""
    with session_scope(database_url) as session:
        knowledge.record_unmet_demand(
            session,
            state.query or state.kind,
            language,
            state.search_filters().as_dict(),
            state.filters.get("district"),
            sender_id,
        )
