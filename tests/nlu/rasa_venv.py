"""Run a piece of test code inside the Rasa venv (Python 3.10) and read back what it printed.

The scripts print `@@` followed by one JSON document; everything before it (Rasa's and
TensorFlow's chatter) is ignored.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from core.settings import REPOSITORY_ROOT, get_settings
from nlu.training import rasa_environment
from tests.services import require_executable


def run_in_rasa_venv(
    script: str | Path, *arguments: str, stdin: Any = None, python: Path | None = None
) -> Any:
    """Run `script` (code, or a file) in the Rasa venv; fails, saying how to make it, when the
    venv is missing (a skip is no pass)."""
    python = require_executable(
        python or get_settings().rasa_venv / "bin" / "python",
        "the Rasa venv's Python",
        "`make setup` creates the Rasa venv",
    )
    # -u: nothing waits in a buffer, so a library's exit handler cannot cut the JSON short
    # (seen once: the policy-history checks' 230 KB answer ended mid-string).
    command = (
        [str(python), "-u", str(script)]
        if isinstance(script, Path)
        else [str(python), "-u", "-c", script]
    )
    completed = subprocess.run(
        [*command, *arguments],
        input=None if stdin is None else json.dumps(stdin),
        capture_output=True,
        text=True,
        cwd=REPOSITORY_ROOT,
        env=rasa_environment(),
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "@@" in completed.stdout, f"no @@ answer; stderr: {completed.stderr[-3000:]}"
    answer = completed.stdout.split("@@", 1)[1]
    try:
        return json.loads(answer)
    except json.JSONDecodeError as error:
        raise AssertionError(
            f"the answer ({len(answer)} characters) is not whole JSON: {error}; "
            f"stderr: {completed.stderr[-3000:]}"
        ) from error
