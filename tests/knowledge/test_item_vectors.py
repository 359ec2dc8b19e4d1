"""An item's dense vector is the mean of its passages' (knowledge/search/item_vectors.py)."""

from __future__ import annotations

import numpy as np

from knowledge.documents import CatalogItem
from knowledge.search.embedding import get_embedder
from knowledge.search.fields import passages
from knowledge.search.item_vectors import item_vectors

BRANCH = CatalogItem(
    id="branch",
    type="space",
    name="Lillian H. Smith",
    description=(
        "District library in Kensington-Chinatown. Digital Innovation Hub: 3D printers and "
        "design software. Youth Hub: a drop-in space for teens aged 13 to 19! 38 public computers."
    ),
    district="University-Rosedale",
    place_name="Lillian H. Smith branch",
)


def test_a_branch_is_cut_into_a_heading_and_one_passage_per_offer() -> None:
    assert passages(BRANCH) == [
        "Lillian H. Smith, Lillian H. Smith branch, University-Rosedale",
        "District library in Kensington-Chinatown.",
        "Digital Innovation Hub: 3D printers and design software.",
        "Youth Hub: a drop-in space for teens aged 13 to 19!",
        "38 public computers.",
    ]


def test_chinese_sentences_end_at_their_full_stops() -> None:
    course = CatalogItem(id="c", type="course", name="陶艺", description="拉坯和上釉。周六上午。")
    assert passages(course) == ["陶艺", "拉坯和上釉。", "周六上午。"]


def test_the_vector_is_the_normalised_mean_of_the_passages_vectors() -> None:
    embedder = get_embedder()
    vector = item_vectors(embedder.encode, [BRANCH])[0]
    each = embedder.encode(passages(BRANCH))
    expected = each.sum(axis=0) / np.linalg.norm(each.sum(axis=0))
    assert np.allclose(vector, expected, atol=1e-5)
    assert item_vectors(embedder.encode, []).shape == (0, embedder.dimension)
