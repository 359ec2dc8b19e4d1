"""The command-line contracts outside checks rely on: `parse --json`, `search --json` and
`catalog import` (every bad field, exit status, --dry-run, --json, a quiet stderr)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import knowledge
from core.database import session_scope
from tests.conftest import SHARED_MODELS_DIR, RunningAssistant


def _learncity(assistant: RunningAssistant, *args: str, stdin: str | None = None) -> str:
    env = dict(os.environ)
    env.update(
        {
            "RASA_URL": assistant.rasa_url,
            "RASA_AUTH_TOKEN": assistant.supervisor.rasa_token,  # type: ignore[attr-defined]
            "DATABASE_URL": assistant.database_url,
            "LEARNCITY_DATA_DIR": str(assistant.settings.data_dir),
            "LEARNCITY_MODELS_DIR": str(assistant.settings.models_dir),
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_parse_json_prints_intent_entities_and_language(assistant: RunningAssistant) -> None:
    parsed = json.loads(_learncity(assistant, "parse", "我想学Python", "--json"))
    assert set(parsed) == {"text", "intent", "entities", "language"}
    assert parsed["text"] == "我想学Python"
    assert parsed["intent"]["name"] == "search_course"
    assert 0 < parsed["intent"]["confidence"] <= 1
    assert parsed["language"] == "zh"
    assert isinstance(parsed["entities"], list)


def test_parse_stdin_prints_one_json_object_per_line(assistant: RunningAssistant) -> None:
    output = _learncity(
        assistant, "parse", "-", "--json", stdin="hello\nwhere can I learn pottery?\n"
    )
    lines = [json.loads(line) for line in output.splitlines()]
    assert [line["text"] for line in lines] == ["hello", "where can I learn pottery?"]
    assert lines[0]["intent"]["name"] == "greet"
    assert lines[1]["intent"]["name"] == "search_course"
    assert lines[1]["language"] == "en"


def test_search_json_lists_results_with_source_ids(assistant: RunningAssistant) -> None:
    results = json.loads(_learncity(assistant, "search", "python", "--json", "--limit", "3"))[
        "results"
    ]
    assert 1 <= len(results) <= 3
    assert {"id", "type", "name", "score"} <= set(results[0])
    assert any("python" in result["name"].lower() for result in results)


def test_search_stdin_prints_one_list_per_line_and_near_gives_distances(
    assistant: RunningAssistant,
) -> None:
    output = _learncity(
        assistant, "search", "-", "--json", "--near", "31.23,121.47", stdin="陶艺\nlibrary\n"
    )
    lists = [json.loads(line)["results"] for line in output.splitlines()]
    assert len(lists) == 2
    assert all(result["distance_m"] is not None for result in lists[0] + lists[1])


# `learncity catalog import`: every bad field named, exit 1 when anything was rejected, --dry-run
# and --json; and no Alembic or faiss chatter on stderr. These need no Rasa: a temp data folder.
NOISE_WORDS = ("alembic", "faiss", "could not load library", "context impl")
FOUR_BAD_FIELDS = (
    "id,type,name,free,latitude,days,start_time,url\n"
    "good,course,Pottery for beginners,yes,31.2,sat,10:00,https://example.org/pottery\n"
    "bad,course,Weaving,maybe,abc,funday,25:00,https://example.org/weaving\n"
)


def _catalog_cli(
    data_dir: Path, *args: str, log_level: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        {"LEARNCITY_DATA_DIR": str(data_dir), "LEARNCITY_MODELS_DIR": str(SHARED_MODELS_DIR)}
    )
    env.pop("LEARNCITY_LOG_LEVEL", None)
    if log_level:
        env["LEARNCITY_LOG_LEVEL"] = log_level
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _noise(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(w in line.lower() for w in NOISE_WORDS)]


@pytest.fixture(scope="module")
def imported(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A fresh data folder after `learncity catalog import` of a file with one bad row."""
    data_dir = tmp_path_factory.mktemp("catalog-cli")
    path = data_dir / "offer.csv"
    path.write_text(FOUR_BAD_FIELDS, encoding="utf-8")
    return data_dir, _catalog_cli(data_dir, "catalog", "import", str(path))


def test_catalog_import_names_every_bad_field_exits_1_and_keeps_the_valid_row(
    imported: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    data_dir, result = imported
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        "1 file: 1 added, 0 updated, 0 unchanged, 0 removed, 1 rejected (4 bad fields)"
    ]
    rejected = [line for line in result.stderr.splitlines() if line.startswith("rejected: ")]
    assert [line.split(", field ")[1].split(":")[0] for line in rejected] == [
        "free",
        "latitude",
        "days",
        "start_time",
    ]
    assert all(line.startswith("rejected: offer.csv row 3, field ") for line in rejected)
    assert _noise(result.stderr) == []
    with session_scope(f"sqlite:///{data_dir / 'learncity.db'}") as session:
        assert [item.id for item in knowledge.all_items(session)] == ["good"]


def test_search_json_prints_no_alembic_or_faiss_lines(
    imported: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    data_dir, _ = imported
    result = _catalog_cli(data_dir, "search", "pottery", "--json")
    assert result.returncode == 0, result.stderr
    assert [hit["id"] for hit in json.loads(result.stdout)["results"]] == ["good"]
    assert _noise(result.stderr) == []


def test_catalog_import_dry_run_json_reports_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "offer.csv"
    path.write_text(FOUR_BAD_FIELDS.replace("https://example.org/weaving", "javascript:x()"))
    result = _catalog_cli(tmp_path / "data", "catalog", "import", str(path), "--dry-run", "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert (report["dry_run"], report["valid"], report["rejected_rows"]) == (True, 1, 1)
    assert [(r["position"], r["field"], r["value"]) for r in report["rejected"]] == [
        ("row 3", "free", "maybe"),
        ("row 3", "latitude", "abc"),
        ("row 3", "days", "funday"),
        ("row 3", "start_time", "25:00"),
        ("row 3", "url", "javascript:x()"),
    ]
    assert not (tmp_path / "data" / "learncity.db").exists()
    assert _noise(result.stderr) == []


def test_catalog_import_of_a_file_refused_whole_or_clean_sets_the_exit_status(
    tmp_path: Path,
) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("label,when\nPottery,Saturday\n", encoding="utf-8")
    refused = _catalog_cli(tmp_path / "data", "catalog", "import", str(wrong), "--dry-run")
    assert refused.returncode == 1
    assert [line for line in refused.stderr.splitlines() if line.startswith("rejected:")] == [
        f"rejected: wrong.csv row 1, field {column}: column missing from the header "
        "(expected a header with the columns id, type, name)"
        for column in ("id", "type", "name")
    ]
    clean = tmp_path / "clean.csv"
    clean.write_text("id,type,name\na,course,Pottery\n", encoding="utf-8")
    checked = _catalog_cli(tmp_path / "data", "catalog", "import", str(clean), "--dry-run")
    assert (checked.returncode, checked.stdout.strip()) == (
        0,
        "dry run, nothing changed: 1 file: 1 valid, 0 rejected",
    )


def test_alembic_speaks_only_at_debug_level(tmp_path: Path) -> None:
    quiet = _catalog_cli(tmp_path / "quiet", "db", "upgrade")
    debug = _catalog_cli(tmp_path / "debug", "db", "upgrade", log_level="DEBUG")
    assert (quiet.returncode, debug.returncode) == (0, 0)
    assert _noise(quiet.stderr) == []
    assert "alembic.runtime.migration" in debug.stderr  # the lines are there when asked for
