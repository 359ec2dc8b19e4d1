"""Choose the fallback and intent-guard thresholds on validation data, not by hand.

Usage: .venv/bin/python -m nlu.calibrate [--model PATH] [--write] [--guard-only]

Validation data: the `validation` split of every public corpus (out of scope, never trained on;
tests/nlu/public/SOURCES.md), the project's held-out set (in scope and out of scope) and the
validation split of the rephrased set (tests/nlu/rephrased/). The blind, paraphrase, rephrased
test and public test sets are never read here, so `make nlu-eval` on them stays a
test. The model is parsed once; the FallbackClassifier's rule (top confidence under `threshold`,
or a lead over the second intent under `ambiguity_threshold`, gives `nlu_fallback`) is then
replayed on Rasa's own ranking for every pair of values in the grid:

- fallback: among the pairs that lose at most `MAX_IN_SCOPE_LOSS` of held-out in-scope accuracy,
  the one whose worst language turns down the most out-of-scope text (then the best mean);
- intent guard (`actions/intent_guard.yml`, per group: forget_me, and every other
  state-changing intent): among the thresholds that act at once on at most `MAX_OOS_ACTED` of
  each language's out-of-scope text, the one that acts at once on the most genuine requests.

The choice and its validation scores are written to `<data dir>/reports/calibration.json`;
`--write` puts the chosen values into config.yml and actions/intent_guard.yml (a retrain follows,
as config.yml is a training input). `--guard-only` keeps the fallback config.yml has (chosen
before the training, e.g. by `nlu.ensemble_replay`) and calibrates and writes the guard with it:
intent_guard.yml is read at run time, so no retraining follows.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from nlu.eval_sources import (
    FALLBACK_INTENT,
    OUT_OF_SCOPE,
    STATE_CHANGING,
    EvaluationSet,
    evaluation_sets,
)
from nlu.nlu_data import REPOSITORY_ROOT

CONFIG_FILE = REPOSITORY_ROOT / "config.yml"
GUARD_FILE = REPOSITORY_ROOT / "actions" / "intent_guard.yml"
MAX_IN_SCOPE_LOSS = 0.02
MAX_OOS_ACTED = 0.01
FALLBACK_THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(14)]  # 0.30 .. 0.95
AMBIGUITY_THRESHOLDS = [round(0.05 * i, 2) for i in range(7)]  # 0.00 .. 0.30
GUARD_CONFIDENCES = [round(0.50 + 0.05 * i, 2) for i in range(10)] + [0.97, 0.99]
GUARD_MARGINS = [round(0.10 * i, 1) for i in range(8)]  # 0.0 .. 0.7
GUARD_GROUPS = {"forget_me": {"forget_me"}, "default": STATE_CHANGING - {"forget_me"}}


@dataclasses.dataclass(frozen=True)
class Item:
    """One validation utterance: gold intent, language, and the model's ranking without fallback."""

    gold: str
    language: str
    parsed: dict[str, Any]
    ranking: tuple[tuple[str, float], ...]


def items(sets: Iterable[EvaluationSet], parses: dict[str, dict[str, Any]]) -> list[Item]:
    found = []
    for evaluation_set in sets:
        for example in evaluation_set.examples:
            parsed = parses[example.text]
            ranking = tuple(
                (str(r["name"]), float(r.get("confidence") or 0.0))
                for r in parsed.get("intent_ranking") or []
                if r.get("name") and r["name"] != FALLBACK_INTENT
            )
            found.append(Item(example.intent, example.language, parsed, ranking))
    return found


def fallback_reading(item: Item, threshold: float, ambiguity: float) -> tuple[str, float]:
    """The FallbackClassifier's answer with these thresholds (Rasa 3.6 rule)."""
    if not item.ranking:
        return FALLBACK_INTENT, threshold
    top, confidence = item.ranking[0]
    second = item.ranking[1][1] if len(item.ranking) > 1 else 0.0
    if confidence < threshold or confidence - second < ambiguity:
        return FALLBACK_INTENT, threshold
    return top, confidence


