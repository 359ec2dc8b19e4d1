"""Reading a city's text file as it was exported: its encoding and its delimiter.

Excel and other tools write CSV in UTF-8 (with or without a BOM), UTF-16 ("Unicode text"),
GB18030/GBK, Windows-1251 or Windows-1252, separated by commas, semicolons or tabs. The
encoding is taken from a BOM, else UTF-8 when the bytes are valid UTF-8, else the one legacy
encoding whose text reads as its script reads; when none or several fit, the file is refused
naming the first byte that is not UTF-8, so the operator names the encoding (`--encoding`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections import Counter

from knowledge.importers.reasons import Reason, reason
from knowledge.importers.rejections import Notice

LEGACY_ENCODINGS = ("gb18030", "windows-1251", "windows-1252")
DELIMITERS = (",", ";", "\t")
_JUDGED_CHARS = 200_000
_FIT = 0.9  # share of non-ASCII characters that must read as the encoding's script
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# How files that are no text begin: what they are, for the operator.
_MAGIC = (
    (b"\xd0\xcf\x11\xe0", "Excel 97-2003 (.xls) or another old Office"),
    (b"PK\x03\x04", "zip (.ods, .numbers, .docx, .zip)"),
    (b"%PDF", "PDF"),
)


def binary_kind(data: bytes) -> str | None:
    """What a file that is no text is ("PDF", ...), from its first bytes; None for text."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


class UndecodableText(ValueError):
    """The bytes cannot be read as text; `reason` says where and why, for the operator."""

    def __init__(self, why: Reason) -> None:
        super().__init__(why)
        self.reason = why


def decode_text(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding it was read with (`encoding` when given, else detected)."""
    if encoding:
        return _decode_named(data, encoding), encoding
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _decode_named(data, name), name
    if b"\x00" in data[:4000]:  # UTF-16 without a BOM: every other byte of ASCII text is 0
        name = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        return _decode_named(data, name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        first_bad = error.start
    fitting = [name for name in LEGACY_ENCODINGS if _fit(data, name) >= _FIT]
    if len(fitting) == 1:
        return data.decode(fitting[0]), fitting[0]
    byte, line = first_bad, data.count(b"\n", 0, first_bad) + 1
    raise UndecodableText(
        reason(
            "encoding_unknown",
            byte=byte,
            line=line,
            value=data[byte : byte + 1].hex().upper(),
            encodings=", ".join(fitting or LEGACY_ENCODINGS),
        )
    )


def _decode_named(data: bytes, name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        raise UndecodableText(reason("encoding_not_known", value=name)) from None
    try:
        text = data.decode(name)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UndecodableText(
            reason(
                "not_in_encoding",
                byte=error.start,
                line=line,
                value=data[error.start : error.start + 1].hex().upper(),
                encoding=name,
            )
        ) from None
    return text.removeprefix("\ufeff")


def _fit(data: bytes, name: str) -> float:
    """How much of the non-ASCII text reads as `name`'s script would (0 when it cannot decode)."""
    try:
        text = data.decode(name)
    except UnicodeDecodeError:
        return 0.0
    text = text[:_JUDGED_CHARS]  # the whole file decodes; its start tells the script
    words = re.findall(r"[^\W\d_]+", text)  # runs of letters: a word's script is judged whole
    # "à" misread is "а", a Russian word, and "да" misread is "äà": short words tell nothing
    shortest = 3 if name == "windows-1251" else 2
    words = [word for word in words if len(word) >= shortest]
    judged = [(char, word) for word in words for char in word if ord(char) > 127]
    judged += [(char, char) for char in text if ord(char) > 127 and not char.isalpha()]
    if not any(char.isalpha() or char in "¿¡" for char, _word in judged):
        return 0.0  # punctuation alone tells no script (but Spanish's inverted marks)
    fits = {"gb18030": _reads_as_chinese, "windows-1251": _reads_as_cyrillic}
    check = fits.get(name, _reads_as_latin)
    return sum(check(char, word) for char, word in judged) / len(judged)


def _reads_as_chinese(char: str, _word: str) -> bool:
    """A common hanzi (GB2312 level 1) or CJK punctuation: legacy bytes of other scripts
    decode as rare hanzi or not at all."""
    if "\u3000" <= char <= "\u303f" or "\uff00" <= char <= "\uffef":
        return True
    try:
        lead = char.encode("gb2312")[0]
    except UnicodeEncodeError:
        return False
    return 0xB0 <= lead <= 0xD7 or 0xA1 <= lead <= 0xA9


_PUNCTUATION = set("«»—–„“”‘’…№€£°·•§ºª¿¡©®½\u00a0")


def _cased_like_words(word: str) -> bool:
    """ "слово", "СЛОВО", "Слово": bytes of another script give "аєЕ"."""
    return word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())


