"""What a search returns: the item, how well it matched, and how far away it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.documents import CatalogItem


@dataclass(frozen=True)
class SearchResult:
    """One hit. `matched` is False when the search found nothing relevant and this is only the
    closest thing the catalog has (the caller then records unmet demand)."""

    item: CatalogItem
    score: float
    distance_m: float | None = None
    matched: bool = True

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI, actions and cards use."""
        item = self.item
        return {
            "id": item.id,
            "type": item.type,
            "name": item.name,
            "score": round(float(self.score), 4),
            "matched": self.matched,
            "distance_m": None if self.distance_m is None else round(float(self.distance_m), 1),
            "place": item.place_name,
            "address": item.address,
            "district": item.district,
            "schedule": item.schedule_text(),
            "free": item.free,
            "price": item.price,
            "latitude": item.latitude,
            "longitude": item.longitude,
            "url": item.url,
            "languages": list(item.languages),
            "audiences": list(item.audiences),
            "description": item.description,
        }


def is_unmet(results: Sequence[SearchResult]) -> bool:
    """True when a search found nothing relevant: no results, or only `matched=False` ones."""
    return not any(result.matched for result in results)
