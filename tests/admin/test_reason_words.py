"""Import rejection reasons are message codes: the command line keeps the importers' English,
the console words every code in Chinese with the same parameters, and a real dry run of a
file with bad fields reads in Chinese with the values as written."""

from __future__ import annotations

import copy
import re
import string
from pathlib import Path

import knowledge
from bot.admin.reason_words import REASON_WORDS, position_in, reason_in
from knowledge.importers.reasons import ENGLISH, reason


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_reason_code_has_chinese_words_with_the_same_parameters() -> None:
    chinese = REASON_WORDS["zh"]
    assert sorted(set(ENGLISH) - set(chinese)) == []
    assert {code: _fields(chinese[code]) for code in ENGLISH} == {
        code: _fields(text) for code, text in ENGLISH.items()
    }


def test_a_reason_is_its_english_text_and_keeps_its_code_when_copied() -> None:
    found = reason("out_of_range", value="95", limit=90.0)
    assert found == '"95" is out of range (-90 to 90)'
    assert copy.deepcopy(found).code == "out_of_range"
    assert reason_in(found, "zh") == "“95”超出范围（-90 到 90）"
    assert reason_in(found, "en") == found


def test_a_dry_run_of_bad_rows_reads_in_chinese_with_the_values_as_written(
    tmp_path: Path,
) -> None:
    upload = tmp_path / "bad.csv"
    upload.write_text(
        "id,type,name,latitude,days,start_time,url,free\n"
        "a1,workshop,Clay,95,someday,25:00,javascript:alert(1),maybe\n",
        encoding="utf-8",
    )
    summary = knowledge.import_catalog(upload, session=None, dry_run=True)
    shown = [
        (position_in(r.position, "zh"), reason_in(r.message, "zh"), reason_in(r.expected, "zh"))
        for r in summary.rejected
    ]
    assert len(shown) == 6
    for position, message, expected in shown:
        assert position == "第 2 行"
        leftover = re.sub(r"“[^”]*”|\"[^\"]*\"", "", message + expected)
        assert not re.search(r"\b(is|not|a|of|the|an|or|expected|missing)\b", leftover), leftover
    cli = [r.explained() for r in summary.rejected]
    assert 'bad.csv row 2, field latitude: "95" is out of range (-90 to 90)' in cli


def test_the_consoles_own_english_keeps_the_parameters_and_names_the_form_not_the_cli() -> None:
    english = REASON_WORDS["en"]
    assert {code: _fields(text) for code, text in english.items()} == {
        code: _fields(ENGLISH[code]) for code in english
    }
    for words in (english, REASON_WORDS["zh"]):
        assert [code for code, text in words.items() if "--encoding" in text] == []
        assert [code for code, text in words.items() if "--date-order" in text] == []
    found = reason("encoding_guessed", encoding="GB18030")
    assert "--encoding" in found and "--encoding" not in reason_in(found, "en")