def _reads_as_cyrillic(char: str, word: str) -> bool:
    """Cyrillic letters in words cased as words are, without Latin letters ("Bibliothиque"
    is Latin misread); the punctuation Cyrillic text uses."""
    if not char.isalpha():
        return char in _PUNCTUATION
    if not "\u0400" <= char <= "\u04ff" or re.search(r"[A-Za-z]", word):
        return False
    return len(word) == 1 or _cased_like_words(word)


def _reads_as_latin(char: str, word: str) -> bool:
    """Accented Latin letters among plain ones ("Bibliothèque", "été", "où"); words without
    one plain letter are another script misread."""
    if not char.isalpha():
        return char in _PUNCTUATION
    if "LATIN" not in unicodedata.name(char, ""):
        return False
    return any(c.isascii() for c in word) and _cased_like_words(word)


def reading_notices(
    file: str, data: bytes, encoding: str, *, named: bool, delimiter: str | None = None
) -> list[Notice]:
    """What was guessed about reading a file: a legacy encoding (named at the first line that
    is not UTF-8) and a delimiter other than the comma, for the operator to check."""
    notices = []
    if not named and encoding not in _UNICODE:
        try:
            data.decode("utf-8")
            line = 1
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
        why = reason("encoding_guessed", encoding=_SHOWN_ENCODINGS.get(encoding, encoding))
        notices.append(Notice(file, f"line {line}", "(encoding)", why))
    if delimiter in _DELIMITER_WORDS and not (delimiter == "\t" and file.endswith(".tsv")):
        why = reason("delimiter_guessed", value=reason(_DELIMITER_WORDS[delimiter]))
        notices.append(Notice(file, "row 1", "(delimiter)", why))
    return notices


_UNICODE = {"utf-8", "utf-8-sig", "utf-16", "utf-32"}  # read as the file's BOM says
_SHOWN_ENCODINGS = {
    "gb18030": "GB18030",
    "windows-1251": "Windows-1251",
    "windows-1252": "Windows-1252",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
}
_DELIMITER_WORDS = {";": "delimiter_semicolon", "\t": "delimiter_tab"}


def excel_separator(text: str) -> tuple[str | None, str]:
    """Excel's "sep=;" first line: the delimiter it names and the text without it (Excel
    hides the line, so the header is row 1 as the editor sees it); (None, text) without one."""
    first, _newline, rest = text.partition("\n")
    found = re.fullmatch(r"sep=(.)\r?", first)
    return (found[1], rest) if found else (None, text)


def sniff_delimiter(text: str) -> str:
    """`,`, `;` or tab: the one that splits most of the first rows into the same number (two
    or more) of columns, the most columns on a tie; a comma when nothing else does better.
    A title row above the table (one cell) does not count."""
    sample = text[:20000].splitlines()[:20]
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        rows = csv.reader(io.StringIO("\n".join(sample)), delimiter=delimiter)
        widths = Counter(len(row) for row in rows if len(row) >= 2)
        if not widths:
            continue
        width, rows_of_width = max(widths.items(), key=lambda pair: (pair[1], pair[0]))
        score = (rows_of_width, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best
