"""Unmet questions merged by meaning across languages for the planner dashboard ("swimming
lessons", "clases de natación" and "游泳课" one row), decided when a day's counts are kept, not
at each view.

The search's multilingual embedding model (reached through `knowledge.get_search_service()`)
scores "swimming lessons" as close to "dance classes" (0.870) as to "уроки плавання" (0.871):
much of a vector says which language and which kind of phrase it is. So each vector first has
its language's mean taken away (the mean of the labelled set's validation questions in that
language, unmet_meanings.yml), then two questions of different languages are one meaning when
the cosine of what is left reaches SAME_MEANING_COSINE. Chosen on the validation topics of
unmet_meanings.yml and checked on its held-out topics (`python -m bench.planner_meanings_eval`,
docs/console.md).

When (bot/admin/rollup_counts.py) keeps a day's unmet counts, `remember_meanings` embeds that
day's questions not yet known (most asked first, at most MEANINGS_PER_DAY) and gives each the
meaning of its nearest known question of another language (or a new one); rows live in
staff/meanings.py. A view (`merged_by_meaning`) only reads the meanings of the questions it
shows: the model is never loaded for a page. Questions of days not yet kept (today) merge by
meaning once their day is kept, or at once when asked the same way before.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import yaml
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.database import session_scope
from staff.meanings import keep_meaning, kept_vectors, known_meanings

logger = logging.getLogger(__name__)

LABELLED = Path(__file__).with_name("unmet_meanings.yml")
# Cosine of two language-centred question vectors from which they are one meaning, per model
# (bench/planner_meanings_eval.py: the lowest whose precision on the validation topics,
# centred by the other fold's means, reaches 0.98: 0.988, recall 0.710; on the held-out
# topics 0.961 / 0.537, where the raw cosine at 0.90 finds 0.212 at the same precision).
SAME_MEANING_COSINE = {"multilingual-e5-small-q4": 0.35}
MEANINGS_PER_DAY = 200  # new questions embedded when a day is kept, most asked first


def remember_meanings(session: Session, asked: Iterable[tuple[str, str, int]]) -> int:
    """Give the day's unmet questions ([question, language, count] rows, as counted) not yet
    known a meaning; returns how many were added. Nothing for a model without a threshold."""
    model, threshold = _model_and_threshold()
    means = _language_means(model) if threshold is not None else {}
    rows = sorted(
        ((question, language, count) for question, language, count in asked if language in means),
        key=lambda row: (-row[2], row[0]),
    )
    known = known_meanings(session, model, [(question, language) for question, language, _ in rows])
    new = [
        (question, language) for question, language, _ in rows if (question, language) not in known
    ]
    new = list(dict.fromkeys(new))[:MEANINGS_PER_DAY]
    if threshold is None or not new:
        return 0
    vectors = centred_vectors(
        model, [question for question, _ in new], [language for _, language in new]
    )
    languages, meanings, kept = kept_vectors(session, model)
    for (question, language), vector in zip(new, vectors, strict=True):
        meaning = 0
        if len(languages):
            cosines = kept @ vector
            cosines[np.asarray(languages) == language] = -1.0  # across languages only
            best = int(np.argmax(cosines))
            if cosines[best] >= threshold:
                meaning = meanings[best]
        meaning = keep_meaning(session, model, question, language, vector, meaning)
        languages.append(language)
        meanings.append(meaning)
        kept = np.vstack([kept, vector[None, :]]) if kept.size else vector[None, :].copy()
    logger.info("planner: %d unmet question(s) given a meaning", len(new))
    return len(new)


def remember_day_meanings(database_url: str | None, asked: Iterable[tuple[str, str, int]]) -> None:
    """`remember_meanings` in a transaction of its own, for a day just kept. It never fails
    the view: another view keeping the same day at once may win a question's unique row (its
    meanings are then there), and a model that cannot load is logged for the operator (the
    questions get meanings when asked again on a later day)."""
    try:
        with session_scope(database_url) as session:
            remember_meanings(session, asked)
    except IntegrityError:
        logger.info("planner: another view gave these unmet questions their meanings")
    except Exception as error:  # an enhancement of the grouping: the counts stand without it
        logger.warning(  # the type only: a database error's text holds citizens' words
            "planner: unmet questions not merged by meaning (%s); see docs/console.md",
            type(error).__name__,
        )


def merged_by_meaning(session: Session, groups: list) -> list:
    """`knowledge.group_unmet_demand`'s word groups (not its glossary concepts) joined when one
    of their questions has a kept meaning in common; the more asked group keeps its key and
    label. Reads the kept meanings only."""
    model, threshold = _model_and_threshold()
    words = [group for group in groups if group.key.startswith("words:")]
    if threshold is None or len(words) < 2:
        return groups
    meanings = known_meanings(session, model, [pair for group in words for pair in group.queries])
    first_of: dict[int, object] = {}  # meaning -> the most asked group that has it
    joined: set[str] = set()
    for group in sorted(words, key=lambda group: (-group.count, group.key)):
        found = {meanings[pair] for pair in group.queries if pair in meanings}
        target = next((first_of[m] for m in sorted(found) if m in first_of), None)
        if target is None:
            for meaning in found:
                first_of[meaning] = group
            continue
        target.count += group.count  # type: ignore[attr-defined]
        target.queries.update(group.queries)  # type: ignore[attr-defined]
        joined.add(group.key)
        for meaning in found:
            first_of.setdefault(meaning, target)
    kept = [group for group in groups if group.key not in joined]
    return sorted(kept, key=lambda group: (-group.count, group.key))


def centred_vectors(model: str, questions: list[str], languages: list[str]) -> np.ndarray:
    """The questions' vectors with their language's mean taken away, at unit length."""
    return centre(question_vectors(model, questions), languages, _language_means(model))


def labelled_topics() -> dict[str, dict[str, str]]:
    """unmet_meanings.yml's topics: {topic: {"split": ..., language: question}}."""
    with LABELLED.open(encoding="utf-8") as file:
        return yaml.safe_load(file)["topics"]


