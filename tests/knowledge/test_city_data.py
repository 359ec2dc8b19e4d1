"""The city file defines the districts once: importers read it, and the NLU data agrees with it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from core.settings import REPOSITORY_ROOT, get_settings
from knowledge.city import LANGUAGES, CityFileError, load_city
from knowledge.importers import read_file

SAMPLE_CITY = REPOSITORY_ROOT / "knowledge" / "sample_city" / "city.yml"
NLU_DATA = REPOSITORY_ROOT / "nlu" / "data" / "nlu"
# Ukrainian district names are not yet NLU synonyms (adding them retrains the model); the
# importers and search read them from the city file already. Every other language is checked.
NLU_NAME_LANGUAGES = ("zh", "en", "es", "fr", "ar", "ru")


@pytest.fixture
def other_city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """LEARNCITY_CITY_FILE pointing at a two-district city that is not Hailin."""
    path = tmp_path / "city.yml"
    path.write_text(
        "city:\n  names: {en: Riverton}\n"
        "districts:\n"
        "  - key: Riverside\n    names: {zh: 河畔, en: Riverside, ru: Риверсайд}\n"
        "    aliases: [河畔区]\n"
        "  - key: Hilltop\n    names: {en: Hilltop}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LEARNCITY_CITY_FILE", str(path))
    get_settings.cache_clear()
    yield path
    monkeypatch.delenv("LEARNCITY_CITY_FILE")
    get_settings.cache_clear()


def test_the_sample_city_names_every_district_in_the_seven_languages() -> None:
    city = load_city(SAMPLE_CITY)
    assert city.district_keys == ("Dongcheng", "Xicheng", "Nanhu", "Beishan", "Jiangbin", "Xingang")
    assert {language for d in city.districts for language in d.names} == set(LANGUAGES)
    assert [d.key for d in city.districts if set(d.names) != set(LANGUAGES)] == []
    assert all(d.centre is not None for d in city.districts)
    assert city.district_key("海林市南湖区") == "Nanhu"
    assert city.district_key("Jiangbin District, Hailin") == "Jiangbin"
    assert city.district_name("Nanhu", "ru") == "Наньху"


def test_importers_read_districts_from_the_configured_city_file(
    other_city: Path, tmp_path: Path
) -> None:
    path = tmp_path / "offer.csv"
    path.write_text(
        "id,type,name,district\n"
        "a,course,Pottery,河畔区\n"
        "b,course,Weaving,hilltop\n"
        "c,course,Knitting,Nanhu\n",
        encoding="utf-8",
    )
    parsed = read_file(path)
    # Nanhu is a Hailin district, not one of this city's: kept as the file wrote it.
    assert [(item.id, item.district) for item in parsed.items] == [
        ("a", "Riverside"),
        ("b", "Hilltop"),
        ("c", "Nanhu"),
    ]


def test_a_broken_city_file_is_refused_naming_the_file_and_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "city.yml"
    path.write_text(
        "districts:\n  - key: North\n    names: {de: Nord}\n  - names: {en: South}\n",
        encoding="utf-8",
    )
    with pytest.raises(CityFileError) as refused:
        load_city(path)
    assert str(refused.value) == (
        f"{path.resolve()}: district 1 (North): unknown language de (expected {' '.join(LANGUAGES)})"
    )


def _district_synonyms() -> dict[str, set[str]]:
    """NLU synonym targets that are districts, with their examples (lower case)."""
    keys = set(load_city(SAMPLE_CITY).district_keys)
    document = yaml.safe_load((NLU_DATA / "synonyms.yml").read_text(encoding="utf-8"))
    synonyms: dict[str, set[str]] = {}
    for entry in document["nlu"]:
        if "synonym" in entry and entry["synonym"] in keys | _config_districts():
            examples = [line[2:].strip() for line in entry["examples"].splitlines()]
            synonyms[entry["synonym"]] = {example.lower() for example in examples if example}
    return synonyms


def _config_districts() -> set[str]:
    config = yaml.safe_load((REPOSITORY_ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if "normalised_values" in component:
            return set(component["normalised_values"]["district"])
    raise AssertionError("config.yml has no normalised_values for district")


def test_nlu_training_data_names_the_same_districts_as_the_city_file() -> None:
    city = load_city(SAMPLE_CITY)
    synonyms = _district_synonyms()
    # The same districts everywhere: city file, NLU synonyms, and the synonym mapper's values.
    assert set(synonyms) == set(city.district_keys)
    assert _config_districts() == set(city.district_keys)
    # Every spelling the NLU maps to a district, the city file maps to the same district.
    disagreements = [
        (spelling, key, city.district_key(spelling, within_text=False))
        for key, spellings in synonyms.items()
        for spelling in spellings
        if city.district_key(spelling, within_text=False) != key
    ]
    assert disagreements == []
    lookups = yaml.safe_load((NLU_DATA / "lookups.yml").read_text(encoding="utf-8"))
    [district_lookup] = [e for e in lookups["nlu"] if e.get("lookup") == "district"]
    words = [line[2:].strip() for line in district_lookup["examples"].splitlines() if line.strip()]
    assert [word for word in words if not city.district_key(word, within_text=False)] == []
    # And the names citizens see on buttons are names the NLU understands when typed.
    not_understood = [
        (district.key, language, district.names[language])
        for district in city.districts
        for language in NLU_NAME_LANGUAGES
        if district.names[language].lower() not in synonyms[district.key] | {district.key.lower()}
    ]
    assert not_understood == []


def test_chinese_district_names_are_whole_words_for_the_tokenizer() -> None:
    words = {
        line.split()[0]
        for line in (REPOSITORY_ROOT / "nlu" / "components" / "jieba_words.txt")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip()
    }
    city = load_city(SAMPLE_CITY)
    assert [d.names["zh"] for d in city.districts if d.names["zh"] not in words] == []


def test_the_example_district_must_be_one_of_the_districts(tmp_path: Path) -> None:
    path = tmp_path / "city.yml"
    path.write_text(
        "city:\n  example_district: Nowhere\ndistricts:\n  - key: North\n", encoding="utf-8"
    )
    with pytest.raises(CityFileError) as refused:
        load_city(path)
    assert str(refused.value) == (
        f"{path.resolve()}: city: example_district Nowhere is not a district key"
    )
    assert load_city(SAMPLE_CITY).example_district == "Nanhu"


def test_the_citys_language_is_one_of_the_seven_or_left_out(tmp_path: Path) -> None:
    path = tmp_path / "city.yml"
    path.write_text("city:\n  language: de\ndistricts:\n  - key: North\n", encoding="utf-8")
    with pytest.raises(CityFileError) as refused:
        load_city(path)
    assert str(refused.value) == (
        f"{path.resolve()}: city: language de is not one of {' '.join(LANGUAGES)}"
    )
    chosen = tmp_path / "spanish.yml"
    chosen.write_text("city:\n  language: es\ndistricts:\n  - key: North\n", encoding="utf-8")
    assert (load_city(chosen).language, load_city(SAMPLE_CITY).language) == ("es", None)
