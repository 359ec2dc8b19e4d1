"""The NLU data keeps its contracts: intents, languages, synonyms, and a held-out set kept apart."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from core.settings import REPOSITORY_ROOT
from nlu.nlu_data import (
    HELDOUT_DIR,
    TRAINING_DIR,
    language_files,
    parse_annotated,
    read_examples,
    read_synonyms,
)

INTENTS = [
    "greet",
    "goodbye",
    "help",
    "search_course",
    "find_learning_space",
    "register_interest",
    "subscribe_events",
    "unsubscribe_events",
    "list_events",
    "migrant_guidance",
    "set_language",
    "my_data",
    "forget_me",
    "affirm",
    "deny",
    "out_of_scope",
    "share_location",
    "show_more",
    "inform",
    "request_human",
]
PAYLOAD_ONLY = {"share_location"}
REQUIRED_EVERYWHERE = [
    "greet",
    "goodbye",
    "help",
    "search_course",
    "find_learning_space",
    "migrant_guidance",
    "set_language",
    "affirm",
    "deny",
    "out_of_scope",
]
ENTITIES = {"topic", "district", "audience", "schedule", "price", "language"}
NORMALISED = {
    "schedule": {"weekend", "evening", "morning", "daytime", "weekday"},
    "price": {"free", "cheaper"},
    "audience": {
        "seniors",
        "children",
        "parents",
        "migrants",
        "unemployed",
        "women",
        "youth",
        "disabled",
    },
    "language": {"zh", "en", "es", "fr", "ar", "ru", "uk"},
    "district": {"Dongcheng", "Xicheng", "Nanhu", "Beishan", "Jiangbin", "Xingang"},
}
LANGUAGES = ("zh", "en", "es", "fr", "ar", "ru", "uk")


BLIND_DIR = REPOSITORY_ROOT / "tests" / "nlu" / "blind"
REPHRASED_DIR = REPOSITORY_ROOT / "tests" / "nlu" / "rephrased"


def _training():
    return [e for path in language_files(TRAINING_DIR) for e in read_examples(path)]


def _heldout():
    return [e for path in language_files(HELDOUT_DIR) for e in read_examples(path)]


def _plain(text: str) -> str:
    return re.sub(r"[\s\W_]+", " ", text.lower()).strip()


def test_domain_declares_every_intent_and_entity_of_the_inventory():
    domain = yaml.safe_load((REPOSITORY_ROOT / "nlu" / "domain" / "intents.yml").read_text())
    assert set(domain["intents"]) == set(INTENTS)
    assert set(domain["entities"]) >= ENTITIES
    assert {"latitude", "longitude"} <= set(domain["entities"])


def test_every_intent_but_payload_ones_has_training_examples():
    counts = Counter(e.intent for e in _training())
    for intent in INTENTS:
        if intent not in PAYLOAD_ONLY:
            assert counts[intent] >= 10, f"{intent} has only {counts[intent]} examples"
    assert set(counts) <= set(INTENTS), f"unknown intents: {set(counts) - set(INTENTS)}"


def test_chinese_and_english_cover_every_intent_and_others_the_required_ones():
    by_language: dict[str, Counter] = {}
    for example in _training():
        by_language.setdefault(example.language, Counter())[example.intent] += 1
    assert set(by_language) == set(LANGUAGES)
    for language in ("zh", "en"):
        for intent in set(INTENTS) - PAYLOAD_ONLY:
            assert by_language[language][intent] >= 10, f"{language}/{intent} is thin"
    for language in ("es", "fr", "ar", "ru", "uk"):
        for intent in REQUIRED_EVERYWHERE:
            assert by_language[language][intent] >= 5, f"{language}/{intent} is thin"
        assert by_language[language]["out_of_scope"] >= 15, f"{language} needs out_of_scope"


def test_no_held_out_utterance_appears_in_the_training_data():
    training = {_plain(e.text) for e in _training()}
    copied = [e.text for e in _heldout() if _plain(e.text) in training]
    assert copied == [], f"held-out utterances copied into training: {copied}"


def test_no_rephrased_request_appears_in_the_training_data_and_both_splits_cover_every_language():
    training = {_plain(e.text) for e in _training()}
    splits = {
        split: [e for path in language_files(REPHRASED_DIR / split) for e in read_examples(path)]
        for split in ("validation", "test")
    }

    copied = [
        e.text for examples in splits.values() for e in examples if _plain(e.text) in training
    ]
    assert copied == []
    for examples in splits.values():
        per_language = Counter(e.language for e in examples)
        assert set(per_language) == set(LANGUAGES)
        assert min(per_language.values()) >= 15, per_language
    validation = {_plain(e.text) for e in splits["validation"]}
    assert [e.text for e in splits["test"] if _plain(e.text) in validation] == []


def test_no_dialect_request_appears_in_the_training_data_and_it_is_scored_on_validation_only():
    from nlu.eval_sources import DIALECT_DIR, project_sets

    training = {_plain(e.text) for e in _training()}
    examples = [
        e for path in language_files(DIALECT_DIR / "validation") for e in read_examples(path)
    ]

    assert [e.text for e in examples if _plain(e.text) in training] == []
    assert Counter(e.language for e in examples) == {"ar": 52, "uk": 52}
    assert "project dialect (validation)" in project_sets("validation")
    assert not any(name.startswith("project dialect") for name in project_sets("test"))


def test_blind_set_is_readable_and_covers_every_language():
    # Written without seeing the training data, so common short turns ("hi", "yes") also
    # occur in training by nature; nlu.evaluate reports accuracy on the novel ones apart.
    blind = [e for path in language_files(BLIND_DIR) for e in read_examples(path)]
    assert {e.language for e in blind} == set(LANGUAGES)
    assert len(blind) >= 500


def test_held_out_set_has_twenty_utterances_per_intent_and_five_per_covered_language():
    heldout = _heldout()
    per_intent = Counter(e.intent for e in heldout)
    for intent in set(INTENTS) - PAYLOAD_ONLY:
        assert per_intent[intent] >= 20, f"held-out {intent}: {per_intent[intent]}"
    per_language = Counter((e.language, e.intent) for e in heldout)
    for language in LANGUAGES:
        for intent in REQUIRED_EVERYWHERE:
            assert per_language[(language, intent)] >= 5, f"held-out {language}/{intent}"


def test_annotated_entities_are_known_and_map_to_normalised_values():
    synonyms = read_synonyms()
    for example in _training() + _heldout():
        for entity in example.entities:
            assert entity.entity in ENTITIES, f"{example.source}: {example.text}: {entity}"
            if entity.entity == "topic":
                continue
            value = synonyms.get(entity.value.lower(), entity.value)
            assert value in NORMALISED[entity.entity], (
                f"{example.source}: '{entity.text}' as {entity.entity} maps to '{value}', "
                f"not one of {sorted(NORMALISED[entity.entity])}; add it to synonyms.yml"
            )


def test_synonyms_target_only_normalised_values():
    allowed = set().union(*NORMALISED.values())
    document = yaml.safe_load((TRAINING_DIR / "synonyms.yml").read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for item in document["nlu"]:
        assert item["synonym"] in allowed, f"synonym target {item['synonym']} is not normalised"
        for raw in item["examples"].splitlines():
            spoken = raw.strip()[2:].strip().lower()
            if not spoken:
                continue
            assert seen.setdefault(spoken, item["synonym"]) == item["synonym"], (
                f"'{spoken}' maps to both {seen[spoken]} and {item['synonym']}"
            )


def test_pipeline_normalised_values_match_the_contract():
    config = yaml.safe_load((REPOSITORY_ROOT / "config.yml").read_text())
    mapper = next(c for c in config["pipeline"] if c["name"].endswith("TypedEntitySynonymMapper"))
    assert {k: set(v) for k, v in mapper["normalised_values"].items()} == NORMALISED


@pytest.mark.parametrize(
    ("line", "text", "entities"),
    [
        ("我想学[陶艺](topic)", "我想学陶艺", [("topic", "陶艺", "陶艺")]),
        (
            '[周末]{"entity": "schedule", "value": "weekend"}有课吗',
            "周末有课吗",
            [("schedule", "周末", "weekend")],
        ),
        ("in [Nanhu](district:Nanhu)", "in Nanhu", [("district", "Nanhu", "Nanhu")]),
    ],
)
def test_annotations_are_read_as_rasa_reads_them(line, text, entities):
    plain, found = parse_annotated(line)
    assert plain == text
    assert [(e.entity, e.text, e.value) for e in found] == entities


def test_wording_check_flags_a_training_sentence_that_copies_an_evaluation_one():
    """`python -m nlu.wording_check --since COMMIT` keeps new training sentences worded away
    from every validation and test sentence (word Jaccard < 0.5, per language)."""
    from nlu.nlu_data import Example
    from nlu.wording_check import evaluation_folders, too_close

    def example(text: str, language: str) -> Example:
        return Example(text, "help", language, f"{language}.yml")

    evaluation = [
        example("what can you do for me", "en"),
        example("周末有免费的英语课吗", "zh"),
    ]
    candidates = [
        example("so what can you do for me", "en"),  # 5 of 6 words shared: a copy
        example("how do I use this service", "en"),  # new wording
        example("what can you do for me", "fr"),  # another language is not compared
        example("周末有没有免费的英语课", "zh"),  # character pairs shared: a copy
    ]
    close = too_close(candidates, evaluation)
    assert [(c.text, n.text) for c, n, _ in close] == [
        ("so what can you do for me", "what can you do for me"),
        ("周末有没有免费的英语课", "周末有免费的英语课吗"),
    ]
    folders = {str(f.relative_to(REPOSITORY_ROOT)) for f in evaluation_folders()}
    assert {
        "tests/nlu/heldout",
        "tests/nlu/rephrased/validation",
        "tests/nlu/rephrased/test",
        "tests/nlu/dialect/validation",
        "tests/nlu/public/validation/tatoeba",
        "tests/nlu/public/test/tatoeba",
    } <= folders