def fallback_scores(found: list[Item], threshold: float, ambiguity: float) -> dict[str, Any]:
    """In-scope accuracy, and out-of-scope turned down per language, with these thresholds."""
    in_scope = [i for i in found if i.gold != OUT_OF_SCOPE]
    correct = sum(fallback_reading(i, threshold, ambiguity)[0] == i.gold for i in in_scope)
    turned_down: dict[str, list[bool]] = {}
    for item in found:
        if item.gold == OUT_OF_SCOPE:
            intent = fallback_reading(item, threshold, ambiguity)[0]
            turned_down.setdefault(item.language, []).append(
                intent in (FALLBACK_INTENT, OUT_OF_SCOPE)
            )
    per_language = {lang: sum(v) / len(v) for lang, v in turned_down.items()}
    return {
        "threshold": threshold,
        "ambiguity_threshold": ambiguity,
        "in_scope_accuracy": round(correct / max(len(in_scope), 1), 4),
        "oos_turned_down": {lang: round(v, 4) for lang, v in sorted(per_language.items())},
        "worst": round(min(per_language.values(), default=0.0), 4),
        "mean": round(sum(per_language.values()) / max(len(per_language), 1), 4),
    }


def choose_fallback(found: list[Item]) -> dict[str, Any]:
    baseline = fallback_scores(found, 0.0, 0.0)["in_scope_accuracy"]
    grid = [fallback_scores(found, t, a) for t in FALLBACK_THRESHOLDS for a in AMBIGUITY_THRESHOLDS]
    allowed = [g for g in grid if g["in_scope_accuracy"] >= baseline - MAX_IN_SCOPE_LOSS]
    best = max(
        allowed or grid,
        key=lambda g: (g["worst"], g["mean"], -g["threshold"], -g["ambiguity_threshold"]),
    )
    return {**best, "in_scope_accuracy_without_fallback": baseline}


def guard_scores(
    found: list[Item],
    intents: AbstractSet[str],
    fallback: tuple[float, float],
    decide: Callable[[Item, str], bool],
) -> dict[str, Any]:
    """Out-of-scope acted on at once per language, genuine requests acted on at once."""
    acted_oos: dict[str, list[bool]] = {}
    genuine = acted_genuine = 0
    for item in found:
        intent = fallback_reading(item, *fallback)[0]
        if item.gold == OUT_OF_SCOPE:
            acted = intent in intents and decide(item, intent)
            acted_oos.setdefault(item.language, []).append(acted)
        elif item.gold in intents:
            genuine += 1
            acted_genuine += intent == item.gold and decide(item, intent)
    per_language = {lang: sum(v) / len(v) for lang, v in acted_oos.items()}
    return {
        "oos_acted_on": {lang: round(v, 4) for lang, v in sorted(per_language.items())},
        "worst": round(max(per_language.values(), default=0.0), 4),
        "genuine_acted_on": round(acted_genuine / max(genuine, 1), 4),
        "genuine": genuine,
    }


def choose_guard(found: list[Item], fallback: tuple[float, float]) -> dict[str, Any]:
    from actions.intent_guard import ACT, Thresholds, assess, load_policy

    base = load_policy()
    chosen: dict[str, Any] = {}
    for group, intents in GUARD_GROUPS.items():
        grid = []
        for confidence in GUARD_CONFIDENCES:
            for margin in GUARD_MARGINS:
                limits = {**base.thresholds, group: Thresholds(confidence, margin)}
                policy = dataclasses.replace(base, thresholds=limits)

                def decide(item: Item, intent: str, policy: Any = policy) -> bool:
                    language = any(
                        e.get("entity") == "language" for e in item.parsed.get("entities") or []
                    )
                    return (
                        assess(item.parsed, intent, names_target=language, policy=policy).decision
                        == ACT
                    )

                scores = guard_scores(found, intents, fallback, decide)
                grid.append({"min_confidence": confidence, "min_margin": margin, **scores})
        allowed = [g for g in grid if g["worst"] <= MAX_OOS_ACTED]
        chosen[group] = max(
            allowed or grid,
            key=lambda g: (
                g["genuine_acted_on"],
                -g["worst"],
                g["min_confidence"],
                g["min_margin"],
            ),
        )
    return chosen


_FALLBACK_LINES = (
    r"(- name: FallbackClassifier\n\s+threshold: )([0-9.]+)(\n\s+ambiguity_threshold: )([0-9.]+)"
)


