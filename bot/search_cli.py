"""`learncity search`: what a citizen would be shown for a question, fallbacks included.

It runs the chat's own search policy (`knowledge.answer_search`): widening "near me" from 3 to
10 km, retrying with the whole sentence, relaxing filters, dates for events; and prints the
notes the chat says aloud ("nothing within 3 km: widened to 10 km"). Wired into `bot/cli.py`
with `add_search_parser(commands)`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from core.settings import get_settings

if TYPE_CHECKING:
    from knowledge import SearchAnswer, SearchRequest


def each_input(value: str) -> Iterator[str]:
    """One value, or one per line of standard input when the value is `-`."""
    if value != "-":
        yield value
        return
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line.strip():
            yield line


def add_search_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `search` to the `learncity` command line."""
    search = subparsers.add_parser(
        "search",
        help="what a citizen is shown for a question ('-' reads questions from stdin)",
        description=(
            "Runs the chat's search policy on QUERY as if the assistant had read it as the "
            "topic: the same results, pages and fallbacks (wider radius, relaxed filters, "
            "dates) a citizen gets, each fallback printed as a note."
        ),
    )
    search.add_argument("query", help="the topic searched for ('-': one per line of stdin)")
    search.add_argument("--limit", type=int, default=5, help="results per page (the chat's 5)")
    search.add_argument("--offset", type=int, default=0, help="results skipped ('more' pages)")
    search.add_argument("--near", type=_point, default=None, metavar="LAT,LON")
    search.add_argument(
        "--radius",
        type=float,
        default=None,
        metavar="METRES",
        help="with --near: this radius only (default: 3,000 m, then 10,000 m as the chat)",
    )
    search.add_argument("--free", action="store_true", help="free offers only")
    search.add_argument("--audience", default=None, help="seniors, children, parents, migrants, …")
    search.add_argument("--language", default=None, help="language of instruction (zh, en, …)")
    search.add_argument(
        "--when", default=None, choices=["day", "morning", "evening", "weekend", "weekday"]
    )
    search.add_argument("--district", default=None)
    search.add_argument("--type", action="append", choices=["course", "space", "event"])
    search.add_argument(
        "--kind",
        default=None,
        choices=["course", "space", "event"],
        help="ask as the chat's course, space or event search (its types and fallbacks)",
    )
    search.add_argument(
        "--question",
        default="",
        help="the citizen's whole sentence, tried when QUERY (the topic) finds nothing",
    )
    search.add_argument(
        "--no-topic",
        action="store_true",
        help="QUERY is the citizen's words with no topic recognised (as the chat: when they "
        "match nothing, list what the filters allow)",
    )
    search.add_argument(
        "--dates", default=None, help="the dates named, in words: 'this weekend', '下周六', …"
    )
    search.add_argument(
        "--asked-in",
        default=None,
        metavar="LANGUAGE",
        help="the citizen's language (default: detected from the question)",
    )
    search.add_argument("--json", action="store_true", help="print JSON only")
    search.set_defaults(handler=command_search)
    return search


def command_search(args: argparse.Namespace) -> int:
    import knowledge
    from bot.bootstrap import prepare_database, prepare_index

    prepare_database(get_settings())
    prepare_index()
    for query in each_input(args.query):
        answer = knowledge.answer_search(search_request(args, query))
        if args.json:
            print(json.dumps({"query": query, **answer.as_dict()}, ensure_ascii=False), flush=True)
        else:
            _print_answer(query, answer)
    return 0


def search_request(args: argparse.Namespace, query: str) -> SearchRequest:
    """The policy's request for one question and the command's options."""
    import knowledge
    from knowledge.city import load_city
    from nlu.language import detect_language

    types = tuple(args.type or ()) or (knowledge.KIND_TYPES[args.kind] if args.kind else ())
    filters = knowledge.SearchFilters(
        free_only=args.free,
        audience=args.audience,
        language=args.language,
        time_of_day=args.when,
        district=args.district,
        types=types,
    )
    time_zone = load_city().time_zone
    today, now = knowledge.city_calendar(time_zone)
    dates = knowledge.resolve_when(args.dates, today, time_zone) if args.dates else None
    return knowledge.SearchRequest(
        query=query,
        topic=None if args.no_topic else query,
        question=args.question,
        kind=args.kind,
        filters=filters,
        near=args.near,
        radii_m=(args.radius,) if args.radius else knowledge.NEAR_RADII_M,
        dates=dates,
        offset=args.offset,
        page_size=args.limit,
        # The question's own language, as the assistant passes the citizen's.
        language=args.asked_in or detect_language(args.question or query),
        now=now,
        time_zone=time_zone,
    )


def _print_answer(query: str, answer: SearchAnswer) -> None:
    print(f"# {query}")
    for note in answer.notes:
        print(f"  ({note})")
    if answer.unmet:
        print("  nothing relevant: the citizen is told so and it counts as unmet demand")
        if answer.closest:
            print("  the closest misses:")
    for result in answer.results or answer.closest:
        row = result.as_dict()
        distance = f" · {row['distance_m']:.0f} m" if row.get("distance_m") is not None else ""
        print(
            f"  {row['score']:.3f}  [{row['type']}] {row['name']} — {row['place'] or ''}{distance}"
        )
    if answer.has_more:
        print("  … more (--offset)")


def _point(value: str) -> tuple[float, float]:
    try:
        latitude, longitude = (float(part) for part in value.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"--near takes LAT,LON (e.g. 31.23,121.47), not {value!r}"
        ) from error
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise argparse.ArgumentTypeError(f"--near {value}: latitude or longitude out of range")
    return latitude, longitude
