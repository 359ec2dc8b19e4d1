"""The city file names the city's time zone: what "today" and "this weekend" mean there."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import REPOSITORY_ROOT
from knowledge.city import CityFileError, load_city

SAMPLE_CITY = REPOSITORY_ROOT / "knowledge" / "sample_city" / "city.yml"


def test_the_sample_city_runs_on_shanghai_time() -> None:
    assert load_city(SAMPLE_CITY).time_zone == "Asia/Shanghai"


def test_a_city_file_without_a_time_zone_defaults_to_shanghai(tmp_path: Path) -> None:
    path = tmp_path / "city.yml"
    path.write_text("districts:\n  - key: North\n", encoding="utf-8")
    assert load_city(path).time_zone == "Asia/Shanghai"


def test_a_city_names_its_own_time_zone(tmp_path: Path) -> None:
    path = tmp_path / "city.yml"
    path.write_text(
        "city:\n  time_zone: Europe/Madrid\ndistricts:\n  - key: North\n", encoding="utf-8"
    )
    assert load_city(path).time_zone == "Europe/Madrid"


def test_a_time_zone_that_is_not_an_iana_name_is_named_with_its_file(tmp_path: Path) -> None:
    path = tmp_path / "city.yml"
    path.write_text(
        "city:\n  time_zone: Hailin/Centre\ndistricts:\n  - key: North\n", encoding="utf-8"
    )
    with pytest.raises(CityFileError) as refused:
        load_city(path)
    assert str(refused.value) == (
        f"{path.resolve()}: city: time_zone 'Hailin/Centre' is not an IANA time zone "
        "(e.g. Asia/Shanghai)"
    )
