"""`learncity broadcast`: organizers announce an event to the citizens who subscribed.

The announcement is stored and sent by broadcast workers (docs/broadcasts.md): with REDIS_URL
by `learncity serve worker` processes (this command waits and prints their report), without it
by a worker inside this command. `--at` schedules it for later and returns at once.
Wired into `bot/cli.py` with two lines: `add_broadcast_parser(commands)` in `build_parser`
(which imports it from here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from core.settings import Settings, get_settings
from nlu.language import SUPPORTED_LANGUAGES

if TYPE_CHECKING:
    from bot.admin.event_choice import EventChoice
    from bot.broadcasts import Announcement

EXIT_SOME_FAILED = 1
NO_WORKER_HINT_SECONDS = 15.0


def add_broadcast_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `broadcast` to the `learncity` command line."""
    parser = subparsers.add_parser(
        "broadcast",
        help="announce an event to subscribed citizens on every channel",
        description=(
            "Send an announcement to every citizen whose subscription matches --topic and "
            "--district. Each citizen gets it once, in their language when you give that "
            "text (else English, else Chinese). Without --topic or --district it goes to every "
            "subscriber. Re-running the same announcement retries only failed deliveries; a "
            "delivery whose outcome is unknown (the run was killed during its send, or the "
            "platform did not answer in time) is reported, never resent unless you add "
            "--resend-unknown. Exit status 1 when some deliveries failed or are unknown."
        ),
    )
    parser.add_argument(
        "--text", help="the announcement in the language given by --language (default en)"
    )
    parser.add_argument(
        "--language",
        default="en",
        choices=SUPPORTED_LANGUAGES,
        help="the language of --text (default en)",
    )
    for language in SUPPORTED_LANGUAGES:
        parser.add_argument(
            f"--text-{language}",
            dest=f"text_{language}",
            metavar="TEXT",
            help=f"the announcement in {language}",
        )
    parser.add_argument(
        "--topic", help="only citizens subscribed to this topic (or to all); default: everyone"
    )
    parser.add_argument(
        "--district",
        help="only citizens subscribed to this district (or to all), e.g. Nanhu; default: everyone",
    )
    parser.add_argument(
        "--event",
        metavar="ID",
        help=(
            "the catalog event this announces (an id the catalog does not hold is refused): "
            "without --text the text in every language is its name, next date, time and place; "
            "without --topic and --district only subscribers of its topics and district get it; "
            "each citizen gets each different announcement about it once (a second notice, "
            "e.g. a changed room, reaches everyone again)"
        ),
    )
    parser.add_argument(
        "--event-id",
        metavar="KEY",
        help=(
            "the announcement's own id, so that re-runs recognise it even when its text "
            "changes (each citizen gets it once); not checked against the catalog and not an "
            "event (that is --event). Without it, an announcement is known by what it says"
        ),
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count who would get it; send and record nothing"
    )
    parser.add_argument(
        "--resend-unknown",
        action="store_true",
        help=(
            "also send again to citizens whose earlier delivery has an unknown outcome "
            "(some of them may then get it twice); without it they are only reported"
        ),
    )
    parser.add_argument(
        "--at",
        metavar="WHEN",
        help=(
            "send later: an ISO date and time, e.g. 2026-12-24T18:00 (the city's time zone "
            "unless it ends in Z or +08:00); the command stores it and returns"
        ),
    )
    parser.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="store the announcement for the workers and return without waiting for the report",
    )
    parser.add_argument(
        "--rate",
        type=float,
        metavar="PER_SECOND",
        help=(
            "without REDIS_URL only: messages per second on each channel for this run "
            "(default: TELEGRAM_BROADCAST_RATE 30, WECHAT_BROADCAST_RATE 10, WEB_BROADCAST_RATE "
            "200); with Redis the workers' settings decide"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")
    parser.set_defaults(handler=command_broadcast)
    return parser


def command_broadcast(args: argparse.Namespace) -> int:
    """Run one broadcast with the configured channel senders and print the report."""
    from bot.broadcasts import Announcement
    from core.database import upgrade_database

    texts = {
        language: getattr(args, f"text_{language}")
        for language in SUPPORTED_LANGUAGES
        if getattr(args, f"text_{language}", None)
    }
    if args.text:
        texts.setdefault(args.language, args.text)
    if args.event:
        event = _event(args.event)
        if event is None:
            print(
                f"error: --event {args.event}: the catalog has no event with this id "
                "(the ids are in the console's catalog page and announcement form)",
                file=sys.stderr,
            )
            return 2
        from bot.admin.event_choice import starting_texts
        from knowledge.city import load_city

        if not any(text.strip() for text in texts.values()):
            texts = starting_texts(event, load_city())
        if args.topic is None and args.district is None:
            args.topic = event.narrowing_topic or None
            args.district = event.district or None
    if not any(text.strip() for text in texts.values()):
        print(
            "error: give the announcement with --text TEXT (and --text-zh, --text-es, … for "
            "other languages)",
            file=sys.stderr,
        )
        return 2
    announcement = Announcement(
        texts=texts,
        topic=args.topic,
        district=args.district,
        event_id=args.event,
        # "event:" as before --event existed, so a re-run still finds its ledger's rows
        given_key=f"event:{args.event_id}" if args.event_id else None,
    )
    if args.rate is not None and args.rate <= 0:
        print("error: --rate must be a positive number of messages per second", file=sys.stderr)
        return 2
    settings = get_settings()
    try:
        send_at = _send_at(args.at, settings) if args.at else None
    except ValueError as error:
        print(f"error: --at {args.at}: {error}", file=sys.stderr)
        return 2
    if args.rate is not None:
        if settings.redis_url:
            print(
                "error: --rate applies without REDIS_URL only; the workers share "
                "TELEGRAM_BROADCAST_RATE (WECHAT_BROADCAST_RATE, WEB_BROADCAST_RATE)",
                file=sys.stderr,
            )
            return 2
        settings = settings.model_copy(
            update={
                "telegram_broadcast_rate": args.rate,
                "wechat_broadcast_rate": args.rate,
                "web_broadcast_rate": args.rate,
            }
        )
    try:
        upgrade_database(settings.sqlalchemy_url)
        if args.dry_run:
            summary = _dry_run(announcement, settings, args.resend_unknown)
        else:
            summary = _submit_and_wait(announcement, settings, args, send_at)
    except SQLAlchemyError as error:
        print(_database_failed(settings.sqlalchemy_url, error), file=sys.stderr)
        return EXIT_SOME_FAILED
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_summary(summary)
    if summary.get("status") in ("scheduled", "planning", "sending"):
        return 0
    return EXIT_SOME_FAILED if summary["failed"] or summary["unknown"] else 0


def _event(event_id: str) -> EventChoice | None:
    """The catalog event `event_id`, read as the console's announcement form reads it."""
    from bot.admin.event_choice import event_by_id
    from core.database import session_scope, upgrade_database
    from knowledge.city import load_city

    url = get_settings().sqlalchemy_url
    upgrade_database(url)
    with session_scope(url) as session:
        return event_by_id(session, load_city(), event_id)


def _dry_run(announcement: Announcement, settings: Settings, resend_unknown: bool) -> dict:
    from bot.broadcasts import broadcast
    from core.database import session_scope

    async def run() -> dict:
        with session_scope(settings.sqlalchemy_url) as session:
            report = await broadcast(
                announcement,
                {},
                session,
                dry_run=True,
                resend_unknown=resend_unknown,
            )
        return report.as_dict()

    return asyncio.run(run())


def _submit_and_wait(
    announcement: Announcement,
    settings: Settings,
    args: argparse.Namespace,
    send_at: datetime | None,
) -> dict:
    """Store the announcement; then wait for the workers' report (or be the worker)."""
    from bot.broadcast_jobs import CANCELLED, DONE, announcement_status, submit
    from core.database import session_scope

    started = time.monotonic()
    with session_scope(settings.sqlalchemy_url) as session:
        announcement_id = submit(
            session,
            announcement,
            send_at=send_at,
            created_by="learncity broadcast",
            resend_unknown=args.resend_unknown,
        )
    if send_at is None and args.wait:

        def done() -> bool:
            with session_scope(settings.sqlalchemy_url) as session:
                return announcement_status(session, announcement_id) in (DONE, CANCELLED)

        if settings.redis_url:
            _wait_for_workers(settings, announcement_id, started, done)
        else:
            from bot.broadcast_worker import BroadcastWorker

            asyncio.run(BroadcastWorker(settings).run_in_process(threading.Event(), until=done))
    return _summary(settings, announcement_id, started)


def _wait_for_workers(
    settings: Settings, announcement_id: int, started: float, done: Callable[[], bool]
) -> None:
    from bot.broadcast_jobs import SCHEDULED, announcement_status
    from core.database import session_scope

    hinted = False
    while not done():
        with session_scope(settings.sqlalchemy_url) as session:
            waiting = announcement_status(session, announcement_id) == SCHEDULED
        if not hinted and waiting and time.monotonic() - started > NO_WORKER_HINT_SECONDS:
            print(
                f"waiting for a broadcast worker to take announcement {announcement_id}: is "
                "`learncity serve worker` running with the same REDIS_URL and DATABASE_URL? "
                "(Ctrl-C stops waiting; the announcement stays queued)",
                file=sys.stderr,
            )
            hinted = True
        time.sleep(0.5)


def _summary(settings: Settings, announcement_id: int, started: float) -> dict:
    """The report of one stored announcement, in the shape `--json` has always printed."""
    from bot.broadcast_jobs import outcomes_listed, progress
    from bot.broadcast_records import FAILED, UNKNOWN
    from bot.broadcasts import INTERRUPTED, TIMED_OUT
    from core.database import session_scope

    with session_scope(settings.sqlalchemy_url) as session:
        state = progress(session, announcement_id)
        assert state is not None
        key = state.announcement_key
        failures = outcomes_listed(session, key, FAILED)
        unknowns = [
            {
                "sender_id": item["sender_id"],
                "reason": TIMED_OUT if item["reason"].startswith(TIMED_OUT) else INTERRUPTED,
            }
            for item in outcomes_listed(session, key, UNKNOWN)
        ]
    return {
        "id": announcement_id,
        "announcement_key": key,
        "status": state.status,
        "send_at": state.send_at,
        "dry_run": False,
        "matched": state.matched,
        "delivered": state.delivered,
        "unreachable": state.unreachable,
        "failed": state.failed,
        "unknown": state.unknown,
        "left": state.left,
        "already_sent": state.already_sent,
        "failures": failures,
        "unknowns": unknowns,
        "seconds": round(time.monotonic() - started, 3),
    }


def _send_at(value: str, settings: Settings) -> datetime:
    """--at's moment in UTC; without an offset it is read in the city's time zone."""
    from knowledge.city import load_city

    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(load_city().time_zone))
    return moment.astimezone(UTC)


UNKNOWN_EXPLAINED = (
    "  {count} unknown: their message was on its way when a worker stopped (or the platform did "
    "not answer in time), so it may have arrived. Telegram cannot tell us and has no way to send "
    "a message only once, so they are not sent it again: nobody gets it twice. Each worker "
    "stopped leaves at most one per chunk it was sending (BROADCAST_WORKER_CONCURRENCY). To send "
    "to them anyway, run the same command with --resend-unknown (some will then have it twice)."
)


def _print_summary(summary: dict) -> None:
    matched = _subscribers(summary["matched"])
    if summary["dry_run"]:
        channels = ", ".join(f"{name} {count}" for name, count in summary["by_channel"].items())
        print(
            f"dry run: {matched}; would send {summary['would_send']} ({channels or 'none'}); "
            f"{summary['already_sent']} already had it; {summary['unknown']} unknown"
        )
    elif summary["status"] == "scheduled":
        print(f"announcement {summary['id']} scheduled for {summary['send_at']} (UTC)")
    elif summary["status"] != "done":
        print(
            f"announcement {summary['id']} queued ({summary['status']}): delivered "
            f"{summary['delivered']}, {summary['left']} left; the workers send it"
        )
    else:
        print(
            f"announcement {summary['announcement_key']}: {matched}; "
            f"delivered {summary['delivered']}, unreachable {summary['unreachable']}, "
            f"failed {summary['failed']} (retried on the next run), "
            f"unknown {summary['unknown']}, already had it {summary['already_sent']} "
            f"({summary['seconds']:.1f}s)"
        )
    for failure in summary["failures"]:
        print(f"  failed: {failure['sender_id']}: {failure['reason']}")
    for unknown in summary["unknowns"]:
        print(f"  unknown: {unknown['sender_id']}: {unknown['reason']}")
    if summary["unknowns"]:
        print(UNKNOWN_EXPLAINED.format(count=len(summary["unknowns"])))


def _database_failed(url: str, error: SQLAlchemyError) -> str:
    """What the operator reads when the database fails: where, why, and what is safe now."""
    where = make_url(url).render_as_string(hide_password=True)
    # The driver's first line: the statement and its parameters name citizens.
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:300]
    return (
        f"error: the database at {where} failed ({type(error).__name__}: {reason}). "
        "Nothing more was sent. Run the same command again once the database is back: "
        "deliveries already recorded are not repeated, and one interrupted mid-send is "
        "reported as unknown."
    )


def _subscribers(count: int) -> str:
    """The count in words: "1 subscriber matches", "2 subscribers match"."""
    return f"{count} subscriber matches" if count == 1 else f"{count} subscribers match"
