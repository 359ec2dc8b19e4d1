"""Changing the newcomer guidance texts (each step's title and text per language) from the staff
console, keeping the rest of the file (comments, order, items, keywords) as city staff wrote it.

The file is written whole to a temporary file and then renamed, so the action server (which
reads it again when it changes: newcomer_guidance.load_steps) never reads half a file; the
result is read back with `load_steps` before the rename, so a change that would break the
file is refused with the same message `load_steps` gives.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from ruamel.yaml import YAML

from actions.newcomer_guidance import GuidanceContentError, guidance_file, load_steps
from nlu.language import SUPPORTED_LANGUAGES

MAX_TITLE_CHARS = 60  # a button's label
MAX_TEXT_CHARS = 1000


def save_step_texts(
    step_id: str,
    titles: dict[str, str],
    texts: dict[str, str],
    path: Path | None = None,
) -> None:
    """Replace one step's title and text in every supported language. Raises
    GuidanceContentError naming the step, field and language at fault (nothing is written)."""
    path = path or guidance_file()
    problems = check_step_texts(step_id, titles, texts)
    if problems:
        raise GuidanceContentError("; ".join(problems))
    yaml = YAML()  # round trip: comments and key order stay
    yaml.width = 4096  # one line per text, as the file writes them
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)  # "  - id:" under "steps:", as written
    data = yaml.load(path.read_text(encoding="utf-8"))
    step = next((s for s in data.get("steps") or [] if str(s.get("id")) == step_id), None)
    if step is None:
        raise GuidanceContentError(f"{path}: no step with id {step_id!r}")
    for language in SUPPORTED_LANGUAGES:
        step["title"][language] = titles[language].strip()
        step["text"][language] = " ".join(texts[language].split())
    out = io.StringIO()
    yaml.dump(data, out)
    handle, temporary = tempfile.mkstemp(prefix=".guidance-", suffix=".yml", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(out.getvalue())
        load_steps(Path(temporary))  # the same checks the action server makes
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def check_step_texts(step_id: str, titles: dict[str, str], texts: dict[str, str]) -> list[str]:
    """What is wrong with these texts, one sentence each (empty when nothing is)."""
    problems = []
    for field, values, limit in (
        ("title", titles, MAX_TITLE_CHARS),
        ("text", texts, MAX_TEXT_CHARS),
    ):
        for language in SUPPORTED_LANGUAGES:
            value = (values.get(language) or "").strip()
            if not value:
                problems.append(f"step {step_id}: field {field} lacks {language}")
            elif len(value) > limit:
                problems.append(
                    f"step {step_id}: field {field} in {language} is longer than {limit} characters"
                )
    return problems
