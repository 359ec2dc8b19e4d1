"""schema.org JSON-LD: Course (with CourseInstance schedules), Event, and Place-like learning spaces."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from knowledge.documents import CatalogItem, Session
from knowledge.importers.common import (
    DAYS,
    EXPECTED_DATETIME,
    ParsedFile,
    RowError,
    RowProblems,
    describe_schedule,
    free_from_price,
    normalise_accessibility,
    normalise_audience,
    normalise_days,
    normalise_district,
    normalise_language,
    parse_coordinate,
    parse_date,
    parse_datetime,
    parse_link,
    parse_time,
    text,
    unique,
)
from knowledge.importers.json_lines import node_lines
from knowledge.importers.reasons import reason
from knowledge.importers.recurrence import (
    describe_pattern,
    iso_dates,
    month_days,
    months_of_year,
    repeat_frequency,
    weeks_of_month,
    yearly_pattern,
)

COURSE_TYPES = {"Course"}
EVENT_TYPES = {
    "Event", "EducationEvent", "Festival", "ExhibitionEvent", "SocialEvent", "LiteraryEvent",
    "ChildrensEvent", "ScreeningEvent", "BusinessEvent", "MusicEvent", "TheaterEvent",
    "VisualArtsEvent", "SportsEvent", "ComedyEvent", "DanceEvent", "FoodEvent",
}  # fmt: skip
SPACE_TYPES = {
    "Place", "Library", "EducationalOrganization", "CivicStructure", "Museum", "School",
    "CollegeOrUniversity", "ElementarySchool", "MiddleSchool", "HighSchool", "Preschool",
    "GovernmentBuilding", "GovernmentOffice", "LocalBusiness", "ArtGallery", "Park",
    "SportsActivityLocation", "CommunityCenter", "EventVenue",
}  # fmt: skip
# Nodes that only describe another node (its provider, schedule, price, address...). A document's
# @graph lists them beside the courses that point at them; they are read through those
# references and are neither items nor errors.
SUPPORTING_TYPES = {
    "CourseInstance", "Offer", "AggregateOffer", "Organization", "Person", "PostalAddress",
    "GeoCoordinates", "GeoShape", "Schedule", "OpeningHoursSpecification", "Audience",
    "EducationalAudience", "PeopleAudience", "LocationFeatureSpecification", "Language",
    "VirtualLocation", "DefinedTerm", "ImageObject", "WebPage", "WebSite", "ContactPoint",
    "EducationalOccupationalCredential", "AlignmentObject", "Review", "AggregateRating",
}  # fmt: skip
_ACCESSIBILITY_WORDS = {
    "wheelchair", "hearing_loop", "sign_language", "accessible_toilet", "large_print", "braille",
    "elevator",
}  # fmt: skip


def parse_jsonld(content: str, *, file: str, source: str) -> ParsedFile:
    """Parse a JSON-LD document: an `@graph`, a top-level list, or a single object."""
    parsed = ParsedFile(source=source)
    try:
        document = json.loads(content)
    except json.JSONDecodeError as error:
        parsed.readable = False
        parsed.reject(
            file, f"line {error.lineno}", "(json)", reason("invalid_json", detail=error.msg)
        )
        return parsed
    nodes = _nodes(document)
    by_id = {node["@id"]: node for node in nodes if isinstance(node, dict) and "@id" in node}
    referenced = _referenced_ids(nodes)
    lines: list[int] | None = None  # found only once something is rejected
    for index, node in enumerate(nodes):
        position = f"item {index + 1}"
        if isinstance(node, dict) and text(node.get("@id")):
            parsed.listed_ids.add(text(node["@id"]))
        if _is_supporting(node, referenced):
            continue
        try:
            item = _item(node, by_id, source)
        except RowError as error:
            lines = node_lines(content) if lines is None else lines
            if len(lines) == len(nodes):
                position = f"{position} (line {lines[index]})"
            parsed.reject_error(file, position, error)
            continue
        parsed.add(item, position, file)
    return parsed


def _nodes(document: Any) -> list[Any]:
    if isinstance(document, dict) and "@graph" in document:
        graph = document["@graph"]
        return graph if isinstance(graph, list) else [graph]
    if isinstance(document, list):
        nodes: list[Any] = []
        for entry in document:
            nodes.extend(
                _nodes(entry) if isinstance(entry, dict) and "@graph" in entry else [entry]
            )
        return nodes
    return [document]


def _referenced_ids(nodes: list[Any]) -> set[str]:
    """Ids that some node points at with a bare {"@id": ...} reference."""
    found: set[str] = set()

    def walk(value: Any, top: bool) -> None:
        if isinstance(value, dict):
            if not top and set(value) == {"@id"}:
                found.add(text(value["@id"]))
                return
            for key, child in value.items():
                if key != "@id":
                    walk(child, False)
        elif isinstance(value, list):
            for child in value:
                walk(child, False)

    for node in nodes:
        walk(node, True)
    return found


def _is_supporting(node: Any, referenced: set[str]) -> bool:
    """True for a node that only describes another: a supporting type, or a non-catalog node
    that another node references (an Organization as provider, a CourseInstance by id)."""
    if not isinstance(node, dict):
        return False
    types = set(_types(node))
    if types & (COURSE_TYPES | EVENT_TYPES | SPACE_TYPES):
        return False
    return bool(types & SUPPORTING_TYPES) or text(node.get("@id")) in referenced


def _types(node: dict[str, Any]) -> list[str]:
    raw = node.get("@type") or []
    values = raw if isinstance(raw, list) else [raw]
    return [re.sub(r"^(https?://schema\.org/|schema:)", "", text(value)) for value in values]


def _item(node: Any, by_id: dict[str, Any], source: str) -> CatalogItem:
    if not isinstance(node, dict):
        raise RowError(
            "(item)",
            reason("not_a_json_object"),
            value=text(node)[:80],
            expected=reason("expect_json_object"),
        )
    problems = RowProblems()
    types = _types(node)
    kind = _kind(types, problems)
    item_id = text(node.get("@id"))
    if not item_id:
        problems.add("@id", reason("missing"), value="", expected=reason("expect_item_id"))
    name = _literal(node.get("name"))
    if not name:
        problems.add("name", reason("missing"), value="", expected=reason("expect_name"))
    if kind is None:
        problems.raise_if_any()

    instances = _list(node.get("hasCourseInstance")) if kind == "course" else []
    instances = [_resolve(instance, by_id) for instance in instances]
    place = _place_of(node, instances, by_id) if kind != "space" else node
    sessions = _sessions(node, instances, kind, problems)
    offers = [_resolve(offer, by_id) for offer in _list(node.get("offers"))]
    for instance in instances:
        offers.extend(_resolve(offer, by_id) for offer in _list(instance.get("offers")))
    price, free = _price(offers)
    if isinstance(node.get("isAccessibleForFree"), bool) or text(node.get("isAccessibleForFree")):
        free = text(node.get("isAccessibleForFree")).lower() in {"true", "1", "yes"}
    amenities, accessible = _features(node if kind == "space" else place)
    event = kind == "event"
    start = problems.check(parse_datetime, node.get("startDate"), "startDate") if event else None
    if event and start is None and not text(node.get("startDate")):
        problems.add(
            "startDate", reason("missing_event_start"), value="", expected=EXPECTED_DATETIME
        )
    end = problems.check(parse_datetime, node.get("endDate"), "endDate") if event else None
    latitude, longitude = _geo(place, problems)
    opening_hours = _opening_hours(node, problems) if kind == "space" else ""
    urls = _list(node.get("url"))
    url = problems.check(parse_link, urls[0] if urls else "", "url", default="")
    problems.raise_if_any()
    extra = {"schema_type": types[0]}
    if text(node.get("educationalLevel")):
        extra["educational_level"] = _literal(node.get("educationalLevel"))
    return CatalogItem(
        id=item_id,
        type=kind,  # type: ignore[arg-type]
        name=name,
        description=_literal(node.get("description")),
        source=source,
        topics=_topics(node),
        languages=_languages(node, instances),
        audiences=unique(
            normalise_audience(a)
            for value in _list(node.get("audience"))
            for a in _audience(_resolve(value, by_id))
        ),
        free=free,
        price=price,
        place_name=_literal(place.get("name")) if place else "",
        address=_address_text(place.get("address")) if place else "",
        district=_district(place) if place else "",
        latitude=latitude,
        longitude=longitude,
        sessions=sessions,
        opening_hours=opening_hours,
        amenities=amenities,
        accessibility=unique(
            [normalise_accessibility(v) for v in _list(node.get("accessibilityFeature"))]
            + accessible
        ),
        start=start,
        end=end,
        url=url,
        organizer=_name_of(
            [
                _resolve(value, by_id)
                for value in _list(node.get("provider") or node.get("organizer"))
            ]
        ),
        extra=extra,
    )


def _kind(types: list[str], problems: RowProblems) -> str | None:
    """course, event or space from the node's @type; None (with the problem kept) otherwise."""
    expected = reason("expect_jsonld_type")
    if not types:
        problems.add("@type", reason("missing"), value="", expected=expected)
        return None
    if any(t in COURSE_TYPES for t in types):
        return "course"
    if any(t in EVENT_TYPES for t in types):
        return "event"
    if any(t in SPACE_TYPES for t in types):
        return "space"
    problems.add(
        "@type",
        reason("unknown_jsonld_type", value=types[0]),
        value=types[0],
        expected=expected,
    )
    return None


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _resolve(value: Any, by_id: dict[str, Any]) -> Any:
    """A node referenced as {"@id": ...} elsewhere in the same document."""
    if isinstance(value, dict) and set(value) == {"@id"}:
        return by_id.get(value["@id"], value)
    return value


