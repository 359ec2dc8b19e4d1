"""`learncity search QUERY --near LAT,LON` lists matched results nearest first, with distances,
widening the radius as the chat does (a real SQLite catalog of the sample city and a real
index in a temporary data folder)."""

from __future__ import annotations

from pathlib import Path

from tests.knowledge.search_support import learncity_search


def test_cli_search_near_a_point_is_ordered_by_distance(tmp_path: Path):
    shown = learncity_search(["pottery", "--near", "31.23,121.47"], tmp_path)
    rows = shown["results"]
    matched = [row for row in rows if row["matched"]]
    assert len(matched) >= 3, rows
    distances = [row["distance_m"] for row in matched]
    assert all(isinstance(distance, float) for distance in distances)
    assert distances == sorted(distances), [(row["name"], row["distance_m"]) for row in rows]
    assert rows[: len(matched)] == matched  # matched ones first
    # Nothing within 3 km: the chat widens to 10 km and says so; so does the command line.
    assert shown["notes"] == [{"note": "widened", "from_m": 3000.0, "radius_m": 10000.0}]
