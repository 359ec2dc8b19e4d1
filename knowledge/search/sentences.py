"""Where a catalog description's sentences end, in the seven languages, for its passages.

Each sentence becomes a passage of the item's dense vector (`fields.passages`), so a wrong cut
is not cosmetic: cutting "Toronto-St. Paul's ward" at "St." made "Paul's ward)." a passage of
five branches, a fragment that pulls their vectors towards any question about a ward. The
rules, in order:

- Chinese and Japanese 。！？ end a sentence where they stand (no space follows them).
- . ! ? ؟ … and the Urdu/Arabic full stop end a sentence only before white space (a decimal
  number, a time "10.30", a URL or an e-mail address has none), after any closing brackets
  and quotes that follow them ("(Toronto Centre ward). Next" is cut after the ")").
- Not inside brackets that close later: "(Mon. to Fri. 10 a.m.)" stays whole.
- Not before a lower-case letter: "10 a.m. to noon", "approx. five", "и т. д. и" continue
  ("etc. The ..." or "... p.m. Bring ..." is a sentence end, as it usually is).
- Not after an abbreviation that stands before a name or a number (`NEVER_LAST`: titles,
  "St.", "No.", "e.g.", "ул.", "г.", "им.", "Sra.", "av.", "bd."), nor after an initial
  (one capital letter: "Lillian H. Smith", "А. С. Пушкин").
- The Arabic comma ، and the Chinese comma ， never end a sentence.

A piece with fewer than `MIN_WORDS` words (a Chinese character counts half a word) is joined
to the sentence before it (or after it, when it comes first): a fragment alone says too little
to be a direction of its own in the item's vector.
"""

from __future__ import annotations

import re

MIN_WORDS = 2

# Abbreviations (lower case, without their final dot) that stand before what they qualify, so a
# dot after them does not end the sentence even before a capital: "St. Paul's", "Dr. Chen",
# "No. 5", "e.g. Python", "ул. Ленина", "г. Москва", "им. Пушкина", "Sra. López", "av. de
# la Paz", "bd. Saint-Michel". Abbreviations that often end a sentence ("etc.", "a.m.",
# "Ave." after a street name) are left out: before a capital their dot is taken as an end.
NEVER_LAST = frozenset(
    {
        # English
        "mr", "mrs", "ms", "mx", "dr", "prof", "rev", "hon", "st", "ste", "mt", "ft",
        "no", "nos", "nr", "vol", "p", "pp", "fig", "e.g", "i.e", "cf", "vs", "viz", "approx",
        # Spanish
        "sr", "sra", "srta", "sres", "dra", "d", "dña", "av", "avda", "núm", "pza", "sto", "sta",
        "ud", "uds", "pág", "aprox",
        # French
        "m", "mm", "mme", "mmes", "mlle", "mlles", "me", "mgr", "bd", "boul", "n°", "env", "ex",
        # Russian and Ukrainian
        "ул", "г", "им", "д", "пр", "просп", "пл", "пер", "наб", "ш", "пос", "с", "св", "т",
        "т.е", "т.к", "напр", "см", "тел", "проф", "акад", "доц", "гр", "корп", "стр", "кв",
        "вул", "м", "ім", "буд", "бул", "пров", "обл", "р-н", "№",
        # Arabic: "د." (doctor), "ص.ب." (post office box)
        "د", "ص.ب",
    }
)  # fmt: skip

_CLOSERS = "\"'»”’)]}）」』】"
_OPENERS = {"(": ")", "[": "]", "{": "}", "（": "）"}
# A Chinese/Japanese end mark, with its closers; it needs no space after it.
_WIDE_END = re.compile(r"[。！？]+[" + re.escape(_CLOSERS) + r"]*\s*")
# Any other end mark, with its closers, then the white space that makes it an end.
_END = re.compile(r"(?:[.!?؟…۔]+)[" + re.escape(_CLOSERS) + r"]*\s+")
# The word an end mark follows: letters, dots inside it ("e.g", "т.е"), hyphens ("р-н"), "°".
_LAST_WORD = re.compile(r"([\w°№][\w.°№-]*)\.$")
_ETC_RU = re.compile(r"(?<!\w)т\.\s?[дп]\.$")  # "и т. д." / "т. п." end a sentence
_WORD = re.compile(r"[^\W\d_]+|\d+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def sentences(text: str) -> list[str]:
    """The sentences of `text`, very short pieces joined to a neighbour (one without an end
    mark is one sentence)."""
    return _merge_short(_split(text.strip()))


def _split(text: str) -> list[str]:
    inside = _bracketed(text)
    cuts = [m.end() for m in _WIDE_END.finditer(text)]
    cuts += [m.end() for m in _END.finditer(text) if _ends(text, m, inside)]
    pieces, start = [], 0
    for cut in sorted(set(cuts)):
        pieces.append(text[start:cut].strip())
        start = cut
    pieces.append(text[start:].strip())
    return [piece for piece in pieces if piece]


def _ends(text: str, match: re.Match[str], inside: set[int]) -> bool:
    """Whether the end mark `match` ends a sentence."""
    stop = match.start() + len(match.group().rstrip())  # after the mark and its closers
    if stop - 1 in inside or text[match.end()].islower():
        return False
    if match.group().rstrip().rstrip(_CLOSERS) != ".":
        return True  # ! ? … and "..." are not abbreviation dots
    window = text[max(0, match.start() - 30) : match.start() + 1]
    before = _LAST_WORD.search(window)
    if before is None or _ETC_RU.search(window):
        return True
    word = before.group(1)
    if len(word) == 1 and word.isupper():
        return False  # an initial
    return not {word.casefold(), word.rsplit("-", 1)[-1].casefold()} & NEVER_LAST


def _bracketed(text: str) -> set[int]:
    """Positions inside brackets that close later in the text."""
    inside: set[int] = set()
    stack: list[tuple[str, int]] = []
    for position, char in enumerate(text):
        if char in _OPENERS:
            stack.append((_OPENERS[char], position))
        elif stack and char == stack[-1][0]:
            inside.update(range(stack.pop()[1] + 1, position))
    return inside


def _size(piece: str) -> float:
    """Words in `piece`, a Chinese or Japanese character counting half a word."""
    wide = len(_CJK.findall(piece))
    return len(_WORD.findall(_CJK.sub(" ", piece))) + wide / 2


def _merge_short(pieces: list[str]) -> list[str]:
    merged: list[str] = []
    for piece in pieces:
        if merged and (_size(piece) < MIN_WORDS or _size(merged[-1]) < MIN_WORDS):
            merged[-1] = _join(merged[-1], piece)
        else:
            merged.append(piece)
    return merged


def _join(first: str, second: str) -> str:
    return first + second if _CJK.search(first[-1:]) else f"{first} {second}"