def language_means(vectors: np.ndarray, languages: list[str]) -> dict[str, np.ndarray]:
    """The mean vector of each language's rows."""
    codes = np.asarray(languages)
    return {code: vectors[codes == code].mean(axis=0) for code in sorted(set(languages))}


def centre(vectors: np.ndarray, languages: list[str], means: dict[str, np.ndarray]) -> np.ndarray:
    """Rows minus their language's mean, at unit length (also used by the evaluation)."""
    centred = np.vstack(
        [vector - means[language] for vector, language in zip(vectors, languages, strict=True)]
    )
    return centred / np.linalg.norm(centred, axis=1, keepdims=True)


@functools.lru_cache(maxsize=4)
def _language_means(model: str) -> dict[str, np.ndarray]:
    """Each language's mean vector over the labelled set's validation questions."""
    pairs = [
        (language, question)
        for topic in labelled_topics().values()
        if topic["split"] == "validation"
        for language, question in topic.items()
        if language != "split"
    ]
    vectors = question_vectors(model, [question for _, question in pairs])
    return language_means(vectors, [language for language, _ in pairs])


def question_vectors(model: str, questions: list[str]) -> np.ndarray:
    """The search model's vectors of `questions` (the model loads on first use)."""
    import knowledge  # the search's model, loaded only when a day's questions need it

    service = knowledge.get_search_service()
    if service.model_name != model:  # pragma: no cover - one model per process
        raise RuntimeError(f"the search model is {service.model_name}, not {model}")
    return np.asarray(service.embedder.encode_queries(questions), dtype=np.float32)


def _model_and_threshold() -> tuple[str, float | None]:
    from core.settings import get_settings

    model = get_settings().embedding_model
    return model, SAME_MEANING_COSINE.get(model)
