"""Whether a state-changing intent may be acted on, or the citizen must be asked first.

Out-of-scope text ("切换到派对模式", "stop all the timers", "Supprime la minuterie") reaches
set_language, unsubscribe_events or forget_me with confidence 0.8-1.0 (issue 10), so confidence
alone cannot decide. A reading is acted on only when it is confident (confidence and margin to
the second intent, thresholds in `intent_guard.yml`) and consistent: the utterance names what the
intent acts on (a language, the news, "my data", registering). Otherwise the action asks
("Did you mean to stop the festival news?") or offers the two best readings as buttons.
A button payload (`/intent{...}`) is the citizen's explicit choice and is always acted on.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

GUARD_FILE = Path(__file__).with_name("intent_guard.yml")

ACT, CONFIRM, CHOOSE = "act", "confirm", "choose"
# Intents that are never offered as a "did you mean" reading (answers, not requests).
_NOT_READINGS = frozenset({"nlu_fallback", "affirm", "deny", "inform", "out_of_scope", "greet"})


class GuardFileError(ValueError):
    """intent_guard.yml cannot be used; the message names the file and the entry at fault."""


@dataclass(frozen=True)
class Thresholds:
    min_confidence: float
    min_margin: float


@dataclass(frozen=True)
class GuardPolicy:
    """The thresholds and evidence words of `intent_guard.yml`."""

    thresholds: Mapping[str, Thresholds]
    evidence: Mapping[str, tuple[str, ...]]
    cancel: frozenset[str]

    def thresholds_for(self, intent: str) -> Thresholds:
        return self.thresholds.get(intent) or self.thresholds["default"]

    def mentions(self, intent: str, text: str) -> bool:
        """Whether `text` names what `intent` acts on (one of its evidence words)."""
        lowered = " ".join(text.lower().split())
        return any(word in lowered for word in self.evidence.get(intent, ()))

    def is_cancel(self, text: str) -> bool:
        """Whether the whole message says "never mind" / 算了 / "annuler" / ..."""
        return _bare(text) in self.cancel


@dataclass(frozen=True)
class Reading:
    intent: str
    confidence: float


@dataclass(frozen=True)
class Verdict:
    """ACT, CONFIRM (ask yes/no about the top reading) or CHOOSE (offer `readings`)."""

    decision: str
    reason: str
    readings: tuple[Reading, ...] = field(default=())


def is_payload(text: str | None) -> bool:
    """A button's payload (`/intent{...}`): what the citizen chose, not what we guessed."""
    return bool(text) and str(text).lstrip().startswith("/")


def ranking(message: Mapping[str, Any]) -> list[Reading]:
    """The intents of a parsed message, best first (`intent_ranking`, else the intent)."""
    ranked = message.get("intent_ranking") or []
    readings = [
        Reading(str(item.get("name")), float(item.get("confidence") or 0.0))
        for item in ranked
        if item.get("name")
    ]
    if not readings and (message.get("intent") or {}).get("name"):
        intent = message["intent"]
        readings = [Reading(str(intent["name"]), float(intent.get("confidence") or 0.0))]
    return sorted(readings, key=lambda reading: reading.confidence, reverse=True)


def assess(
    message: Mapping[str, Any],
    intent: str,
    *,
    names_target: bool = False,
    policy: GuardPolicy | None = None,
) -> Verdict:
    """Decide for a message read as `intent`.

    `names_target` is the caller's own evidence (a language entity, a language name); the
    evidence words of `intent_guard.yml` count as well.
    """
    policy = policy or load_policy()
    if is_payload(message.get("text")):
        return Verdict(ACT, "a button payload")
    readings = [r for r in ranking(message) if r.intent != "nlu_fallback"]
    top = next((r for r in readings if r.intent == intent), Reading(intent, 0.0))
    second = next((r for r in readings if r.intent != intent), Reading("", 0.0))
    limits = policy.thresholds_for(intent)
    if top.confidence < limits.min_confidence or (
        top.confidence - second.confidence < limits.min_margin
    ):
        offered = tuple(r for r in (top, second) if r.intent and r.intent not in _NOT_READINGS)
        if len(offered) == 2:
            return Verdict(CHOOSE, f"unsure: {top} vs {second}", offered)
        return Verdict(CONFIRM, f"unsure: {top} vs {second}")
    if not (names_target or policy.mentions(intent, str(message.get("text") or ""))):
        return Verdict(CONFIRM, "the message does not name what the intent acts on")
    return Verdict(ACT, "confident and consistent")


@functools.cache
def load_policy(path: Path = GUARD_FILE) -> GuardPolicy:
    """The policy in `path`; a malformed file names itself and the entry at fault."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw_thresholds = data.get("thresholds") or {}
    if "default" not in raw_thresholds:
        raise GuardFileError(f"{path}: `thresholds` needs a `default` entry")
    thresholds: dict[str, Thresholds] = {}
    for name, values in raw_thresholds.items():
        try:
            thresholds[name] = Thresholds(
                min_confidence=float(values["min_confidence"]),
                min_margin=float(values["min_margin"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise GuardFileError(
                f"{path}: thresholds.{name} needs numbers min_confidence and min_margin ({error})"
            ) from error
    evidence = {
        str(name): tuple(str(word).lower() for word in _words(path, f"evidence.{name}", words))
        for name, words in (data.get("evidence") or {}).items()
    }
    cancel = frozenset(_bare(str(word)) for word in _words(path, "cancel", data.get("cancel")))
    return GuardPolicy(thresholds=thresholds, evidence=evidence, cancel=cancel)


def _words(path: Path, where: str, words: Any) -> Sequence[Any]:
    if not isinstance(words, list) or not all(str(word).strip() for word in words):
        raise GuardFileError(f"{path}: {where} must be a list of non-empty words")
    return words


def _bare(text: str) -> str:
    """Lower case, single spaces, without the punctuation around it ("Annuler !" -> "annuler")."""
    stripped = " ".join(str(text).lower().split())
    return stripped.strip(" .,!?;:…。，！？；：、'\"«»“”‘’-—()（）¡¿")
