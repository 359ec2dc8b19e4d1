"""The settings the docs name exist with the documented defaults, and every setting is documented.

An operator reads README's configuration table, not `core/settings.py`: a setting missing
from the table cannot be found, and a name in the docs that no code reads is silently ignored.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from pydantic import SecretStr

from core.settings import REPOSITORY_ROOT, Settings

README = REPOSITORY_ROOT / "README.md"
DOC_PAGES = [README, *sorted((REPOSITORY_ROOT / "docs").glob("*.md"))]
_UPPER_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
_BACKTICKED = re.compile(r"`([^`]+)`")

# Names in the docs that are not learncity settings, and the file that must hold each
# (a constant, an environment variable learncity sets for Rasa, a deployment file's variable).
NOT_SETTINGS: dict[str, str] = {
    "CITIZEN_DATA": "citizens/conversation_events.py",
    "DATE_CANDIDATES": "knowledge/search/policy.py",
    "NEWCOMER_MESSAGES": "actions/messages.py",
    "OMP_WAIT_POLICY": "bench/e5_engines.py",
    "POSTGRES_PASSWORD": "deploy/compose.yaml",
    "PR_SET_PDEATHSIG": "bot/managed_process.py",
    "Q4_0": "core/e5_weights.py",
    "ROMANIZED_COMMON_ZIPF": "knowledge/search/spelling.py",
    "SQL_MAX_OVERFLOW": "bot/supervisor.py",
    "SQL_POOL_SIZE": "bot/supervisor.py",
    "SUPPORTED_LANGUAGES": "nlu/language.py",
    "TESTED_RASA_VERSIONS": "nlu/rasa_version.py",
    "TICKET_LOCK_LIFETIME": "bot/supervisor.py",
    "TRAINING_SHARE": "nlu/public_corpora.py",
}
# Environment variables of the libraries themselves: uvicorn's proxy list, Rasa's log level.
LIBRARY_VARIABLES: dict[str, str] = {"FORWARDED_ALLOW_IPS": "uvicorn", "LOG_LEVEL": "rasa"}


def _setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def _readme_configuration_rows() -> list[list[str]]:
    """The cells of each row of README's configuration table."""
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _table_names() -> set[str]:
    """Every name in the first column of README's configuration table."""
    return {name for row in _readme_configuration_rows() for name in _BACKTICKED.findall(row[0])}


def _library_source(package: str) -> str:
    """The text of an installed library's package, from this venv or Rasa's."""
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        roots = [Path(location) for location in spec.submodule_search_locations]
    else:
        roots = list((REPOSITORY_ROOT / ".venv-rasa").glob(f"lib/python3*/site-packages/{package}"))
    assert roots, f"{package} is not installed in .venv or .venv-rasa"
    return "".join(
        path.read_text(encoding="utf-8") for root in roots for path in root.rglob("*.py")
    )


def _default_as_documented(value: object) -> str | None:
    """A setting's default written as the README writes it; None for defaults told in words."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Path):
        return str(value.relative_to(REPOSITORY_ROOT))
    if isinstance(value, (int, float, str)) and value != "":
        return str(value)
    return None


def _same(documented: str, expected: str) -> bool:
    try:
        return float(documented) == float(expected)
    except ValueError:
        return documented == expected


def _is_empty(value: object) -> bool:
    if isinstance(value, SecretStr):
        return value.get_secret_value() == ""
    return value in ("", None)


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    documented = _table_names()
    assert sorted(_setting_names() - documented) == []


def test_the_readme_table_names_only_settings() -> None:
    documented = _table_names()
    assert sorted(documented - _setting_names()) == []


def test_the_readme_table_gives_each_setting_its_default() -> None:
    fields = Settings.model_fields
    wrong: list[str] = []
    for names_cell, default_cell, *_ in _readme_configuration_rows():
        names = _BACKTICKED.findall(names_cell)
        documented_defaults = [value.rstrip("/") for value in _BACKTICKED.findall(default_cell)]
        for position, name in enumerate(names):
            default = fields[name.lower()].default if name.lower() in fields else None
            if default_cell.startswith("empty"):
                if not _is_empty(default):
                    wrong.append(f"{name}: documented empty, is {default!r}")
            elif default_cell.startswith("`") and len(documented_defaults) >= len(names):
                expected = _default_as_documented(default)
                if expected is not None and not _same(documented_defaults[position], expected):
                    wrong.append(
                        f"{name}: documented {documented_defaults[position]}, is {expected}"
                    )
    assert wrong == []


def test_every_upper_case_name_in_the_docs_exists() -> None:
    mentioned = {
        (page.relative_to(REPOSITORY_ROOT).as_posix(), name)
        for page in DOC_PAGES
        for name in _UPPER_NAME.findall(page.read_text(encoding="utf-8"))
    }
    unknown = sorted(
        (page, name)
        for page, name in mentioned
        if name not in _setting_names()
        and name not in NOT_SETTINGS
        and name not in LIBRARY_VARIABLES
    )
    assert unknown == []


def test_names_that_are_not_settings_are_where_the_docs_say() -> None:
    missing = [
        f"{name} not in {path}"
        for name, path in NOT_SETTINGS.items()
        if not re.search(rf"\b{name}\b", (REPOSITORY_ROOT / path).read_text(encoding="utf-8"))
    ]
    missing += [
        f"{name} not read by {package}"
        for name, package in LIBRARY_VARIABLES.items()
        if f'"{name}"' not in _library_source(package)
    ]
    assert missing == []
