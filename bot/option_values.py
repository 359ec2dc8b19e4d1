"""Command-line option values that start with "-" reach the option instead of an error.

argparse reads any word starting with "-" as an option unless it looks like a plain negative
number, so `learncity search yoga --near -33.87,151.21` (a city south of the equator),
`learncity broadcast --text "-50% on every course"` or `--event-id -x7` (a generated id)
stopped with "expected one argument". Written `--option=VALUE` argparse takes the value as it
is; `with_dashed_values` writes them so, for every option of the parser that takes one value.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence


def with_dashed_values(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """`argv` with each `--option VALUE` whose VALUE starts with "-" joined as `--option=VALUE`.

    A VALUE that is itself one of the parser's options (`--text --json`: the text forgotten)
    is left alone, so argparse still says the text is missing; so is everything after `--`."""
    takes_value, flags = _long_options(parser)
    joined: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        joined.append(token)
        if token == "--":
            joined.extend(tokens)
            break
        if token not in takes_value or token in flags:
            continue
        value = next(tokens, None)
        if value is None:
            break
        if (
            value.startswith("-")
            and value != "--"
            and not _names_an_option(value, takes_value | flags)
        ):
            joined[-1] = f"{token}={value}"
        else:
            joined.append(value)
    return joined


def _names_an_option(word: str, options: set[str]) -> bool:
    """True when argparse would read `word` as one of `options` (abbreviations included)."""
    if not word.startswith("--"):
        return word in options
    name = word.split("=", 1)[0]
    return any(option.startswith(name) for option in options)


def _long_options(parser: argparse.ArgumentParser) -> tuple[set[str], set[str]]:
    """Long options taking exactly one value, and those taking none, in every subcommand."""
    takes_value: set[str] = set()
    flags: set[str] = set()
    for action in _all_actions(parser):
        long_names = {name for name in action.option_strings if name.startswith("--")}
        (takes_value if action.nargs is None else flags).update(long_names)
    return takes_value, flags


def _all_actions(parser: argparse.ArgumentParser) -> Iterable[argparse.Action]:
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield from _all_actions(subparser)
