"""The custom tokenizer keeps words whole in every script and cuts Chinese with jieba (Rasa venv)."""

from __future__ import annotations

from tests.nlu.rasa_venv import run_in_rasa_venv

_SCRIPT = """
import json, sys
from nlu.components.multilingual_tokenizer import _load_dictionary, split_text
_load_dictionary(None)
texts = json.load(sys.stdin)
print("@@" + json.dumps([[(t.text, t.start, t.end) for t in split_text(x)] for x in texts]))
"""


def _tokenize(texts: list[str]) -> list[list[tuple[str, int, int]]]:
    return [[tuple(token) for token in tokens] for tokens in run_in_rasa_venv(_SCRIPT, stdin=texts)]


def test_cyrillic_arabic_and_latin_words_stay_whole_and_chinese_is_cut_into_words():
    ukrainian, arabic, french, chinese = _tokenize(
        [
            "Хочу вивчати англійську мову",
            "أريد تعلم اللغة الإنجليزية",
            "j'ai besoin d'aide!",
            "周末有免费的英语课吗",
        ]
    )
    assert [t[0] for t in ukrainian] == ["Хочу", "вивчати", "англійську", "мову"]
    assert [t[0] for t in arabic] == ["أريد", "تعلم", "اللغة", "الإنجليزية"]
    assert [t[0] for t in french] == ["j", "ai", "besoin", "d", "aide"]
    assert [t[0] for t in chinese] == ["周末", "有", "免费", "的", "英语", "课", "吗"]


def test_marks_stay_inside_words_and_elisions_and_hyphens_separate_annotated_words():
    arabic, french, russian = _tokenize(["غيّر اللغة", "cours d'anglais", "говори по-русски"])
    assert [t[0] for t in arabic] == ["غيّر", "اللغة"]
    assert [t[0] for t in french] == ["cours", "d", "anglais"]
    assert [t[0] for t in russian] == ["говори", "по", "русски"]


def test_code_switched_text_splits_at_the_script_boundary_with_true_offsets():
    text = "我想学python，busco clases de 中文"
    (tokens,) = _tokenize([text])
    words = [t[0] for t in tokens]
    assert "python" in words and "中文" in words and "busco" in words
    for word, start, end in tokens:
        assert text[start:end] == word
    assert "，" not in words


def test_city_words_from_the_dictionary_are_single_tokens():
    (tokens,) = _tokenize(["南湖附近有陶艺班吗"])
    words = [t[0] for t in tokens]
    assert words[:2] == ["南湖", "附近"]
    assert "陶艺" in words and "班" in words
