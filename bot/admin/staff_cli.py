"""`learncity staff add|list|remove`: the console's accounts, from the command line."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

import staff
from core.database import session_scope, upgrade_database
from core.settings import get_settings


def add_staff_parser(commands: argparse._SubParsersAction) -> None:
    """Register `staff` and its subcommands on the main parser."""
    parser = commands.add_parser("staff", help="staff console accounts: add, list, remove")
    staff_commands = parser.add_subparsers(dest="staff_command", required=True)

    add = staff_commands.add_parser(
        "add",
        help="add an account; the password is read from standard input "
        "(or, with --generate-password, made up and printed once)",
    )
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=staff.ROLES)
    add.add_argument(
        "--generate-password",
        action="store_true",
        help="make up a strong password and print it once",
    )
    add.set_defaults(handler=command_staff_add)

    listing = staff_commands.add_parser("list", help="every account with its role")
    listing.add_argument("--json", action="store_true", help="print JSON only")
    listing.set_defaults(handler=command_staff_list)

    remove = staff_commands.add_parser("remove", help="remove an account and end its sessions")
    remove.add_argument("name")
    remove.set_defaults(handler=command_staff_remove)


def command_staff_add(args: argparse.Namespace) -> int:
    generated = args.generate_password
    if generated:
        password = staff.generate_password()
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password and not sys.stdin.isatty():
        # Nothing on standard input: make one up rather than create an account nobody can use.
        password, generated = staff.generate_password(), True
    url = get_settings().sqlalchemy_url
    upgrade_database(url)
    try:
        with session_scope(url) as session:
            account = staff.add_staff(session, args.name, args.role, password)
            staff.record_action(
                session,
                _actor(),
                "staff_add",
                account.name,
                details={"name": account.name, "role": account.role},
            )
    except staff.StaffError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"added {account.name} ({account.role})")
    if generated:
        print(f"password (shown once, keep it safe): {password}")
    return 0


def command_staff_list(args: argparse.Namespace) -> int:
    url = get_settings().sqlalchemy_url
    upgrade_database(url)
    with session_scope(url) as session:
        accounts = staff.list_staff(session)
    if args.json:
        rows = [
            {"name": a.name, "role": a.role, "created_at": a.created_at.isoformat()}
            for a in accounts
        ]
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    if not accounts:
        print("no staff accounts yet: learncity staff add NAME --role admin")
    width = max((len(account.name) for account in accounts), default=0)
    for account in accounts:
        print(f"{account.name.ljust(width)}  {account.role}")
    return 0


def command_staff_remove(args: argparse.Namespace) -> int:
    url = get_settings().sqlalchemy_url
    upgrade_database(url)
    with session_scope(url) as session:
        removed = staff.remove_staff(session, args.name)
        if removed:
            staff.record_action(session, _actor(), "staff_remove", args.name)
    if not removed:
        print(
            f"error: no staff account named {args.name!r} (see: learncity staff list)",
            file=sys.stderr,
        )
        return 1
    print(f"removed {args.name}")
    return 0


def _actor() -> str:
    """Who ran the command, as the audit log shows it."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a bare container
        return "cli"
