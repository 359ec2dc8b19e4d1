"""Public out-of-scope text: splits are disjoint and reproducible, and `make nlu-eval` runs on them."""

from __future__ import annotations

import json
from pathlib import Path

from nlu.eval_sources import PROJECT_SETS, evaluation_sets
from nlu.nlu_data import language_files, read_examples
from nlu.public_corpora import (
    LANGUAGES,
    PUBLIC_TEST_DIR,
    PUBLIC_TRAINING_DIR,
    PublicSentence,
    assign_splits,
    capped,
    in_scope_counts,
    plain_text,
    project_texts,
    select,
    split_of,
    training_cap,
    xsid_sentences,
)
from tests.conftest import SHARED_MODELS_DIR


def _texts(folder: Path) -> set[str]:
    return {e.text for path in folder.rglob("*.yml") for e in read_examples(path, "xx")}


def test_train_validation_and_test_files_share_no_sentence():
    train = _texts(PUBLIC_TRAINING_DIR)
    validation = _texts(PUBLIC_TEST_DIR / "validation")
    test = _texts(PUBLIC_TEST_DIR / "test")

    assert len(train) > 900 and len(validation) > 1000 and len(test) > 1000
    assert train & validation == set()
    assert train & test == set()
    assert validation & test == set()


def test_every_language_has_public_training_validation_and_test_text():
    trained = {path.stem for path in language_files(PUBLIC_TRAINING_DIR)}
    validated = {p.stem for p in (PUBLIC_TEST_DIR / "validation").rglob("*.yml")}
    tested = {p.stem for p in (PUBLIC_TEST_DIR / "test").rglob("*.yml")}

    assert trained == validated == tested == set(LANGUAGES)


def test_public_training_text_stays_within_its_share_of_each_languages_in_scope_data():
    in_scope = in_scope_counts()
    public = {path.stem: len(read_examples(path)) for path in language_files(PUBLIC_TRAINING_DIR)}

    over = {
        language: (count, training_cap(in_scope[language]))
        for language, count in public.items()
        if count > training_cap(in_scope[language])
    }
    assert over == {}


def test_cap_keeps_the_same_sentences_on_a_fresh_build_or_on_files_already_capped():
    sentences = [
        PublicSentence("tatoeba", "fr", f"Il pleut depuis {n} jours.", f"It rained {n} days.", "")
        for n in range(60)
    ]

    once = capped(sentences, 10)

    assert len(once) == 10
    assert capped(capped(sentences, 30), 10) == once
    assert set(capped(list(reversed(sentences)), 10)) == set(once)
    assert [s for s in sentences if s in once] == once  # file order kept


def test_public_files_hold_only_out_of_scope_and_nothing_the_project_wrote():
    ours = project_texts()
    examples = [
        e
        for folder in (PUBLIC_TRAINING_DIR, PUBLIC_TEST_DIR)
        for path in folder.rglob("*.yml")
        for e in read_examples(path)
    ]

    assert {e.intent for e in examples} == {"out_of_scope"}
    assert [e.text for e in examples if plain_text(e.text) in ours] == []


def test_split_follows_the_english_form_so_translations_stay_together():
    english = "set an alarm for seven tomorrow morning"
    sentences = [
        PublicSentence("xsid", "zh", "明天早上七点设个闹钟", english, "alarm/set_alarm"),
        PublicSentence(
            "xsid", "ar", "اضبط منبها للساعة السابعة صباح الغد", english, "alarm/set_alarm"
        ),
        PublicSentence("xsid", "en", english, english, "alarm/set_alarm"),
    ]

    assert set(assign_splits(sentences)) == {split_of(english)}
    assert split_of(english) == split_of(english.upper() + " !")


def test_a_text_with_two_translations_stays_in_one_split():
    text = "请拼一下您的名字。"
    translations = [
        f"Please spell your {word}." for word in ("name", "full name", "first name", "surname")
    ]
    sentences = [PublicSentence("tatoeba", "zh", text, english, "") for english in translations]

    assert len(set(assign_splits(sentences))) == 1