def configured_fallback(config_file: Path = CONFIG_FILE) -> tuple[float, float]:
    """The FallbackClassifier's threshold and ambiguity_threshold as config.yml has them."""
    found = re.search(_FALLBACK_LINES, config_file.read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit(f"error: {config_file}: no FallbackClassifier thresholds")
    return float(found.group(2)), float(found.group(4))


def write_values(
    fallback: dict[str, Any] | None,
    guard: dict[str, Any],
    config_file: Path = CONFIG_FILE,
    guard_file: Path = GUARD_FILE,
) -> None:
    """Put the chosen numbers into config.yml (unless `fallback` is None) and
    intent_guard.yml, keeping every comment."""
    config = config_file.read_text(encoding="utf-8")
    if fallback is not None:
        config = _set_pair(
            config_file,
            config,
            r"(- name: FallbackClassifier\n\s+threshold: )[0-9.]+(\n\s+ambiguity_threshold: )[0-9.]+",
            (fallback["threshold"], fallback["ambiguity_threshold"]),
        )
    text = guard_file.read_text(encoding="utf-8")
    for group, values in guard.items():
        text = _set_pair(
            guard_file,
            text,
            rf"(\n  {group}:\n    min_confidence: )[0-9.]+(.*\n    min_margin: )[0-9.]+",
            (values["min_confidence"], values["min_margin"]),
        )
    config_file.write_text(config, encoding="utf-8")
    guard_file.write_text(text, encoding="utf-8")


def _set_pair(path: Path, text: str, pattern: str, numbers: tuple[float, float]) -> str:
    """The two numbers matched by `pattern` replaced; the file named when they are not there."""
    replaced, found = re.subn(pattern, rf"\g<1>{numbers[0]:.2f}\g<2>{numbers[1]:.2f}", text)
    if found != 1:
        raise SystemExit(f"error: {path}: the lines `{pattern}` should update are not there")
    return replaced


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nlu.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="trained model (.tar.gz); default: newest")
    parser.add_argument(
        "--write", action="store_true", help="update config.yml and intent_guard.yml"
    )
    parser.add_argument("--limit", type=int, help="at most N utterances per file (a quick check)")
    parser.add_argument(
        "--guard-only",
        action="store_true",
        help="keep config.yml's fallback (no retraining): calibrate and write the guard only",
    )
    args = parser.parse_args(argv)

    from core.settings import get_settings
    from nlu.evaluate import newest_model, parse_all

    settings = get_settings()
    model = args.model or newest_model(settings.models_dir)
    if model is None or not model.exists():
        print("error: no trained model; run `learncity train` or pass --model", file=sys.stderr)
        return 2
    sets = [
        s
        for s in evaluation_sets("validation", args.limit)
        if s.public or s.name in ("project held-out", "project rephrased (validation)")
    ]
    texts = [e.text for s in sets for e in s.examples]
    parses = dict(zip(texts, parse_all(model, texts, settings.rasa_venv), strict=True))
    found = items(sets, parses)
    fallback = choose_fallback(found)
    kept = configured_fallback() if args.guard_only else None
    guard = choose_guard(found, kept or (fallback["threshold"], fallback["ambiguity_threshold"]))
    print(
        f"model {model.name}; validation: "
        + ", ".join(f"{s.name} ({len(s.examples)})" for s in sets)
    )
    print(
        f"FallbackClassifier threshold {fallback['threshold']:.2f}, ambiguity_threshold "
        f"{fallback['ambiguity_threshold']:.2f}: in-scope accuracy {fallback['in_scope_accuracy']:.3f} "
        f"(without fallback {fallback['in_scope_accuracy_without_fallback']:.3f}); "
        f"OOS turned down {fallback['oos_turned_down']}"
    )
    for group, values in guard.items():
        print(
            f"intent guard {group}: min_confidence {values['min_confidence']:.2f}, min_margin "
            f"{values['min_margin']:.2f}: genuine requests acted on at once "
            f"{values['genuine_acted_on']:.3f} of {values['genuine']}; OOS acted on {values['oos_acted_on']}"
        )
    report = settings.data_dir / "reports" / "calibration.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        json.dumps({"model": model.name, "fallback": fallback, "guard": guard}, indent=2),
        encoding="utf-8",
    )
    if kept:
        print(f"intent guard calibrated with config.yml's fallback {kept[0]:.2f}/{kept[1]:.2f}")
    if args.write:
        write_values(None if kept else fallback, guard)
        print(f"written to {CONFIG_FILE.name} and {GUARD_FILE.relative_to(REPOSITORY_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
