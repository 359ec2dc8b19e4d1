"""`learncity report`: what planners read, as aligned text and as JSON, from a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import citizens
import knowledge
from core.database import session_scope, upgrade_database


def _report(data_dir: Path, *args: str) -> str:
    env = dict(os.environ, LEARNCITY_DATA_DIR=str(data_dir))
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_report_counts_needs_and_unmet_searches_by_topic_district_and_filter(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'learncity.db'}"
    upgrade_database(url)
    with session_scope(url) as session:
        need = citizens.LearningNeed(topic="古筝", district="Nanhu", preferred_times="weekend")
        citizens.register_learning_need(session, "web:a", need, consent=True)
        citizens.register_learning_need(session, "web:b", need, consent=True)
        knowledge.record_unmet_demand(session, "beekeeping", "en", {"time_of_day": "weekend"}, None)
        knowledge.record_unmet_demand(session, "Beekeeping", "en", {"free_only": True}, "Nanhu")
    data = json.loads(_report(tmp_path, "--json"))
    assert data["needs"]["total"] == 2 and data["needs"]["by_topic"] == {"古筝": 2}
    assert data["unmet"]["by_query"] == {"beekeeping": 2}
    assert data["unmet"]["by_filter"] == {"free_only": 1, "time_of_day: weekend": 1}
    text = _report(tmp_path, "unmet")
    assert text.splitlines()[0] == "## Searches that found nothing (no personal data): 2"
    assert "  beekeeping  2" in text.splitlines()
    assert "web:a" not in _report(tmp_path)
