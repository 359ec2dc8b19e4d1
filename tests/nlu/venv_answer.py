"""How a script run in the Rasa venv hands its answer back: `@@` and JSON on standard output.

Written with `os.write` until every byte is out. Under `python -u` standard output has no
buffer, and one text `write` of a large answer can stop after part of it (seen: a 230 KB
answer cut at 131,070 characters) without raising; `os.write` says how much it wrote.
"""

import json
import os
import sys
from typing import Any


def answer(result: Any) -> None:
    """Write `@@` and `result` as JSON to standard output, every byte of it."""
    sys.stdout.flush()
    remaining = memoryview(("@@" + json.dumps(result, ensure_ascii=False)).encode("utf-8"))
    while remaining:
        written = os.write(sys.stdout.fileno(), remaining)
        remaining = remaining[written:]