def test_selection_is_deterministic_and_bounded(tmp_path):
    sentences = [
        PublicSentence(
            "tatoeba", "uk", f"Речення номер {n} про погоду.", f"Sentence {n} about the rain.", ""
        )
        for n in range(600)
    ]

    first = select(sentences, exclude={"речення номер 0 про погоду"})
    again = select(list(reversed(sentences)), exclude={"речення номер 0 про погоду"})
    splits = assign_splits(sentences[1:])
    pool = {split: splits.count(split) for split in ("train", "validation", "test")}

    assert first == again
    assert {split: len(first[("tatoeba", "uk", split)]) for split in pool} == {
        "train": min(pool["train"], 200),
        "validation": min(pool["validation"], 100),
        "test": min(pool["test"], 200),
    }
    assert sentences[0] not in [s for kept in first.values() for s in kept]


def test_xsid_reader_takes_text_english_form_and_intent(tmp_path):
    folder = tmp_path / "data" / "xSID-0.7"
    folder.mkdir(parents=True)
    block = "# id = 1\n# text-en = is it going to rain today\n# text = {text}\n# intent = weather/find\n1\tx\tweather/find\tO\n"
    for language, text in (
        ("zh", "今天会下雨吗"),
        ("ar", "هل ستمطر اليوم"),
        ("en", "is it going to rain today"),
    ):
        for part in ("valid", "test"):
            (folder / f"{language}.{part}.conll").write_text(
                block.format(text=text), encoding="utf-8"
            )

    found = sorted({(s.language, s.text, s.english, s.label) for s in xsid_sentences(tmp_path)})

    assert found == [
        ("ar", "هل ستمطر اليوم", "is it going to rain today", "weather/find"),
        ("en", "is it going to rain today", "is it going to rain today", "weather/find"),
        ("zh", "今天会下雨吗", "is it going to rain today", "weather/find"),
    ]


def test_test_sets_are_public_splits_and_project_sets_are_marked_as_ours():
    sets = {s.name: s.public for s in evaluation_sets("test")}

    assert {name for name, public in sets.items() if not public} == {
        *PROJECT_SETS,
        "project rephrased (test)",
    }
    assert {name for name, public in sets.items() if public} == {
        "clinc150 (test)",
        "tatoeba (test)",
        "xsid (test)",
    }


def test_nlu_eval_scores_every_source_and_language_through_the_real_model(tmp_path, monkeypatch):
    from core.settings import get_settings
    from nlu.evaluate import main
    from nlu.training import ensure_model

    monkeypatch.setenv("LEARNCITY_MODELS_DIR", str(SHARED_MODELS_DIR))
    get_settings.cache_clear()
    try:
        model = ensure_model(get_settings())
        exit_code = main(["--model", str(model), "--out", str(tmp_path), "--limit", "2"])
    finally:
        get_settings.cache_clear()

    assert exit_code == 0
    report = json.loads((tmp_path / "nlu-sources.json").read_text(encoding="utf-8"))
    languages = {source: set(scores) for source, scores in report["sources"].items()}
    assert languages == {
        "project held-out": {*LANGUAGES, "all"},
        "project blind": {*LANGUAGES, "all"},
        "project paraphrase": {*LANGUAGES, "all"},
        "project rephrased (test)": {*LANGUAGES, "all"},
        "clinc150 (test)": {"en", "all"},
        "tatoeba (test)": {*LANGUAGES, "all"},
        "xsid (test)": {"zh", "ar", "en", "all"},
    }
    tatoeba = report["sources"]["tatoeba (test)"]
    assert {language: tatoeba[language]["out_of_scope"] for language in LANGUAGES} == dict.fromkeys(
        LANGUAGES, 2
    )
    assert report["sources"]["clinc150 (test)"]["all"]["utterances"] == 2
    assert set(report["sources"]["project paraphrase"]["all"]) == {
        "utterances",
        "in_scope",
        "in_scope_accuracy",
        "out_of_scope",
        "oos_turned_down",
        "oos_state_changing",
        "oos_acted_on",
        "oos_language_question",
        "confident_wrong",
    }
    assert set(report["overlap"]) == {*PROJECT_SETS, "project rephrased (test)"}
    assert "| tatoeba (test) | uk | 2 |" in (tmp_path / "nlu-sources.md").read_text(
        encoding="utf-8"
    )
