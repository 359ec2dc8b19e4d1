"""`learncity broadcast`: organizers announce an event to the citizens who subscribed.

Wired into `bot/cli.py` with two lines: `add_broadcast_parser(commands)` in `build_parser`
(which imports it from here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from core.settings import get_settings
from nlu.language import SUPPORTED_LANGUAGES

EXIT_SOME_FAILED = 1


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
        "--event-id",
        help="the catalog event this announces; also makes re-runs recognise the announcement",
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
        "--rate",
        type=float,
        metavar="PER_SECOND",
        help="messages per second on each channel (default: telegram 25, wechat 10, web 100)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")
    parser.set_defaults(handler=command_broadcast)
    return parser


def command_broadcast(args: argparse.Namespace) -> int:
    """Run one broadcast with the configured channel senders and print the report."""
    from bot.broadcasts import Announcement, broadcast
    from bot.channels.configured import configured_senders
    from core.database import session_scope, upgrade_database

    texts = {
        language: getattr(args, f"text_{language}")
        for language in SUPPORTED_LANGUAGES
        if getattr(args, f"text_{language}", None)
    }
    if args.text:
        texts.setdefault(args.language, args.text)
    if not any(text.strip() for text in texts.values()):
        print(
            "error: give the announcement with --text TEXT (and --text-zh, --text-es, … for "
            "other languages)",
            file=sys.stderr,
        )
        return 2
    announcement = Announcement(
        texts=texts, topic=args.topic, district=args.district, event_id=args.event_id
    )
    if args.rate is not None and args.rate <= 0:
        print("error: --rate must be a positive number of messages per second", file=sys.stderr)
        return 2
    settings = get_settings()
    try:
        upgrade_database(settings.sqlalchemy_url)
        senders = {} if args.dry_run else configured_senders(settings)
        rates = None
        if args.rate is not None:
            rates = dict.fromkeys(("telegram", "wechat", "web", *senders), args.rate)

        async def run() -> object:
            try:
                with session_scope(settings.sqlalchemy_url) as session:
                    return await broadcast(
                        announcement,
                        senders,
                        session,
                        dry_run=args.dry_run,
                        resend_unknown=args.resend_unknown,
                        rates=rates,
                    )
            finally:
                for channel_sender in senders.values():
                    close = getattr(channel_sender, "close", None)
                    if close is not None:
                        await close()

        report = asyncio.run(run())
    except SQLAlchemyError as error:
        print(_database_failed(settings.sqlalchemy_url, error), file=sys.stderr)
        return EXIT_SOME_FAILED
    summary = report.as_dict()  # type: ignore[attr-defined]
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_summary(summary)
    return EXIT_SOME_FAILED if summary["failed"] or summary["unknown"] else 0


def _print_summary(summary: dict) -> None:
    channels = ", ".join(f"{name} {count}" for name, count in summary["by_channel"].items())
    matched = _subscribers(summary["matched"])
    if summary["dry_run"]:
        print(
            f"dry run: {matched}; would send {summary['would_send']} ({channels or 'none'}); "
            f"{summary['already_sent']} already had it; {summary['unknown']} unknown"
        )
    else:
        print(
            f"announcement {summary['announcement_key']}: {matched}; "
            f"delivered {summary['delivered']}, unreachable {summary['unreachable']}, "
            f"failed {summary['failed']} (retried on the next run), "
            f"unknown {summary['unknown']}, already had it {summary['already_sent']} "
            f"({summary['seconds']:.1f}s)"
        )
        if summary["resent_unknown"]:
            print(f"  sent again after an unknown outcome: {summary['resent_unknown']}")
    for failure in summary["failures"]:
        print(f"  failed: {failure['sender_id']}: {failure['reason']}")
    for unknown in summary["unknowns"]:
        print(f"  unknown: {unknown['sender_id']}: {unknown['reason']}")
    if summary["unknowns"]:
        print(
            "  unknown deliveries are not sent again; add --resend-unknown to send them "
            "(those who already got it will get it twice)"
        )


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
