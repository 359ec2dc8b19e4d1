"""Rebuild `tatoeba_sample.tsv` from the Tatoeba test sets kept in Helsinki-NLP/OPUS-MT-testsets.

Run once by hand with the path of a clone of that repository (commit ac0f19c0be3c):

    .venv/bin/python tests/nlu/language/make_sample.py /path/to/OPUS-MT-testsets

For each language it keeps up to 300 short (1-4 words) and 300 longer (5+ words) distinct
sentences, chosen by a hash of the sentence (not by how a detector does on them), and gives
each a split: `dev` (a third, the only part anyone may look at while tuning) or `heldout`.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[2]))  # run as a script from anywhere

from nlu.language_eval import length_class  # noqa: E402

_TESTSETS = "datasets/helsinki_nlp/tatoeba/testsets"
_VERSION = "tatoeba-test-v2021-08-07"
# our code: (language pair folder, file suffix, Tatoeba labels kept)
_SOURCES = {
    "zh": ("eng-zho", "zho", {"cmn_Hans", "cmn_Hant"}),
    "en": ("eng-ukr", "eng", {"eng"}),
    "es": ("eng-spa", "spa", {"spa"}),
    "fr": ("eng-fra", "fra", {"fra"}),
    "ar": ("ara-eng", "ara", {"ara"}),
    "ru": ("eng-rus", "rus", {"rus"}),
    "uk": ("eng-ukr", "ukr", {"ukr"}),
    "pt": ("eng-por", "por", {"por"}),
}
_PER_LENGTH = 300


def main(clone: Path) -> None:
    rows = ["language\tsplit\tlength\ttext"]
    for language, (pair, suffix, labels) in _SOURCES.items():
        base = clone / _TESTSETS / pair / f"{_VERSION}.{suffix}"
        texts = base.read_text(encoding="utf-8").splitlines()
        tags = Path(f"{base}.labels").read_text(encoding="utf-8").splitlines()
        kept = sorted(
            {t.strip() for t, tag in zip(texts, tags, strict=True) if tag in labels and t.strip()},
            key=_digest,
        )
        for length in ("short", "long"):
            chosen = [t for t in kept if length_class(t) == length][:_PER_LENGTH]
            for text in chosen:
                split = "dev" if int(_digest(text), 16) % 3 == 0 else "heldout"
                rows.append(f"{language}\t{split}\t{length}\t{text}")
    (HERE / "tatoeba_sample.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
