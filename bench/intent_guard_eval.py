"""How often the intent guard acts at once, asks, or would act on a wrong reading.

Parses the held-out set (tests/nlu/heldout) and the blind set (tests/nlu/blind, written by
someone who never saw the training data) with the trained model, and for every utterance
read as a state-changing intent asks `actions.intent_guard.assess` what it would do
(unsubscribe assumes a subscription exists, the worst case). Two numbers matter:
- genuine requests (gold intent = predicted) acted on in one turn (the rest need one "yes");
- wrong readings (gold != predicted) acted on anyway: the guesses the guard let through.

Usage: .venv/bin/python -m bench.intent_guard_eval [--model PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from actions.conversation_actions import names_a_language
from actions.intent_guard import ACT, assess
from core.settings import REPOSITORY_ROOT, get_settings
from nlu.evaluate import parse_with_model
from nlu.nlu_data import HELDOUT_DIR, language_files, read_examples
from nlu.training import model_path

GUARDED = (
    "set_language",
    "subscribe_events",
    "unsubscribe_events",
    "forget_me",
    "register_interest",
)
# Evidence words may be taken from the training set's misses, never from held-out or blind.
SOURCES = {
    "training": REPOSITORY_ROOT / "nlu" / "data" / "nlu",
    "heldout": HELDOUT_DIR,
    "blind": REPOSITORY_ROOT / "tests" / "nlu" / "blind",
}


def evaluate(parses: list[tuple[str, str, str, dict[str, Any]]]) -> dict[str, Any]:
    """Counts per (source, kind) of what the guard decided; kind is genuine or wrong."""
    counts: dict[str, Counter] = defaultdict(Counter)
    leaks: list[dict[str, str]] = []
    asked_in_training: list[str] = []
    for source, language, gold, parsed in parses:
        predicted = (parsed.get("intent") or {}).get("name")
        if predicted not in GUARDED:
            continue
        verdict = assess(
            parsed,
            predicted,
            names_target=predicted == "set_language" and names_a_language(parsed.get("text")),
        )
        kind = "genuine" if gold == predicted else "wrong"
        counts[f"{source} {kind}"][verdict.decision] += 1
        if source == "training" and kind == "genuine" and verdict.decision != ACT:
            asked_in_training.append(f"{predicted}: {parsed.get('text', '')}")
        if kind == "wrong" and verdict.decision == ACT:
            leaks.append({"source": source, "language": language, "text": parsed.get("text", ""),
                          "gold": gold, "predicted": predicted})  # fmt: skip
    return {
        "counts": {key: dict(value) for key, value in counts.items()},
        "acted_wrongly": leaks,
        "asked_in_training": asked_in_training,
    }


def render(report: dict[str, Any]) -> str:
    lines = [
        "| set | readings | acted at once | asked (confirm) | asked (choose) |",
        "|---|---|---|---|---|",
    ]
    for key, counts in sorted(report["counts"].items()):
        total = sum(counts.values())
        lines.append(
            f"| {key} | {total} | {counts.get('act', 0)} ({counts.get('act', 0) / total:.2f}) "
            f"| {counts.get('confirm', 0)} | {counts.get('choose', 0)} |"
        )
    lines.append("")
    lines.append("Wrong readings acted on:")
    lines += [f"- [{leak['source']} {leak['language']}] {leak['text']} (gold {leak['gold']}, read "
              f"{leak['predicted']})" for leak in report["acted_wrongly"]] or ["- none"]  # fmt: skip
    lines.append("")
    lines.append("Genuine training requests that were asked about (candidates for evidence words):")
    lines += [f"- {item}" for item in report["asked_in_training"]] or ["- none"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model (default: current one)")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    settings = get_settings()
    model = args.model or model_path(settings)
    if not model.exists():
        print(f"error: no model at {model}; run `learncity train` first", file=sys.stderr)
        return 2
    examples = [
        (source, example)
        for source, folder in SOURCES.items()
        for path in language_files(folder)
        for example in read_examples(path)
    ]
    parsed = parse_with_model(model, [e.text for _, e in examples], settings.rasa_venv)
    report = evaluate(
        [(s, e.language, e.intent, p) for (s, e), p in zip(examples, parsed, strict=True)]
    )
    report["model"] = model.name
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