def _literal(value: Any) -> str:
    """Plain text from a string, a {"@value"} object or a list of them (joined with " / ")."""
    if isinstance(value, list):
        return " / ".join(part for part in (_literal(v) for v in value) if part)
    if isinstance(value, dict):
        return text(value.get("@value") or value.get("name"))
    return text(value)


def _name_of(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(part for part in (_name_of(v) for v in value) if part)
    return _literal(value.get("name")) if isinstance(value, dict) else text(value)


def _topics(node: dict[str, Any]) -> tuple[str, ...]:
    topics: list[str] = []
    for key in ("keywords", "about", "teaches", "genre"):
        for value in _list(node.get(key)):
            if isinstance(value, str):
                topics.extend(part.strip() for part in re.split(r"[,，、]", value))
            else:
                topics.append(_name_of(value))
    return unique(topics)


def _languages(node: dict[str, Any], instances: list[Any]) -> tuple[str, ...]:
    values = _list(node.get("inLanguage")) + [
        language for instance in instances for language in _list(instance.get("inLanguage"))
    ]
    codes = []
    for value in values:
        if isinstance(value, dict):
            value = value.get("alternateName") or value.get("name")
        codes.append(normalise_language(value))
    return unique(codes)


def _audience(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = value.get("audienceType") or value.get("educationalRole") or value.get("name")
    return [part.strip() for part in re.split(r"[,，、]", text(value)) if part.strip()]


def _price(offers: list[Any]) -> tuple[str, bool | None]:
    for offer in offers:
        if not isinstance(offer, dict):
            continue
        amount = text(offer.get("price"))
        currency = text(offer.get("priceCurrency"))
        if amount:
            return f"{amount} {currency}".strip(), free_from_price(amount)
    return "", None


def _place_of(node: dict[str, Any], instances: list[Any], by_id: dict[str, Any]) -> dict[str, Any]:
    for holder in [*instances, node]:
        if not isinstance(holder, dict):
            continue
        for location in _list(holder.get("location")):
            location = _resolve(location, by_id)
            if isinstance(location, str):
                return {"name": location}
            if isinstance(location, dict) and "VirtualLocation" in _types(location):
                return {"name": _literal(location.get("name")) or "online"}
            if isinstance(location, dict):
                return location
    return {}


def _geo(place: dict[str, Any], problems: RowProblems) -> tuple[float | None, float | None]:
    geo = place.get("geo") if place else None
    if not isinstance(geo, dict):
        geo = place or {}
    return (
        problems.check(parse_coordinate, geo.get("latitude"), "latitude", 90),
        problems.check(parse_coordinate, geo.get("longitude"), "longitude", 180),
    )


def _address_text(address: Any) -> str:
    if isinstance(address, dict):
        parts = [address.get(key) for key in ("streetAddress", "addressLocality", "addressRegion")]
        return ", ".join(text(part) for part in parts if text(part))
    return text(address)


def _district(place: dict[str, Any]) -> str:
    address = place.get("address")
    contained = _name_of(place.get("containedInPlace"))
    if isinstance(address, dict):
        return normalise_district(
            contained, address.get("addressLocality"), address.get("addressRegion")
        )
    return normalise_district(contained, text(address) if address else "")


def _sessions(
    node: dict[str, Any], instances: list[Any], kind: str, problems: RowProblems
) -> tuple[Session, ...]:
    sessions = []
    holders = instances if kind == "course" else [node]
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        key = "courseSchedule" if kind == "course" else "eventSchedule"
        schedules = _list(holder.get(key))
        if not schedules and kind == "course":
            schedules = [{}]
        for schedule in schedules:
            if not isinstance(schedule, dict):
                continue
            days = problems.check(normalise_days, _list(schedule.get("byDay")), "byDay", default=())
            start = problems.check(parse_time, schedule.get("startTime"), "startTime")
            end = problems.check(parse_time, schedule.get("endTime"), "endTime")
            start_date = problems.check(
                parse_date, schedule.get("startDate") or holder.get("startDate"), "startDate"
            )
            end_date = problems.check(
                parse_date, schedule.get("endDate") or holder.get("endDate"), "endDate"
            )
            frequency, interval = problems.check(
                repeat_frequency,
                schedule.get("repeatFrequency"),
                "repeatFrequency",
                default=("", 1),
            )
            weeks = problems.check(
                weeks_of_month, schedule.get("byMonthWeek"), "byMonthWeek", default=()
            )
            on_days = problems.check(
                month_days, schedule.get("byMonthDay"), "byMonthDay", default=()
            )
            excepted = problems.check(
                iso_dates, _list(schedule.get("exceptDate")), "exceptDate", default=()
            )
            if frequency == "daily" and not days:
                days = DAYS
            months: tuple[int, ...] = ()
            if frequency == "yearly":  # byMonth's months (else startDate's): yearly_pattern
                named = problems.check(
                    months_of_year, schedule.get("byMonth"), "byMonth", default=()
                )
                first = date.fromisoformat(start_date) if start_date else None
                groups = [(days, weeks)] if days else []
                months, on_days = problems.check(
                    yearly_pattern, named, groups, on_days, first, "repeatFrequency",
                    default=((), on_days),
                )  # fmt: skip
            described = _literal(schedule.get("name")) or _literal(holder.get("name"))
            text_line = described or describe_pattern(
                describe_schedule(days, start, end), weeks, on_days, interval, frequency, months
            )
            if text_line or start_date or end_date:
                sessions.append(
                    Session(
                        text_line,
                        days,
                        start,
                        end,
                        start_date,
                        end_date,
                        weeks_of_month=weeks if days else (),
                        month_days=on_days,
                        interval=interval
                        if frequency in {"weekly", "monthly"} or (frequency == "yearly" and months)
                        else 1,
                        except_dates=excepted,
                        months=months,
                    )
                )
    return tuple(sessions)


def _opening_hours(node: dict[str, Any], problems: RowProblems) -> str:
    lines = [text(value) for value in _list(node.get("openingHours"))]
    for spec in _list(node.get("openingHoursSpecification")):
        if not isinstance(spec, dict):
            continue
        days = problems.check(normalise_days, _list(spec.get("dayOfWeek")), "dayOfWeek", default=())
        opens = problems.check(parse_time, spec.get("opens"), "opens")
        closes = problems.check(parse_time, spec.get("closes"), "closes")
        lines.append(describe_schedule(days, opens, closes))
    return "; ".join(line for line in lines if line)


def _features(place: dict[str, Any]) -> tuple[tuple[str, ...], list[str]]:
    """amenityFeature names split into amenities and accessibility features."""
    amenities: list[str] = []
    accessible: list[str] = []
    for feature in _list(place.get("amenityFeature") if place else None):
        if isinstance(feature, dict):
            if feature.get("value") is False or text(feature.get("value")).lower() == "false":
                continue
            name = _literal(feature.get("name"))
        else:
            name = text(feature)
        if not name:
            continue
        token = normalise_accessibility(name)
        (accessible if token in _ACCESSIBILITY_WORDS else amenities).append(
            token if token in _ACCESSIBILITY_WORDS else name
        )
    return unique(amenities), accessible
