"""What the search package returns: hits (the item, how well it matched, how far away it is)
and what bringing the index up to date did."""

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


@dataclass(frozen=True)
class IndexSync:
    """What bringing the index up to date did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    rebuilt: bool = False  # every item embedded again
    reindexed: bool = False  # stored vectors indexed again (nothing embedded)
    reason: str = ""  # why it was rebuilt or re-indexed
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed

    def __str__(self) -> str:
        took = f"{self.seconds:.1f} s" if self.seconds >= 10 else f"{self.seconds * 1000:.0f} ms"
        if self.rebuilt:
            return f"index: built from scratch ({self.reason}), {self.added} items in {took}"
        if self.changed:
            text = f"index: {self.added} added, {self.updated} updated, {self.removed} removed"
        else:
            text = f"index: up to date, {self.unchanged} items"
        if self.reindexed:
            text += f"; re-indexed ({self.reason})"
        return f"{text} in {took}"
