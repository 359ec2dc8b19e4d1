"""Training sentences must not copy evaluation sentences: word Jaccard < 0.5 with every one.

Usage: .venv/bin/python -m nlu.wording_check [--since COMMIT] [--limit 0.5]

Compares training utterances (nlu/data/nlu, near_misses, public) with every validation and test
utterance of the same language (the project's held-out, blind, paraphrase, follow-up and
rephrased sets, the public validation and test splits), in words as `nlu.eval_sources` counts
them (Chinese in character pairs). `--since COMMIT` checks only the utterances added after that
commit (the new sentences of a change); without it, every training utterance. Prints each one
whose highest similarity reaches the limit, with its nearest evaluation utterance, and exits 1
if there is any, so a new sentence written for a gap the validation errors showed is a new
wording, not a copy of a validation (or test) sentence.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from nlu.eval_sources import DIALECT_DIR, PROJECT_SETS, PUBLIC_DIR, REPHRASED_DIR, _words
from nlu.evaluate import TRAINING_DIRS
from nlu.nlu_data import REPOSITORY_ROOT, Example, language_files, read_examples

FOLLOW_UPS_DIR = REPOSITORY_ROOT / "tests" / "nlu" / "follow_ups"
LIMIT = 0.5


def evaluation_folders() -> list[Path]:
    """Every folder of validation or test utterances, one yml file per language."""
    folders = [*PROJECT_SETS.values(), FOLLOW_UPS_DIR]
    folders += [REPHRASED_DIR / split for split in ("validation", "test")]
    folders += [DIALECT_DIR / "validation"]
    folders += sorted(p for split in ("validation", "test") for p in (PUBLIC_DIR / split).glob("*"))
    return [folder for folder in folders if folder.is_dir()]


def examples_in(folders: Iterable[Path]) -> list[Example]:
    return [e for folder in folders for path in language_files(folder) for e in read_examples(path)]


def texts_at(commit: str) -> set[str]:
    """The training utterances as they were at `commit` (read from git)."""
    found: set[str] = set()
    scratch_dir = Path(tempfile.mkdtemp(prefix="wording-check-"))
    for folder in TRAINING_DIRS:
        relative = folder.relative_to(REPOSITORY_ROOT)
        listing = _git("ls-tree", "--name-only", f"{commit}:{relative}")
        for name in listing.split():
            if not (name.endswith(".yml") and len(name) == 6):
                continue
            text = _git("show", f"{commit}:{relative}/{name}")
            scratch = scratch_dir / name  # read_examples reads a file
            scratch.write_text(text, encoding="utf-8")
            found.update(e.text for e in read_examples(scratch, name[:2]))
            scratch.unlink()
    scratch_dir.rmdir()
    return found


def _git(*arguments: str) -> str:
    return subprocess.run(
        ["git", *arguments], cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=True
    ).stdout


def too_close(
    candidates: Iterable[Example], evaluation: Iterable[Example], limit: float = LIMIT
) -> list[tuple[Example, Example, float]]:
    """(training utterance, nearest evaluation utterance, similarity) at or above `limit`."""
    by_language: dict[str, list[tuple[Example, set[str]]]] = {}
    for example in evaluation:
        by_language.setdefault(example.language, []).append((example, _words(example.text)))
    found = []
    for candidate in candidates:
        words = _words(candidate.text)
        if not words:
            continue
        best: tuple[float, Example | None] = (0.0, None)
        for other, other_words in by_language.get(candidate.language, []):
            union = len(words | other_words)
            similarity = len(words & other_words) / union if union else 0.0
            if similarity > best[0]:
                best = (similarity, other)
        if best[1] is not None and best[0] >= limit:
            found.append((candidate, best[1], best[0]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nlu.wording_check", description=__doc__.splitlines()[0])
    parser.add_argument("--since", help="check only utterances added after this commit")
    parser.add_argument("--limit", type=float, default=LIMIT)
    args = parser.parse_args(argv)
    candidates = examples_in(TRAINING_DIRS)
    if args.since:
        before = texts_at(args.since)
        candidates = [e for e in candidates if e.text not in before]
    evaluation = examples_in(evaluation_folders())
    close = too_close(candidates, evaluation, args.limit)
    for candidate, nearest, similarity in close:
        print(
            f"{candidate.source}: {candidate.text!r} is {similarity:.2f} from "
            f"{nearest.source}: {nearest.text!r}"
        )
    print(f"{len(candidates)} training utterances checked, {len(close)} at Jaccard ≥ {args.limit}")
    return 1 if close else 0


if __name__ == "__main__":
    sys.exit(main())
