"""`make test` (what CI runs) lints, type-checks and validates the Rasa data before pytest.

Read from `make -n test`, which prints every command in order without running one.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from core.settings import REPOSITORY_ROOT
from tests.services import require_executable

STEPS = ["ruff check", "ruff format --check", "-m mypy", "rasa data validate", "-m pytest"]


def test_make_test_runs_lint_typecheck_and_rasa_data_validate_before_pytest() -> None:
    require_executable(Path(shutil.which("make") or "/usr/bin/make"), "make", "install GNU make")
    planned = subprocess.run(
        ["make", "-n", "test"], cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    first_line = {
        step: next((number for number, line in enumerate(planned) if step in line), None)
        for step in STEPS
    }
    assert None not in first_line.values(), first_line
    assert sorted(STEPS, key=lambda step: first_line[step]) == STEPS
    validate = planned[first_line["rasa data validate"]]
    for option in ("--config config.yml", "--domain nlu/domain", "--data nlu/data"):
        assert option in validate
