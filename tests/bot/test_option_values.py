"""`learncity` takes option values that start with "-" (argparse alone refused them)."""

from __future__ import annotations

import pytest

from bot.cli import parse_arguments


def test_a_point_south_of_the_equator_is_a_value_of_near() -> None:
    args = parse_arguments(["search", "yoga", "--near", "-33.87,151.21", "--json"])
    assert (args.query, args.near, args.json) == ("yoga", (-33.87, 151.21), True)


def test_an_announcement_and_an_event_id_may_start_with_a_dash() -> None:
    """`--event-id` keys made with secrets.token_urlsafe start with "-" once in 64."""
    args = parse_arguments(
        ["broadcast", "--text", "-50% on every course", "--event-id", "-x7Kq", "--dry-run"]
    )
    assert (args.text, args.event_id, args.dry_run) == ("-50% on every course", "-x7Kq", True)


def test_a_sender_id_starting_with_a_dash_is_kept_whole() -> None:
    assert parse_arguments(["chat", "--sender", "-console:1"]).sender == "-console:1"


def test_an_option_given_where_a_value_belongs_is_still_refused() -> None:
    """`--text --dry-run` forgot the text: argparse says so rather than announcing '--dry-run'."""
    with pytest.raises(SystemExit) as refused:
        parse_arguments(["broadcast", "--text", "--dry-run"])
    assert refused.value.code == 2


def test_values_after_a_double_dash_are_left_as_they_are() -> None:
    assert parse_arguments(["parse", "--json", "--", "-in English"]).text == "-in English"
