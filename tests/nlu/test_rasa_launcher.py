"""The launcher that starts `rasa run` hands Rasa's own argument parser the API token intact.

A generated token starts with "-" once in 64 times; passed as a separate argument, argparse
took it for an option and the Rasa server exited with code 2 before it started (seen in CI).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.settings import get_settings
from nlu.serving import RASA_MAIN_CALL, rasa_run_command
from tests.nlu.rasa_venv import run_in_rasa_venv

# Runs the launcher up to (not including) Rasa's main(), then parses what it built with
# Rasa's own parser, the one main() would use.
_PARSE_LIKE_RASA = """
import json, os, sys
launcher, token, *arguments = sys.argv[1:]
os.environ["RASA_AUTH_TOKEN"] = token
sys.argv = ["-c", *arguments]
exec(launcher)
from rasa.__main__ import create_argument_parser
parsed = create_argument_parser().parse_args(sys.argv[1:])
print("@@" + json.dumps({"auth_token": parsed.auth_token, "model": parsed.model,
                         "port": parsed.port, "enable_api": parsed.enable_api}))
"""


@pytest.mark.parametrize(
    "token",
    [
        "-starts-with-a-dash_0123456789abcdefghij",
        "--two-dashes-0123456789abcdefghij",
        "plain_token",
    ],
)
def test_rasa_reads_the_whole_token_whatever_it_starts_with(token: str) -> None:
    model = Path("/models/learncity-test.tar.gz")
    command = rasa_run_command(get_settings(), model, 5123)
    launcher = command[2]
    assert command[1] == "-c" and launcher.endswith(RASA_MAIN_CALL)
    parsed = run_in_rasa_venv(
        _PARSE_LIKE_RASA, launcher.removesuffix(RASA_MAIN_CALL), token, *command[3:]
    )
    assert parsed == {"auth_token": token, "model": str(model), "port": 5123, "enable_api": True}
    assert token not in json.dumps(command)  # the secret never reaches the process list
