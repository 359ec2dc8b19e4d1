"""How the importer understood a column (`ColumnUse.how`, English from
knowledge/importers/columns.py) in the console reader's language; the importer's English when
the console has no words for it, so a new wording is shown rather than lost."""

from __future__ import annotations

import re

# (pattern over the English, the reader's words with the pattern's groups) per language.
_HOW_WORDS: dict[str, list[tuple[re.Pattern[str], str]]] = {
    "zh": [
        (re.compile(r"^our column$"), "我们自己的列名"),
        (re.compile(r"^recognised header name$"), "识别出的表头名称"),
        (re.compile(r"^kept in extra$"), "保留在 extra 中"),
        (re.compile(r"^column map (.*)$"), r"列映射 \1"),
        (re.compile(r"^kept in extra \(column map (.*)\)$"), r"保留在 extra 中（列映射 \1）"),
        (
            re.compile(r'^kept in extra \(the file has "(.*)"\)$'),
            r"保留在 extra 中（文件已有“\1”）",
        ),
        (
            re.compile(r"^ambiguous: could be (.*); kept in extra$"),
            r"含义不明：可能是 \1；保留在 extra 中",
        ),
        (
            re.compile(r"^ambiguous: one of (.*); kept in extra$"),
            r"含义不明：\1 之一；保留在 extra 中",
        ),
        (re.compile(r'^"(.*)" in every row \((.*)\)$'), r"每一行都是“\1”（\2）"),
        (re.compile(r"^made from (.*) \((.*)\)$"), r"由 \1 生成（\2）"),
    ],
}


def column_how_in(how: str, language: str) -> str:
    """How one column was understood, in `language` when the console has words for it."""
    for pattern, words in _HOW_WORDS.get(language, []):
        found = pattern.match(how)
        if found:
            return found.expand(words)
    return how
