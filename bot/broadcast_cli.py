"""`learncity broadcast`: organizers announce an event to the citizens who subscribed.

Wired into `bot/cli.py` with two lines: `add_broadcast_parser(commands)` in `build_parser`
(which imports it from here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

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
            "text (else English, else Chinese). Re-running the same announcement only retries "
            "failed deliveries. Exit status 1 when some deliveries failed."
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
    parser.add_argument("--topic", help="only citizens subscribed to this topic (or to all)")
    parser.add_argument(
        "--district", help="only citizens subscribed to this district (or to all), e.g. Nanhu"
    )
    parser.add_argument(
        "--event-id",
        help="the catalog event this announces; also makes re-runs recognise the announcement",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count who would get it; send and record nothing"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")
    parser.set_defaults(handler=command_broadcast)
    return parser


def command_broadcast(args: argparse.Namespace) -> int:
    """Run one broadcast with the configured channel senders and print the report."""
    from bot.broadcasts import Announcement, broadcast
    from bot.channels.registry import configured_senders
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
    settings = get_settings()
    upgrade_database(settings.sqlalchemy_url)
    senders = {} if args.dry_run else configured_senders(settings)

    async def run() -> object:
        try:
            with session_scope(settings.sqlalchemy_url) as session:
                return await broadcast(announcement, senders, session, dry_run=args.dry_run)
        finally:
            for channel_sender in senders.values():
                close = getattr(channel_sender, "close", None)
                if close is not None:
                    await close()

    report = asyncio.run(run())
    summary = report.as_dict()  # type: ignore[attr-defined]
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_summary(summary)
    return EXIT_SOME_FAILED if summary["failed"] else 0


def _print_summary(summary: dict) -> None:
    channels = ", ".join(f"{name} {count}" for name, count in summary["by_channel"].items())
    if summary["dry_run"]:
        print(
            f"dry run: {summary['matched']} subscribers match; would send {summary['would_send']}"
            f" ({channels or 'none'}); {summary['already_sent']} already had it"
        )
        return
    print(
        f"announcement {summary['announcement_key']}: {summary['matched']} subscribers match; "
        f"delivered {summary['delivered']}, unreachable {summary['unreachable']}, "
        f"failed {summary['failed']}, already had it {summary['already_sent']} "
        f"({summary['seconds']:.1f}s)"
    )
    for failure in summary["failures"]:
        print(f"  failed: {failure['sender_id']}: {failure['reason']}")
