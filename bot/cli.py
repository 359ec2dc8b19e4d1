"""`learncity`: the one command line for every job a person runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.admin.staff_cli import add_staff_parser
from bot.broadcast_cli import add_broadcast_parser
from bot.option_values import with_dashed_values
from bot.search_cli import add_search_parser, each_input
from core.logging_setup import configure_logging
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from bot.conversation import Conversation
    from knowledge.importers import CsvReading

logger = logging.getLogger("learncity")


def command_run(args: argparse.Namespace) -> int:
    """Everything on one machine; SIGTERM or Ctrl-C stops every process and exits 0."""
    from bot.stack import ensure_stack_ports_free, running_assistant, stopping_on_signals

    settings = get_settings()
    with stopping_on_signals():
        try:
            ensure_stack_ports_free(settings)  # before anything starts: a taken port is named
            with running_assistant(settings) as supervisor:
                _serve_until_stopped(supervisor.settings, supervisor.rasa_urls, args.console)
        except KeyboardInterrupt:
            print("stopped", flush=True)
    return 0


def _serve_until_stopped(settings: Settings, rasa_urls: list[str], console: bool) -> None:
    """The gateway (and the console conversation), with the secrets the supervisor made, and a
    broadcast worker beside them."""
    from bot.broadcast_worker import start_in_thread
    from bot.conversation import conversation_for

    conversation = conversation_for(settings, rasa_urls)
    url = f"http://{settings.gateway_host}:{settings.gateway_port}"
    stop_broadcast_worker = start_in_thread(settings)  # announcements sent beside the gateway
    try:
        _serve_gateway_and_console(settings, rasa_urls, conversation, url, console)
    finally:
        stop_broadcast_worker()


def _serve_gateway_and_console(
    settings: Settings,
    rasa_urls: list[str],
    conversation: Conversation,
    url: str,
    console: bool,
) -> None:
    from bot.channels.console import chat_loop
    from bot.conversation import conversation_for
    from bot.stack import serve_gateway, serve_gateway_in_thread

    if console and sys.stdin.isatty():
        server = serve_gateway_in_thread(settings, conversation)
        print(f"learncity is running. Web chat: {url}  (Ctrl-D or Ctrl-C stops everything)")
        try:
            asyncio.run(chat_loop(conversation_for(settings, rasa_urls)))
        finally:
            server.should_exit = True
    else:
        print(f"learncity is running. Web chat: {url}  (Ctrl-C stops everything)", flush=True)
        serve_gateway(settings, conversation)


def command_serve(args: argparse.Namespace) -> int:
    """One role in the foreground (bot/roles.py); SIGTERM or Ctrl-C stops it and exits 0."""
    from bot.roles import MissingSecretError, serve_role
    from bot.stack import stopping_on_signals
    from bot.supervisor import InvalidSecretError

    settings = get_settings()
    if args.model is not None and (args.role != "rasa" or not args.model.is_file()):
        print(
            f"error: --model {args.model}: only for `serve rasa`, a trained model file",
            file=sys.stderr,
        )
        return 2
    with stopping_on_signals():
        try:
            return serve_role(settings, args.role, model=args.model)
        except (MissingSecretError, InvalidSecretError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("stopped", flush=True)
    return 0


def command_chat(args: argparse.Namespace) -> int:
    from bot.channels.console import chat_loop
    from bot.conversation import conversation_for
    from bot.stack import running_assistant
    from nlu.serving import is_up

    settings = get_settings()
    if is_up(settings.rasa_url, "/version"):  # a running Rasa: its webhook wants its secret
        if not settings.rasa_auth_token.get_secret_value():
            print(
                f"error: a Rasa server already answers at {settings.rasa_url}; set RASA_AUTH_TOKEN"
                " to the secret it was started with (`learncity run` makes one up at each start"
                " unless RASA_AUTH_TOKEN is set), or stop it and run `learncity chat` alone",
                file=sys.stderr,
            )
            return 2
        asyncio.run(chat_loop(conversation_for(settings), args.sender))
        return 0
    print("starting the assistant (Rasa and the action server) …", file=sys.stderr)
    with running_assistant(settings) as supervisor:
        chat = conversation_for(supervisor.settings, supervisor.rasa_urls)
        asyncio.run(chat_loop(chat, args.sender))
    return 0


def command_train(args: argparse.Namespace) -> int:
    from nlu.training import ensure_model

    path = ensure_model(get_settings(), force=args.force)
    print(path)
    return 0


def csv_reading(args: argparse.Namespace) -> CsvReading:
    """The `--columns`, `--encoding` and `--date-order` options as the importer takes them;
    a bad column map raises ColumnMapError naming its file, line and field."""
    from knowledge.importers import CsvReading, load_column_map

    columns = load_column_map(Path(args.columns)) if args.columns else None
    return CsvReading(columns=columns, encoding=args.encoding, date_order=args.date_order)


def command_catalog_import(args: argparse.Namespace) -> int:
    """Import (or with --dry-run only check) a catalog; exit 1 when anything was rejected."""
    import knowledge
    from knowledge.importers.columns import ColumnMapError

    settings = get_settings()
    path = Path(args.path)
    if not path.exists():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    try:
        reading = csv_reading(args)
    except ColumnMapError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.dry_run:  # read and check only: no database, no index
        summary = knowledge.import_catalog(path, session=None, dry_run=True, reading=reading)
    else:
        from bot.bootstrap import import_catalog_file
        from core.database import upgrade_database

        upgrade_database(settings.sqlalchemy_url)
        summary = import_catalog_file(
            path, url=settings.sqlalchemy_url, prune=args.prune, update_index=False, reading=reading
        )
        # The index follows item by item ("index: 3 added, 1 updated, 2 removed in 45 ms"); on
        # stderr, so stdout stays the one summary line (or JSON object) scripts read.
        print(knowledge.ensure_index_from_database(settings.sqlalchemy_url), file=sys.stderr)
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        if args.dry_run:  # how each CSV column was understood
            for source, uses in summary.columns.items():
                for use in uses:
                    shown = use.column or "(extra)"
                    header = repr(use.header) if use.header else "(no column)"
                    print(f"column: {source} {header} -> {shown} ({use.how})", file=sys.stderr)
        for notice in summary.notices:
            print(f"note: {notice}", file=sys.stderr)
        for rejection in summary.rejected:
            print(f"rejected: {rejection.explained()}", file=sys.stderr)
        if summary.rejected:
            kept = "were checked" if args.dry_run else "were imported"
            print(
                f"{summary.rejected_rows} row(s) rejected: fix the fields above and import again "
                f"(the {summary.valid} valid item(s) {kept}).",
                file=sys.stderr,
            )
        print(summary)
    return 0 if summary.complete else 1


def command_parse(args: argparse.Namespace) -> int:
    import httpx

    from bot.stack import rasa_for_parsing
    from nlu.language import detect_language
    from nlu.serving import parse_text

    settings = get_settings()
    with rasa_for_parsing(settings) as (rasa_url, token), httpx.Client(timeout=30) as client:
        for text in each_input(args.text):
            parsed = parse_text(rasa_url, text, client, token)
            intent = parsed.get("intent") or {}
            result = {
                "text": text,
                "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")},
                "entities": [
                    {
                        key: entity.get(key)
                        for key in ("entity", "value", "start", "end", "extractor")
                    }
                    for entity in parsed.get("entities", [])
                ],
                "language": detect_language(text),
            }
            if args.json:
                print(json.dumps(result, ensure_ascii=False), flush=True)
            else:
                entities = ", ".join(f"{e['entity']}={e['value']}" for e in result["entities"])
                print(
                    f"{text}\n  intent: {result['intent']['name']} ({result['intent']['confidence']:.2f})"
                    f"  language: {result['language']}  entities: {entities or '-'}"
                )
    return 0


def command_report(args: argparse.Namespace) -> int:
    import citizens
    import knowledge
    from core.database import session_scope, upgrade_database

    settings = get_settings()
    upgrade_database(settings.sqlalchemy_url)
    with session_scope() as session:
        report = {
            "needs": citizens.needs_summary(session),
            "unmet": knowledge.unmet_demand_summary(session),
        }
    chosen = report if args.what == "all" else {args.what: report[args.what]}
    if args.json:
        print(json.dumps(chosen, ensure_ascii=False, indent=2))
    else:
        for name, section in chosen.items():
            print(_report_text(_REPORT_TITLES[name], section))
    return 0


_REPORT_TITLES = {
    "needs": "Learning needs registered with consent",
    "unmet": "Searches that found nothing (no personal data)",
}


def _report_text(title: str, section: dict) -> str:
    """One report section for a planner: its total, then each breakdown as aligned rows."""
    lines = [f"## {title}: {section.get('total', 0)}"]
    for key, counts in section.items():
        if not isinstance(counts, dict):
            continue
        lines.append(f"{key.replace('by_', 'by ').replace('_', ' ')}:")
        if not counts:
            lines.append("  (none)")
        width = max((_shown_width(str(value)) for value in counts), default=0)
        for value, count in counts.items():
            padding = " " * (width - _shown_width(str(value)))
            lines.append(f"  {value}{padding}  {count}")
    return "\n".join(lines) + "\n"


def _shown_width(text: str) -> int:
    """Columns a terminal gives `text`: Chinese characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def command_db_upgrade(_: argparse.Namespace) -> int:
    from core.database import upgrade_database

    upgrade_database(get_settings().sqlalchemy_url)
    print("database schema is up to date")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="learncity", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start everything: Rasa, actions, gateway with web chat")
    run.add_argument(
        "--no-console",
        dest="console",
        action="store_false",
        help="serve only; do not open a console conversation",
    )
    run.set_defaults(handler=command_run)

    serve = commands.add_parser(
        "serve", help="run one role in the foreground (systemd, containers); see docs/operators.md"
    )
    serve.add_argument(
        "role",
        choices=["gateway", "rasa", "actions", "worker"],
        help="gateway: web chat and webhooks; rasa: the Rasa server; actions: the action "
        "server; worker: sends broadcasts",
    )
    serve.add_argument(
        "--model",
        type=Path,
        default=None,
        help="rasa: serve this trained model file (default: the one for this checkout's "
        "training data, trained first if missing)",
    )
    serve.set_defaults(handler=command_serve)

    chat = commands.add_parser("chat", help="a console conversation with the assistant")
    chat.add_argument("--sender", default=None, help="sender id (default: a new console id)")
    chat.set_defaults(handler=command_chat)

    train = commands.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument(
        "--force", action="store_true", help="train even if a model for these inputs exists"
    )
    train.set_defaults(handler=command_train)

    catalog = commands.add_parser("catalog", help="the learning offer: import files")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    importer = catalog_commands.add_parser(
        "import", help="import schema.org JSON-LD, HSDS CSV package, iCalendar or CSV"
    )
    importer.add_argument("path", help="a file or a folder")
    importer.add_argument(
        "--prune", action="store_true", help="remove items the source no longer lists"
    )
    importer.add_argument(
        "--dry-run",
        action="store_true",
        help="check the files and report every bad field; change nothing",
    )
    importer.add_argument(
        "--json", action="store_true", help="print the summary and every rejection as JSON"
    )
    importer.add_argument(
        "--columns",
        metavar="MAP.yml",
        help="a column map: the CSV's own header names to ours, constants, generated ids",
    )
    importer.add_argument(
        "--encoding",
        metavar="NAME",
        help="the CSV's encoding (utf-8, utf-16, gb18030, windows-1251, windows-1252, ...); "
        "default: detected",
    )
    importer.add_argument(
        "--date-order",
        choices=("dmy", "mdy"),
        help="how to read 03/04/2026: day first (dmy) or month first (mdy)",
    )
    importer.set_defaults(handler=command_catalog_import)

    add_search_parser(commands)

    parse = commands.add_parser("parse", help="what the NLU understands ('-' reads stdin)")
    parse.add_argument("text")
    parse.add_argument("--json", action="store_true", help="print JSON only")
    parse.set_defaults(handler=command_parse)

    report = commands.add_parser("report", help="for planners: learning needs and unmet demand")
    report.add_argument("what", nargs="?", default="all", choices=["all", "needs", "unmet"])
    report.add_argument("--json", action="store_true")
    report.set_defaults(handler=command_report)

    database = commands.add_parser("db", help="database maintenance")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    add_broadcast_parser(commands)
    add_staff_parser(commands)
    database_commands.add_parser("upgrade", help="apply migrations").set_defaults(
        handler=command_db_upgrade
    )
    return parser


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """The command line read as `learncity` reads it (an option's value may start with "-")."""
    parser = build_parser()
    return parser.parse_args(with_dashed_values(parser, argv))


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        # Inside the try: a bad setting (read by the logging setup) is one clear line too.
        configure_logging("DEBUG" if args.verbose else None)
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the operator sees one clear line; the traceback goes to the log
        logger.debug("command failed", exc_info=True)
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
