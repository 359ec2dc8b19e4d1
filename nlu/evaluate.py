"""Evaluate the trained NLU: a detailed report on one set, and a table per source and language.

Usage: .venv/bin/python -m nlu.evaluate [--model PATH] [--out DIR] [--heldout DIR]
                                        [--split test|validation] [--limit N]
Writes `nlu-eval.md`/`.json` (intents, confusions and entities of the held-out set, or --heldout)
and `nlu-sources.md`/`.json` (per source and language: in-scope accuracy, out of scope turned
down, out of scope ending in a state-changing intent, confident-but-wrong; nlu.eval_sources)
under `<data dir>/reports/` (or --out), and prints both. Every utterance is parsed by the real
model through Rasa's own `Agent` in the Rasa venv (`nlu.parse_batch`), in one process; no server
is needed. The language of an utterance is the name of its file (`tests/nlu/heldout/zh.yml` → zh).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from nlu.eval_sources import evaluation_sets, write_sources_report
from nlu.nlu_data import (
    HELDOUT_DIR,
    TRAINING_DIR,
    Entity,
    Example,
    language_files,
    read_examples,
    read_synonyms,
)

# The FallbackClassifier answers `nlu_fallback` when unsure; the dialogue treats it like
# out_of_scope, so the evaluation does too (the report counts how often it happened).
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
NORMALISED_ENTITIES = ("schedule", "price", "audience", "language", "district")
TARGETS = {"zh": 0.95, "en": 0.95, "other": 0.90, "out_of_scope_recall": 0.9}
# Every folder of training utterances (ours, our near-misses, the public train split).
TRAINING_DIRS = (TRAINING_DIR, TRAINING_DIR.parent / "near_misses", TRAINING_DIR.parent / "public")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nlu.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="trained model (.tar.gz); default: newest")
    parser.add_argument("--out", type=Path, help="report folder; default: <data dir>/reports")
    parser.add_argument(
        "--heldout", type=Path, default=HELDOUT_DIR, help="set of the detailed report"
    )
    parser.add_argument(
        "--split", choices=("test", "validation"), default="test", help="public split to score"
    )
    parser.add_argument("--limit", type=int, help="at most N utterances per file (a quick check)")
    args = parser.parse_args(argv)

    from core.settings import get_settings

    settings = get_settings()
    model = args.model or newest_model(settings.models_dir)
    if model is None or not model.exists():
        print(
            f"error: no trained model at {args.model or settings.models_dir}; "
            "run `learncity train` first or pass --model PATH",
            file=sys.stderr,
        )
        return 2
    examples = [
        e for path in language_files(args.heldout) for e in read_examples(path)[: args.limit]
    ]
    if not examples:
        print(f"error: no held-out utterances under {args.heldout}", file=sys.stderr)
        return 2
    sets = evaluation_sets(args.split, args.limit)
    started = time.monotonic()
    texts = [e.text for e in examples] + [e.text for s in sets for e in s.examples]
    parsed = dict(zip(texts, parse_all(model, texts, settings.rasa_venv), strict=True))
    training = [
        e
        for folder in TRAINING_DIRS
        for path in language_files(folder)
        for e in read_examples(path)
    ]
    report = build_report(examples, [parsed[e.text] for e in examples], [e.text for e in training])
    report["test_set"] = str(args.heldout)
    report["model"] = str(model)
    report["parse_seconds"] = round(time.monotonic() - started, 1)
    out = args.out or settings.data_dir / "reports"
    out.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(report)
    (out / "nlu-eval.md").write_text(markdown, encoding="utf-8")
    (out / "nlu-eval.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    table = write_sources_report(out, sets, parsed, model, args.split, [e.text for e in training])
    print(markdown)
    print(table)
    print(f"(written to {out / 'nlu-eval.md'}, {out / 'nlu-sources.md'} and their .json)")
    return 0


def parse_all(model: Path, texts: list[str], rasa_venv: Path) -> list[dict[str, Any]]:
    """Parse the distinct texts once, answer for every text in order."""
    distinct = list(dict.fromkeys(texts))
    by_text = dict(zip(distinct, parse_with_model(model, distinct, rasa_venv), strict=True))
    return [by_text[text] for text in texts]


def parse_with_model(model: Path, texts: list[str], rasa_venv: Path) -> list[dict[str, Any]]:
    """Parse every text with the model, in one Rasa process (`nlu.parse_batch`)."""
    from nlu.training import rasa_environment

    python = rasa_venv / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"error: the Rasa venv is missing at {rasa_venv}; run `make setup`")
    completed = subprocess.run(
        [str(python), "-m", "nlu.parse_batch", str(model)],
        input=json.dumps(texts, ensure_ascii=False),
        capture_output=True,
        text=True,
        env=rasa_environment(),
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    marker = "\n@@RESULTS@@\n"
    if completed.returncode != 0 or marker not in completed.stdout:
        raise SystemExit(
            f"error: parsing with {model} failed (exit {completed.returncode}):\n"
            + completed.stderr[-3000:]
        )
    return json.loads(completed.stdout.split(marker, 1)[1])


def build_report(
    examples: list[Example],
    parses: list[dict[str, Any]],
    training_texts: list[str] | None = None,
) -> dict[str, Any]:
    """Intent accuracy and macro-F1 per language, confusions, entity scores per entity.

    With `training_texts`, also the accuracy on the utterances that do not occur verbatim
    in training (short turns like "yes" naturally do), so memorisation cannot flatter it.
    """
    rows = []
    for example, parsed in zip(examples, parses, strict=True):
        raw = (parsed.get("intent") or {}).get("name") or FALLBACK_INTENT
        predicted = OUT_OF_SCOPE if raw == FALLBACK_INTENT else raw
        rows.append((example, raw, predicted, parsed.get("entities") or []))

    languages = sorted({e.language for e in examples}, key=_language_order)
    per_language = {}
    for language in languages:
        subset = [(e.intent, p) for e, _raw, p, _ in rows if e.language == language]
        per_language[language] = _intent_scores(subset)
        per_language[language]["target"] = TARGETS.get(language, TARGETS["other"])
    overall = _intent_scores([(e.intent, p) for e, _raw, p, _ in rows])

    oos = [p for e, _raw, p, _ in rows if e.intent == OUT_OF_SCOPE]
    in_scope_as_oos = sum(
        1 for e, _r, p, _ in rows if e.intent != OUT_OF_SCOPE and p == OUT_OF_SCOPE
    )
    confusions = Counter((e.intent, p) for e, _raw, p, _ in rows if e.intent != p)
    confusion_examples: dict[tuple[str, str], str] = {}
    for e, _raw, p, _ in rows:
        if e.intent != p:
            confusion_examples.setdefault((e.intent, p), e.text)
    errors = [
        {"language": e.language, "text": e.text, "expected": e.intent, "predicted": raw}
        for e, raw, p, _ in rows
        if e.intent != p
    ]
    seen = {_plain(text) for text in training_texts or []}
    novel = [(e.intent, p) for e, _raw, p, _ in rows if _plain(e.text) not in seen]
    return {
        "utterances": len(rows),
        "verbatim_in_training": len(rows) - len(novel),
        "novel_accuracy": _ratio(sum(g == p for g, p in novel), len(novel)),
        "overall": overall,
        "per_language": per_language,
        "out_of_scope": {
            "support": len(oos),
            "recall": _ratio(sum(p == OUT_OF_SCOPE for p in oos), len(oos)),
            "target": TARGETS["out_of_scope_recall"],
            "in_scope_sent_to_out_of_scope": in_scope_as_oos,
            "fallback_predictions": sum(1 for _e, raw, _p, _x in rows if raw == FALLBACK_INTENT),
        },
        "confusions": [
            {"expected": a, "predicted": b, "count": n, "example": confusion_examples[(a, b)]}
            for (a, b), n in confusions.most_common(15)
        ],
        "entities": _entity_scores(rows),
        "errors": errors,
        "entity_errors": _entity_errors(rows),
    }


def _plain(text: str) -> str:
    return re.sub(r"[\s\W_]+", " ", text.lower()).strip()


def _intent_scores(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    labels = sorted({gold for gold, _ in pairs})
    per_intent = {}
    for label in labels:
        true_positive = sum(1 for g, p in pairs if g == label and p == label)
        predicted = sum(1 for _g, p in pairs if p == label)
        support = sum(1 for g, _p in pairs if g == label)
        precision = _ratio(true_positive, predicted)
        recall = _ratio(true_positive, support)
        per_intent[label] = {
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
            "support": support,
        }
    return {
        "support": len(pairs),
        "accuracy": _ratio(sum(g == p for g, p in pairs), len(pairs)),
        "macro_f1": round(sum(s["f1"] for s in per_intent.values()) / max(len(per_intent), 1), 4),
        "per_intent": per_intent,
    }


def _entity_key(entity: str, text: str, value: str) -> tuple[str, str]:
    """Normalised entities compare by value; topic compares by the words (case-insensitive)."""
    if entity in NORMALISED_ENTITIES:
        return entity, str(value)
    return entity, text.strip().lower()


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, str]:
    return read_synonyms()


def _gold_value(entity: Entity) -> str:
    """An annotation without a value ("[kids](audience)") means what the synonyms make of it."""
    if entity.entity in NORMALISED_ENTITIES:
        return _synonyms().get(entity.value.lower(), entity.value)
    return entity.value


def _gold_and_found(example: Example, predicted: list[dict[str, Any]]) -> tuple[Counter, Counter]:
    gold = Counter(_entity_key(e.entity, e.text, _gold_value(e)) for e in example.entities)
    found = Counter(
        _entity_key(
            e["entity"], example.text[e.get("start", 0) : e.get("end", 0)] or "", e["value"]
        )
        for e in predicted
        if e.get("entity") not in ("latitude", "longitude")
    )
    return gold, found


def _entity_errors(rows: list) -> list[dict[str, Any]]:
    """Utterances whose entities differ from the annotation: what was missed, what was extra."""
    errors = []
    for example, _raw, _p, predicted in rows:
        gold, found = _gold_and_found(example, predicted)
        if gold != found:
            errors.append(
                {
                    "language": example.language,
                    "text": example.text,
                    "missed": [f"{name}={value}" for name, value in sorted(gold - found)],
                    "extra": [f"{name}={value}" for name, value in sorted(found - gold)],
                }
            )
    return errors


def _entity_scores(rows: list) -> dict[str, Any]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for example, _raw, _p, predicted in rows:
        gold, found = _gold_and_found(example, predicted)
        for (name, _v), n in (gold & found).items():
            counts[name]["tp"] += n
        for (name, _v), n in (found - gold).items():
            counts[name]["fp"] += n
        for (name, _v), n in (gold - found).items():
            counts[name]["fn"] += n
    scores = {}
    for name in sorted(counts):
        c = counts[name]
        precision = _ratio(c["tp"], c["tp"] + c["fp"])
        recall = _ratio(c["tp"], c["tp"] + c["fn"])
        scores[name] = {
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
            "support": c["tp"] + c["fn"],
        }
    return scores


def render_markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown page (what `make nlu-eval` prints)."""
    lines = [
        f"# NLU evaluation on `{report.get('test_set', 'the held-out set')}`",
        "",
        f"Model: `{Path(report.get('model', '?')).name}` — {report['utterances']} utterances"
        + (f", parsed in {report['parse_seconds']} s" if "parse_seconds" in report else ""),
        "",
        f"{report['verbatim_in_training']} of them occur verbatim in the training data; "
        f"accuracy on the other {report['utterances'] - report['verbatim_in_training']}: "
        f"{report['novel_accuracy']:.3f}.",
        "",
        "`nlu_fallback` (the FallbackClassifier) counts as out_of_scope.",
        "",
        "## Intents per language",
        "",
        "| language | utterances | accuracy | macro-F1 | target accuracy | met |",
        "|---|---:|---:|---:|---:|:-:|",
    ]
    for language, scores in report["per_language"].items():
        met = "yes" if scores["accuracy"] >= scores["target"] else "NO"
        lines.append(
            f"| {language} | {scores['support']} | {scores['accuracy']:.3f} | "
            f"{scores['macro_f1']:.3f} | {scores['target']:.2f} | {met} |"
        )
    overall = report["overall"]
    lines.append(
        f"| **all** | {overall['support']} | {overall['accuracy']:.3f} | "
        f"{overall['macro_f1']:.3f} | | |"
    )
    oos = report["out_of_scope"]
    lines += [
        "",
        f"**out_of_scope recall**: {oos['recall']:.3f} (target {oos['target']:.2f}, "
        f"{oos['support']} utterances); in-scope utterances sent to out_of_scope: "
        f"{oos['in_scope_sent_to_out_of_scope']}; nlu_fallback answers: "
        f"{oos['fallback_predictions']}",
        "",
        "## Intents overall",
        "",
        "| intent | precision | recall | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    for intent, s in overall["per_intent"].items():
        lines.append(
            f"| {intent} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |"
        )
    lines += ["", "## Top confusions", "", "| expected | predicted | count | example |"]
    lines.append("|---|---|---:|---|")
    for c in report["confusions"] or []:
        lines.append(f"| {c['expected']} | {c['predicted']} | {c['count']} | {c['example']} |")
    if not report["confusions"]:
        lines.append("| (none) | | | |")
    lines += ["", "## Entities", "", "| entity | precision | recall | F1 | support |"]
    lines.append("|---|---:|---:|---:|---:|")
    for name, s in report["entities"].items():
        lines.append(
            f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |"
        )
    lines += ["", "## Misclassified utterances", ""]
    for error in report["errors"]:
        lines.append(
            f"- [{error['language']}] {error['text']} — expected {error['expected']}, "
            f"got {error['predicted']}"
        )
    if not report["errors"]:
        lines.append("(none)")
    lines += ["", "## Entity mistakes", ""]
    for error in report.get("entity_errors") or []:
        missed = ", ".join(error["missed"]) or "-"
        extra = ", ".join(error["extra"]) or "-"
        lines.append(f"- [{error['language']}] {error['text']} — missed {missed}; extra {extra}")
    if not report.get("entity_errors"):
        lines.append("(none)")
    return "\n".join(lines) + "\n"


def newest_model(folder: Path) -> Path | None:
    """The model of the current training inputs if trained, else the newest in `folder`."""
    from core.settings import get_settings
    from nlu.training import model_path

    current = model_path(get_settings())
    if current.parent == folder and current.exists():
        return current
    models = sorted(folder.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def _language_order(language: str) -> tuple[int, str]:
    order = ("zh", "en", "es", "fr", "ar", "ru", "uk")
    return (order.index(language) if language in order else len(order), language)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _f1(precision: float, recall: float) -> float:
    return round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0


if __name__ == "__main__":
    raise SystemExit(main())
