"""The command-line contracts outside checks rely on: `parse --json` and `search --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import RunningAssistant


def _learncity(assistant: RunningAssistant, *args: str, stdin: str | None = None) -> str:
    env = dict(os.environ)
    env.update(
        {
            "RASA_URL": assistant.rasa_url,
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
    results = json.loads(_learncity(assistant, "search", "python", "--json", "--limit", "3"))
    assert 1 <= len(results) <= 3
    assert {"id", "type", "name", "score"} <= set(results[0])
    assert any("python" in result["name"].lower() for result in results)


def test_search_stdin_prints_one_list_per_line_and_near_gives_distances(
    assistant: RunningAssistant,
) -> None:
    output = _learncity(
        assistant, "search", "-", "--json", "--near", "31.23,121.47", stdin="陶艺\nlibrary\n"
    )
    lists = [json.loads(line) for line in output.splitlines()]
    assert len(lists) == 2
    assert all(result["distance_m"] is not None for result in lists[0] + lists[1])
