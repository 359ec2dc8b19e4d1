"""Lexical retrieval: BM25 over jieba-segmented Chinese and lower-cased words for other scripts.

Words are matched as written; across languages, documents and questions also carry a token
per glossary concept they mention ("§pottery" for both "陶艺" and "pottery").

Chinese runs are cut with jieba's search mode; words of three or more characters also give
their character bigrams, so "少儿编程班" and "编程" meet. Other scripts give lower-cased
words with a light plural strip ("classes" -> "class"), Latin ones without accents
("Núñez" meets "Nuñez"). Words that fit every course
("class", "课", "learn", "免费") are dropped: they carry no topic, and keeping them would
make any question look like a match.

Postings are numpy arrays per token; scoring a query touches only the postings of its tokens.
A retired document (an old version of an updated item, a removed one) keeps its postings
until the index is rebuilt, but is masked out of them when scoring: document frequencies
count live documents only, so the same catalog scores the same whatever its import history
(counting retired postings once gave "library" 200 documents against 100 live, and a
negative weight).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable

import numpy as np

from knowledge.search.catalog_language import written_in
from knowledge.search.glossary import fold_accents, normalise_text

logger = logging.getLogger(__name__)

BM25_K1 = 1.2
BM25_B = 0.75
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+")

_GENERIC_TEXT = """
    a an and are at be by can do for from have how i in is it me my near nearby of on or the
    to what where which who with you your want would like any some there this that find looking
    class course lesson learn learning study free weekend weekends evening evenings morning
    near me please help about get go need training workshop lecture beginner basic basics
    introduction intro
    课 课程 班 学 学习 上课 想 想学 我 我们 要 有 吗 的 了 在 哪里 哪儿 哪 什么 怎么 可以 一下 推荐 附近
    免费 周末 晚上 早上 上午 下午 白天 找 请问 你好 有没有 没有 是 和 与 或 给 去 能 会 报名 一个
    培训 讲座 课堂 入门 基础 初级 工作坊
    clase clases curso cursos cours où je un une des de la le el los las en para por que
    space spaces place places somewhere lugar lugares espacio espacios lieu lieux endroit
    endroits espace espaces hay il y a estudiar aprender étudier apprendre lugare
    con sin del al y o unos unas dónde donde qué cuál quiero busco necesito
    pour avec sans du au aux et ou veux cherche besoin est
    для на в с и или где что хочу ищу как з і або де що шукаю
    في من على إلى عن أين ما هل أريد أبحث
    места место учиться учёбы учебы обучения місця місце вчитися навчання
    مكان أماكن اماكن تعلم للتعلم للدراسة دراسة
    场所 地方 空间 场地 学习场所 学习空间
    monday tuesday wednesday thursday friday saturday sunday tonight today tomorrow
    afternoon night week weekday weekdays daytime after work
    lunes martes miércoles jueves viernes sábado domingo tarde noche mañana fin semana
    lundi mardi mercredi jeudi vendredi samedi dimanche soir soirée matin après-midi
    понедельник вторник среда четверг пятница суббота субботу субботам воскресенье
    выходные вечером утром понеділок вівторок середа четвер пʼятниця п'ятниця субота
    суботу суботах неділя вихідні ввечері вранці
    سبت أحد جمعة مساء صباح نهاية أسبوع
    cour curso занятия занятие занятий курсы курс курсов уроки урок по заняття курси курс
    уроки دورة دورات درس دروس
    周一 周二 周三 周四 周五 周六 周日 周天 星期一 星期二 星期三 星期四 星期五 星期六 星期日 星期天
    今天 明天 晚间 傍晚 中午 工作日 下班 平时
    """
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())

# Single Chinese characters that name no topic. Any other character a question holds on its
# own ("我想学画", "茶", "有琴课吗") is a topic: it finds the indexed words that contain it
# (国画, 茶艺, 钢琴), since the index keeps only words of two or more characters.
_GENERIC_CHARACTERS = frozenset(
    "的了吗呢吧啊呀么嘛哦我你您他她它们这那哪谁啥学想要有没在是上下去来做教课班个能会可和跟与给用"
    "找报开到就还也都很好请问说看一不对为从让把被多少几点时天年月日周号里中大小新免费钱元块次门节期"
    "人家地方近附边前后等再又才只最更太真各每某该应生习员子者"
)

_jieba = None


def _cut(text: str) -> list[str]:
    global _jieba
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba.lcut_for_search(text)


def cut_words(text: str) -> list[str]:
    """A Chinese text cut into words once each (jieba's precise mode: "北山街道" -> 北山, 街道)."""
    _cut("")
    assert _jieba is not None
    return _jieba.lcut(text)


def in_chinese_dictionary(word: str) -> bool:
    """Whether jieba's dictionary knows `word` (a real Chinese word, not a typo)."""
    _cut("")
    assert _jieba is not None
    return bool(_jieba.dt.FREQ.get(word))


def is_generic_character(character: str) -> bool:
    """Whether a Chinese character names nothing on its own (的, 学, 课 ...)."""
    return character in _GENERIC_CHARACTERS


def _stem(word: str) -> str:
    if len(word) <= 3 or not word.isascii():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Index tokens of a text (with repeats): jieba words + bigrams for Chinese, words elsewhere."""
    text = normalise_text(text)
    tokens: list[str] = []
    position = 0
    for run in _CJK_RUN.finditer(text):
        tokens.extend(_words(text[position : run.start()]))
        for word in _cut(run.group(0)):
            if len(word) >= 2 and word not in GENERIC_WORDS:
                tokens.append(word)
            if len(word) >= 3:
                tokens.extend(
                    word[i : i + 2] for i in range(len(word) - 1) if word[i : i + 2] != word
                )
        position = run.end()
    tokens.extend(_words(text[position:]))
    return tokens


def token_groups(text: str, topic_characters: Iterable[str] = ()) -> list[list[str]]:
    """The query's tokens grouped by the word they come from: a long Chinese word with its
    bigrams ("书法课": 书法课, 书法, 法课), any other word alone. Any token of a group answers
    that part of the question. A Chinese word made only of characters that name nothing
    ("我想学") or of those and `topic_characters` (looked for on their own: "学画") is no part."""
    skip = _GENERIC_CHARACTERS.union(topic_characters)
    text = normalise_text(text)
    groups: list[list[str]] = []
    position = 0
    for run in _CJK_RUN.finditer(text):
        groups += [[word] for word in _words(text[position : run.start()])]
        for word in _cut(run.group(0)):
            if set(word) <= skip:
                continue
            group = [word] if len(word) >= 2 and word not in GENERIC_WORDS else []
            if len(word) >= 3:
                group += [word[i : i + 2] for i in range(len(word) - 1) if word[i : i + 2] != word]
            if group:
                groups.append(list(dict.fromkeys(group)))
        position = run.end()
    groups += [[word] for word in _words(text[position:])]
    return groups


# jieba glues a verb to a one-character topic ("学画", "学舞", "有琴"): the character after
# one of these is then looked for on its own too.
_VERB_CHARACTERS = frozenset("学教有想要做上去找报")


def single_character_topics(text: str) -> list[str]:
    """The Chinese characters a question holds on their own that may name a topic."""
    found: list[str] = []
    for run in _CJK_RUN.finditer(normalise_text(text)):
        for word in _cut(run.group(0)):
            if len(word) == 2 and word[0] in _VERB_CHARACTERS and word not in GENERIC_WORDS:
                word = word[1]
            if len(word) == 1 and word not in _GENERIC_CHARACTERS and word not in found:
                found.append(word)
    return found


def _words(text: str) -> Iterable[str]:
    for match in _WORD.finditer(text):
        word = _stem(fold_accents(match.group(0)))
        if word not in GENERIC_WORDS and (len(word) > 1 or word.isdigit()):
            yield word


class LexicalIndex:
    """BM25 postings keyed by token; document positions are the index's slots."""

    def __init__(self) -> None:
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.doc_length = np.zeros(0, dtype=np.float32)
        self.total_length = 0.0
        self.live_documents = 0
        self.live = np.zeros(0, dtype=bool)  # slot -> document still indexed
        self._frequencies: dict[str, int] = {}  # token -> live documents, until the next change
        self._containing: dict[str, list[str]] = {}  # character -> indexed words holding it
        self._languages: dict[
            str, tuple[int, bool]
        ] = {}  # language -> (vocabulary size, written in)

    def tokens_containing(self, character: str, limit: int = 50) -> list[str]:
        """Indexed words that contain `character`, the most widespread first (at most `limit`)."""
        found = self._containing.get(character)
        if found is None:
            found = [
                token
                for token in self.postings
                if character in token and not token.startswith(CONCEPT_PREFIX)
            ]
            found.sort(key=lambda token: (-len(self.postings[token][0]), token))
            found = self._containing[character] = found[:limit]
        return found

    def written_in(self, language: str) -> bool:
        """Whether the indexed documents are written (partly) in `language`
        (`catalog_language.py`); judged again once the vocabulary has grown by a tenth."""
        size = len(self.postings)
        cached = self._languages.get(language)
        if cached is None or size > cached[0] * 1.1 + 10:
            words = [token for token in self.postings if not token.startswith(CONCEPT_PREFIX)]
            cached = self._languages[language] = (size, written_in(words, language))
        return cached[1]

    def add(self, first_slot: int, documents: list[list[str]]) -> None:
        """Index token lists (from `tokenize`, plus any concept tokens) as slots first_slot, ..."""
        gathered: dict[str, tuple[list[int], list[float]]] = {}
        lengths = np.zeros(len(documents), dtype=np.float32)
        for offset, tokens in enumerate(documents):
            counts: dict[str, int] = {}
            for token in tokens:
                counts[token] = counts.get(token, 0) + 1
            lengths[offset] = sum(counts.values())
            slot = first_slot + offset
            for token, count in counts.items():
                slots, freqs = gathered.setdefault(token, ([], []))
                slots.append(slot)
                freqs.append(count)
        if len(self.doc_length) != first_slot:
            raise ValueError(f"slots must be added in order: expected {len(self.doc_length)}")
        self.doc_length = np.concatenate([self.doc_length, lengths])
        self.live = np.concatenate([self.live, np.ones(len(documents), dtype=bool)])
        self.total_length += float(lengths.sum())
        self.live_documents += len(documents)
        self._containing.clear()
        self._frequencies.clear()
        for token, (slots, freqs) in gathered.items():
            new_slots = np.asarray(slots, dtype=np.int32)
            new_freqs = np.asarray(freqs, dtype=np.float32)
            old = self.postings.get(token)
            if old is not None:
                new_slots = np.concatenate([old[0], new_slots])
                new_freqs = np.concatenate([old[1], new_freqs])
            self.postings[token] = (new_slots, new_freqs)

    def forget(self, slot: int) -> None:
        """A slot's document is gone: its postings no longer count anywhere."""
        if not self.live[slot]:
            return
        self.total_length -= float(self.doc_length[slot])
        self.doc_length[slot] = 0
        self.live[slot] = False
        self.live_documents -= 1
        self._frequencies.clear()

    def live_posting(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(slots, term frequencies) of the live documents holding `token`; None if none do."""
        posting = self.postings.get(token)
        if posting is None:
            return None
        slots, freqs = posting
        keep = self.live[slots]
        if not keep.all():
            slots, freqs = slots[keep], freqs[keep]
        return (slots, freqs) if len(slots) else None

    def document_frequency(self, token: str) -> int:
        """How many live documents hold `token`."""
        frequency = self._frequencies.get(token)
        if frequency is None:
            posting = self.postings.get(token)
            frequency = 0 if posting is None else int(self.live[posting[0]].sum())
            self._frequencies[token] = frequency
        return frequency

    def search(
        self,
        weighted_tokens: dict[str, float],
        k: int,
        allowed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top-k slots by BM25 (scores > 0 only), best first; `allowed` masks slots out."""
        slot_count = len(self.doc_length)
        if not weighted_tokens or slot_count == 0 or self.live_documents <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        average = max(self.total_length / self.live_documents, 1.0)
        documents = self.live_documents
        scores = np.zeros(slot_count, dtype=np.float32)
        for token, weight in weighted_tokens.items():
            posting = self.live_posting(token)
            if posting is None:
                continue
            slots, freqs = posting
            frequency = len(slots)
            idf = math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))
            norm = BM25_K1 * (1 - BM25_B + BM25_B * self.doc_length[slots] / average)
            scores[slots] += (weight * idf) * freqs * (BM25_K1 + 1) / (freqs + norm)
        candidates = np.flatnonzero(scores > 0)
        if allowed is not None:
            candidates = candidates[allowed[candidates]]
        if len(candidates) > k:
            top = np.argpartition(-scores[candidates], k - 1)[:k]
            candidates = candidates[top]
        order = np.argsort(-scores[candidates], kind="stable")
        chosen = candidates[order]
        return chosen.astype(np.int64), scores[chosen]

    def informative(self, token: str) -> bool:
        """Whether holding `token` says something about a document: it is held by one live
        document, or by at most half of them. "library" in a catalog of libraries is not."""
        frequency = self.document_frequency(token)
        return frequency == 1 or 0 < 2 * frequency <= self.live_documents

    def evidence_weight(self, token: str) -> float:
        """How much holding `token` says about a document: the Robertson-Sparck Jones IDF,
        log((N - n + 0.5) / (n + 0.5)), which is 0 for a token held by half of the documents
        or more (a single holder always counts); a token nobody holds counts fully (the
        question asks for something the catalog lacks)."""
        frequency = self.document_frequency(token)
        documents = self.live_documents
        weight = math.log((documents - frequency + 0.5) / (frequency + 0.5))
        if frequency == 1:
            weight = max(weight, math.log(1.5))
        return max(0.0, weight)

    def present(self, token: str, slots: np.ndarray) -> np.ndarray:
        """Which of `slots` (live or not) hold `token`: a boolean per slot."""
        posting = self.live_posting(token)
        if posting is None or not len(slots):
            return np.zeros(len(slots), dtype=bool)
        held = posting[0]  # ascending: slots are only ever appended
        where = np.minimum(np.searchsorted(held, slots), len(held) - 1)
        return held[where] == slots

    def shares_informative(
        self, weighted_tokens: dict[str, float], slots: np.ndarray
    ) -> np.ndarray:
        """Which of `slots` hold at least one informative token of the question."""
        shared = np.zeros(len(slots), dtype=bool)
        for token, weight in weighted_tokens.items():
            if weight > 0 and self.informative(token):
                shared |= self.present(token, slots)
        return shared

    def coverage(self, weighted_tokens: dict[str, float], slots: np.ndarray) -> np.ndarray:
        """The IDF-weighted share of the question's tokens each slot holds (0..1); a token no
        document holds counts in full, so a question half about something else covers half."""
        covered = np.zeros(len(slots), dtype=np.float64)
        total = 0.0
        documents = max(self.live_documents, 1)
        for token, weight in weighted_tokens.items():
            frequency = self.document_frequency(token)
            idf = weight * math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))
            total += idf
            if frequency:
                covered += idf * self.present(token, slots)
        return covered / total if total > 0 else covered

    def state(self) -> dict:
        return {
            "postings": self.postings,
            "doc_length": self.doc_length,
            "total_length": self.total_length,
            "live_documents": self.live_documents,
            "live": self.live,
        }

    @classmethod
    def from_state(cls, state: dict) -> LexicalIndex:
        index = cls()
        index.postings = state["postings"]
        index.doc_length = state["doc_length"]
        index.total_length = state["total_length"]
        index.live_documents = state["live_documents"]
        index.live = state["live"]
        index._frequencies = {}
        return index


CONCEPT_PREFIX = "§"  # never produced by `tokenize`, so concept tokens cannot collide with words


def concept_tokens(concepts: Iterable[str]) -> list[str]:
    """Tokens standing for glossary concepts: they match across languages."""
    return [CONCEPT_PREFIX + concept for concept in concepts]


def query_tokens(query: str, concepts: Iterable[str], concept_weight: float) -> dict[str, float]:
    """Weighted tokens for a query: its own words at 1.0, its glossary concepts at `concept_weight`."""
    weights: dict[str, float] = dict.fromkeys(tokenize(query), 1.0)
    for token in concept_tokens(concepts):
        weights[token] = concept_weight
    return weights
