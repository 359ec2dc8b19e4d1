"""The city's own data (its name, centre and districts in seven languages), read from one file.

City staff edit `knowledge/sample_city/city.yml` (or the file LEARNCITY_CITY_FILE names); the
importers, the search filters and the actions all read districts through `load_city()`, so a
district is defined once (docs/city-data.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

LANGUAGES = ("zh", "en", "es", "fr", "ar", "ru", "uk")
DEFAULT_TIME_ZONE = "Asia/Shanghai"  # the sample city's, when the file names none


class CityFileError(ValueError):
    """The city file cannot be used; the message names the file and the entry at fault."""


@dataclass(frozen=True)
class District:
    """One district: its key (what learncity stores) and how people write it."""

    key: str
    names: dict[str, str]
    aliases: tuple[str, ...] = ()
    centre: tuple[float, float] | None = None

    def name_in(self, language: str | None) -> str:
        """The district's name in `language`, else its English name, else its key."""
        return self.names.get(language or "") or self.names.get("en") or self.key

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every way of writing it (key, names, aliases), lower case, without repeats."""
        words = (self.key, *self.names.values(), *self.aliases)
        return tuple(dict.fromkeys(word.strip().lower() for word in words if word.strip()))


@dataclass(frozen=True)
class City:
    """The city a deployment serves."""

    names: dict[str, str]
    centre: tuple[float, float] | None
    districts: tuple[District, ...]
    source: Path
    example_district: str = ""  # named in replies as an example; default the first district
    time_zone: str = DEFAULT_TIME_ZONE  # IANA name: what "today" and "this weekend" mean here
    # The language most of its citizens write: for a citizen nothing else tells about (a first
    # WeChat message without words; WeChat sends no client language). None: the file names none.
    language: str | None = None
    _lookup: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.example_district:
            object.__setattr__(self, "example_district", self.districts[0].key)
        for district in self.districts:
            for spelling in district.spellings:
                self._lookup.setdefault(spelling, district.key)

    @property
    def district_keys(self) -> tuple[str, ...]:
        return tuple(district.key for district in self.districts)

    def district(self, key: str) -> District | None:
        """The district stored as `key`, or None."""
        return next((d for d in self.districts if d.key == key), None)

    def district_key(self, *candidates: object, within_text: bool = True) -> str:
        """The key of the first candidate naming a district ("南湖", "nanhu", and with
        `within_text` also "海林市南湖区" or "Nanhu District, Hailin"); "" when none does."""
        values = [str(c).strip() for c in candidates if c is not None and str(c).strip()]
        for value in values:
            key = self._lookup.get(value.lower())
            if key:
                return key
        if within_text:
            for value in values:
                lowered = value.lower()
                for spelling, key in self._lookup.items():
                    if len(spelling) >= 2 and spelling in lowered:
                        return key
        return ""

    def district_name(self, key: str, language: str | None) -> str:
        """A stored district key in the citizen's language; unknown keys as stored."""
        district = self.district(key)
        return district.name_in(language) if district else key


def city_file() -> Path:
    """The city file the settings name (LEARNCITY_CITY_FILE; default: the sample city)."""
    from core.settings import get_settings

    return Path(get_settings().learncity_city_file)


def load_city(path: Path | None = None) -> City:
    """The city described by `path` (default: the settings' city file), read once per process.

    Cheap to call for every catalog row: the cache is keyed by the path as given, and
    resolving it (a few system calls) happens only on the first read."""
    if path is None:
        from core.settings import get_settings

        path = get_settings().learncity_city_file
    return _load(str(path))


@lru_cache(maxsize=8)
def _load(path_text: str) -> City:
    path = Path(path_text).resolve()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise CityFileError(f"{path}: cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise CityFileError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(document, dict):
        raise CityFileError(f"{path}: expected `city:` and `districts:` at the top")
    city = document.get("city") or {}
    entries = document.get("districts") or []
    if not isinstance(entries, list) or not entries:
        raise CityFileError(f"{path}: `districts:` must list at least one district")
    districts = tuple(_district(path, index, entry) for index, entry in enumerate(entries, 1))
    keys = [district.key for district in districts]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise CityFileError(f"{path}: district key listed twice: {', '.join(repeated)}")
    example = str(city.get("example_district") or "") if isinstance(city, dict) else ""
    if example and example not in keys:
        raise CityFileError(f"{path}: city: example_district {example} is not a district key")
    time_zone = _time_zone(path, city.get("time_zone") if isinstance(city, dict) else None)
    language = _language(path, city.get("language") if isinstance(city, dict) else None)
    return City(
        names=_names(path, "city", city.get("names") if isinstance(city, dict) else None),
        centre=_centre(path, "city", city.get("centre") if isinstance(city, dict) else None),
        districts=districts,
        source=path,
        example_district=example,
        time_zone=time_zone,
        language=language,
    )


def _language(path: Path, value: Any) -> str | None:
    if value is None or not str(value).strip():
        return None
    language = str(value).strip()
    if language not in LANGUAGES:
        raise CityFileError(
            f"{path}: city: language {language} is not one of {' '.join(LANGUAGES)}"
        )
    return language


def _time_zone(path: Path, value: Any) -> str:
    if value is None or not str(value).strip():
        return DEFAULT_TIME_ZONE
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CityFileError(
            f"{path}: city: time_zone {name!r} is not an IANA time zone (e.g. Asia/Shanghai)"
        ) from None
    return name


def _district(path: Path, index: int, entry: Any) -> District:
    where = f"district {index}"
    if not isinstance(entry, dict) or not str(entry.get("key") or "").strip():
        raise CityFileError(f"{path}: {where} has no `key`")
    key = str(entry["key"]).strip()
    where = f"district {index} ({key})"
    aliases = entry.get("aliases") or []
    if not isinstance(aliases, list):
        raise CityFileError(f"{path}: {where}: `aliases` must be a list")
    return District(
        key=key,
        names=_names(path, where, entry.get("names")),
        aliases=tuple(str(alias).strip() for alias in aliases if str(alias).strip()),
        centre=_centre(path, where, entry.get("centre")),
    )


def _names(path: Path, where: str, names: Any) -> dict[str, str]:
    if names is None:
        return {}
    if not isinstance(names, dict):
        raise CityFileError(f"{path}: {where}: `names` must map languages to names")
    unknown = sorted(str(language) for language in names if language not in LANGUAGES)
    if unknown:
        raise CityFileError(
            f"{path}: {where}: unknown language {', '.join(unknown)} "
            f"(expected {' '.join(LANGUAGES)})"
        )
    return {str(language): str(name).strip() for language, name in names.items() if name}


def _centre(path: Path, where: str, centre: Any) -> tuple[float, float] | None:
    if centre is None:
        return None
    try:
        latitude, longitude = float(centre["latitude"]), float(centre["longitude"])
    except (TypeError, KeyError, ValueError):
        raise CityFileError(
            f"{path}: {where}: `centre` needs numbers `latitude` and `longitude`"
        ) from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise CityFileError(f"{path}: {where}: `centre` is out of range")
    return latitude, longitude
