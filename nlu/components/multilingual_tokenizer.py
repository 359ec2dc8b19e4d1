"""A tokenizer for all seven languages: jieba for Chinese, whole words for every other script.

Rasa's JiebaTokenizer cuts Cyrillic and Arabic text into single letters, and the
WhitespaceTokenizer leaves a Chinese sentence as one token. Citizens mix both
("我想学python", "busco clases de 中文"), so this tokenizer splits text into runs of
Han characters (cut by jieba, with the city's own words in `jieba_words.txt`) and runs of
letters or digits in any other script (kept as words).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DEFAULT_DICTIONARY = Path(__file__).with_name("jieba_words.txt")

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


def _combining_marks() -> str:
    """Character-class ranges of every combining mark in the BMP (Arabic harakat, accents)."""
    marks = [c for c in range(0x300, 0x10000) if unicodedata.category(chr(c)).startswith("M")]
    ranges: list[tuple[int, int]] = []
    for code in marks:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(f"{chr(a)}-{chr(b)}" if a != b else chr(a) for a, b in ranges)


# A word: letters/digits of any script with their combining marks (غيّر stays one word).
# Apostrophes and hyphens separate words, so the topic of "cours d'anglais" and the
# language of "по-русски" are tokens of their own, as they are annotated.
_WORD = re.compile(rf"(?:[^\W_]|[{_combining_marks()}])+")
_SCRIPT_RUN = re.compile(rf"[{_HAN}]+|[^{_HAN}]+")
_HAN_RUN = re.compile(rf"^[{_HAN}]+$")
# Chinese course nouns glued to a topic by jieba ("英语课", "陶艺班"); cut them off so the
# topic stays its own token, as it is annotated in the training data.
_COURSE_SUFFIXES = ("课程", "培训班", "培训", "课", "班")

_loaded_dictionaries: set = set()


def _load_dictionary(path: str | None) -> None:
    """Teach jieba the city's words once per process (jieba's dictionary is global)."""
    import jieba

    target = Path(path) if path else DEFAULT_DICTIONARY
    key = str(target.resolve())
    if key in _loaded_dictionaries:
        return
    if target.exists():
        jieba.load_userdict(str(target))
    else:
        logger.warning("jieba dictionary %s not found; using jieba's own words only", target)
    jieba.setLogLevel(logging.WARNING)
    _loaded_dictionaries.add(key)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class MultilingualTokenizer(Tokenizer):
    """Jieba for Han runs, words for Latin, Cyrillic, Arabic and other scripts."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Same options as Rasa's tokenizers, plus a jieba user dictionary."""
        return {
            "dictionary_path": None,
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["jieba"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualTokenizer:
        _load_dictionary(config.get("dictionary_path"))
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Split the attribute's text into tokens with their character offsets."""
        text = message.get(attribute) or ""
        tokens = split_text(text)
        if not tokens and text.strip():
            # Emoji or punctuation alone (":)", "👍"): one token of the whole text, as Rasa's
            # own tokenizers do; with none DIET's prediction raises on the empty sequence.
            stripped = text.strip()
            tokens = [Token(stripped, text.index(stripped))]
        return self._apply_token_pattern(tokens)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Tokenize, then cut tokens at annotated entity edges so every entity is whole tokens."""
        training_data = super().process_training_data(training_data)
        for example in training_data.training_examples:
            entities = example.get(ENTITIES) or []
            tokens = example.get(TOKENS_NAMES[TEXT])
            if entities and tokens:
                edges = {e["start"] for e in entities} | {e["end"] for e in entities}
                example.set(TOKENS_NAMES[TEXT], _cut_at(tokens, edges))
        return training_data


def split_text(text: str) -> list[Token]:
    """Tokens of `text`: jieba words inside Han runs, whole words elsewhere; no punctuation."""
    import jieba

    tokens: list[Token] = []
    for word in _WORD.finditer(text):
        for run in _SCRIPT_RUN.finditer(word.group()):
            start = word.start() + run.start()
            if _HAN_RUN.match(run.group()):
                for piece, offset, _end in jieba.tokenize(run.group()):
                    tokens.extend(_without_course_suffix(piece, start + offset))
            else:
                tokens.append(Token(run.group(), start))
    return tokens


def _without_course_suffix(piece: str, start: int) -> list[Token]:
    for suffix in _COURSE_SUFFIXES:
        if len(piece) > len(suffix) + 1 and piece.endswith(suffix):
            stem = piece[: -len(suffix)]
            return [Token(stem, start), Token(suffix, start + len(stem))]
    return [Token(piece, start)]


def _cut_at(tokens: list[Token], edges: set) -> list[Token]:
    cut: list[Token] = []
    for token in tokens:
        inner = sorted(p for p in edges if token.start < p < token.end)
        if not inner:
            cut.append(token)
            continue
        bounds = [token.start, *inner, token.end]
        for left, right in zip(bounds, bounds[1:], strict=False):
            cut.append(Token(token.text[left - token.start : right - token.start], left))
    return cut
