"""What every importer shares: value parsers and normalisers (rejections: rejections.py)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from urllib.parse import urlsplit

from knowledge.city import load_city
from knowledge.importers.reasons import reason
from knowledge.importers.rejections import (  # noqa: F401 - re-exported for importers
    ParsedFile,
    Rejection,
    RowError,
    RowErrors,
    RowProblems,
)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_SHORT = {day: day[:3].capitalize() for day in DAYS}
_DAY_ALIASES: dict[str, str] = {}
for _index, _day in enumerate(DAYS):
    for _alias in (_day, _day[:2], _day[:3], str(_index + 1)):
        _DAY_ALIASES[_alias] = _day
for _index, _zh in enumerate("一二三四五六日"):
    for _prefix in ("周", "星期", "礼拜"):
        _DAY_ALIASES[_prefix + _zh] = DAYS[_index]
_DAY_ALIASES.update({"tues": "tuesday", "thur": "thursday", "thurs": "thursday", "周天": "sunday"})
_DAY_ALIASES.update({"星期天": "sunday", "礼拜天": "sunday"})

_LANGUAGE_ALIASES = {
    "chinese": "zh", "mandarin": "zh", "中文": "zh", "汉语": "zh", "普通话": "zh", "华语": "zh",
    "cmn": "zh", "zho": "zh", "chi": "zh",
    "english": "en", "英语": "en", "英文": "en", "eng": "en",
    "spanish": "es", "español": "es", "西班牙语": "es", "spa": "es",
    "french": "fr", "français": "fr", "法语": "fr", "fra": "fr", "fre": "fr",
    "arabic": "ar", "العربية": "ar", "阿拉伯语": "ar", "ara": "ar",
    "russian": "ru", "русский": "ru", "俄语": "ru", "rus": "ru",
    "ukrainian": "uk", "українська": "uk", "乌克兰语": "uk", "ukr": "uk",
    "sign language": "sgn", "手语": "sgn", "csl": "sgn",
}  # fmt: skip

# Canonical audience words are the dialogue's `audience` entity values.
_AUDIENCE_ALIASES = {
    "seniors": ("senior", "seniors", "elderly", "older adults", "older people", "retirees",
                "老年人", "老人", "长者", "老年"),
    "children": ("child", "children", "kids", "kid", "少儿", "儿童", "孩子", "小学生", "青少年儿童"),
    "parents": ("parent", "parents", "families", "family", "家长", "父母", "家庭"),
    "migrants": ("migrant", "migrants", "newcomer", "newcomers", "immigrants", "foreigners",
                 "expats", "refugees", "新市民", "外来务工人员", "外国人", "新移民", "随迁家庭"),
    "unemployed": ("unemployed", "jobseekers", "job seekers", "job-seekers", "失业人员", "求职者"),
    "women": ("women", "woman", "female", "妇女", "女性"),
    "youth": ("youth", "young people", "teenagers", "teens", "students", "青年", "青少年", "学生"),
    "disabled": ("disabled", "people with disabilities", "disability", "deaf", "blind",
                 "残障人士", "残疾人", "听障人士"),
    "adults": ("adult", "adults", "general public", "everyone", "all", "成人", "市民", "所有人"),
}  # fmt: skip
_AUDIENCE_LOOKUP = {
    alias: canon for canon, aliases in _AUDIENCE_ALIASES.items() for alias in aliases
}

_ACCESSIBILITY_ALIASES = {
    "wheelchair": ("wheelchair", "wheelchair accessible", "wheelchair access", "step-free access",
                   "step free", "无障碍通道", "轮椅通道", "无障碍"),
    "hearing_loop": ("hearing loop", "induction loop", "hearing_loop", "助听环路"),
    "sign_language": ("sign language", "sign language interpretation", "sign_language", "手语翻译",
                      "手语"),
    "accessible_toilet": ("accessible toilet", "accessible_toilet", "无障碍卫生间"),
    "large_print": ("large print", "large_print", "大字版"),
    "braille": ("braille", "盲文"),
    "elevator": ("elevator", "lift", "电梯"),
}  # fmt: skip
_ACCESSIBILITY_LOOKUP = {
    alias: canon for canon, aliases in _ACCESSIBILITY_ALIASES.items() for alias in aliases
}

_FREE_WORDS = {
    "free",
    "免费",
    "gratis",
    "gratuit",
    "gratuito",
    "бесплатно",
    "безкоштовно",
    "مجاني",
    "0",
    "yes",
    "true",
}


def text(value: object) -> str:
    """A stripped string, or "" for missing values."""
    if value is None:
        return ""
    return str(value).strip()


def split_list(value: object, separator: str = "|") -> tuple[str, ...]:
    """A list column split on `separator`, empty parts dropped."""
    if isinstance(value, list | tuple):
        return tuple(part for part in (text(v) for v in value) if part)
    return tuple(part.strip() for part in text(value).split(separator) if part.strip())


def unique(values: object) -> tuple[str, ...]:
    """Drop duplicates, keep order."""
    return tuple(dict.fromkeys(v for v in values if v))  # type: ignore[union-attr]


WEB_SCHEMES = ("http", "https")
EXPECTED_TIME = reason("expect_time")
EXPECTED_DATE = reason("expect_date")
EXPECTED_DATETIME = reason("expect_datetime")
EXPECTED_DAYS = reason("expect_days")
EXPECTED_BOOL = reason("expect_bool")


def plain_form(raw: str) -> str:
    """A number, date or time as parsed: full-width and compatibility forms ("１２：３０",
    "３１．２") as plain ones (NFKC), other scripts' digits ("١٩:٣٠") as 0-9. Only for parsing:
    rejections show the value as written."""
    normal = unicodedata.normalize("NFKC", raw)
    return "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii() else char
        for char in normal
    )


def require(value: object, field_name: str) -> str:
    """A value that must be there."""
    raw = text(value)
    if not raw:
        raise RowError(field_name, reason("missing"), value="", expected=reason("expect_value"))
    return raw


def parse_number(value: object, field_name: str) -> float | None:
    raw = text(value)
    if not raw:
        return None
    try:
        return float(plain_form(raw))
    except ValueError:
        raise RowError(
            field_name,
            reason("not_a_number", value=raw),
            value=raw,
            expected=reason("expect_number"),
        ) from None


def parse_coordinate(value: object, field_name: str, limit: float) -> float | None:
    """A latitude (limit 90) or longitude (limit 180)."""
    expected = reason("expect_number_between", limit=limit)
    try:
        number = parse_number(value, field_name)
    except RowError as error:
        raise RowError(field_name, error.message, value=error.value, expected=expected) from None
    if number is not None and not -limit <= number <= limit:
        raise RowError(
            field_name,
            reason("out_of_range", value=text(value), limit=limit),
            value=text(value),
            expected=expected,
        )
    return number


def parse_time(value: object, field_name: str) -> str | None:
    """ "HH:MM" from "19:00", "19:00:00", "7:30" or "19:00+08:00"."""
    raw = text(value)
    if not raw:
        return None
    pattern = r"(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    match = re.fullmatch(pattern, plain_form(raw))
    if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59:
        raise RowError(
            field_name, reason("not_a_time", value=raw), value=raw, expected=EXPECTED_TIME
        )
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_date(value: object, field_name: str) -> str | None:
    """An ISO date ("2026-03-01"); a date-time keeps only its date."""
    raw = text(value)
    if not raw:
        return None
    try:
        if len(raw) >= 10:
            return date.fromisoformat(plain_form(raw)[:10]).isoformat()
    except ValueError:
        pass
    raise RowError(
        field_name, reason("not_an_iso_date", value=raw), value=raw, expected=EXPECTED_DATE
    )


def parse_datetime(value: object, field_name: str) -> str | None:
    """An ISO date or date-time, normalised ("2026-05-01T10:00:00+08:00" or "2026-05-01")."""
    raw = text(value)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return date.fromisoformat(plain_form(raw)).isoformat()
        return datetime.fromisoformat(plain_form(raw).replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise RowError(
            field_name,
            reason("not_a_datetime", value=raw),
            value=raw,
            expected=EXPECTED_DATETIME,
        ) from None


def parse_bool(value: object, field_name: str) -> bool | None:
    raw = plain_form(text(value)).lower()
    if not raw:
        return None
    if raw in {"true", "yes", "1", "y", "是", "免费", "free"}:
        return True
    if raw in {"false", "no", "0", "n", "否", "收费", "paid"}:
        return False
    raise RowError(
        field_name,
        reason("not_true_or_false", value=text(value)),
        value=text(value),
        expected=EXPECTED_BOOL,
    )


def parse_link(value: object, field_name: str, schemes: tuple[str, ...] = WEB_SCHEMES) -> str:
    """A link citizens may follow: by default only http(s) addresses. `javascript:`, `data:`
    and every other scheme are refused, since the web chat turns this value into a link;
    pass `schemes=("tel",)` or `("mailto",)` only for a field that holds a phone or an email."""
    raw = text(value)
    if not raw:
        return ""
    expected = reason("expect_scheme_link", scheme=schemes[-1])
    for scheme in reversed(schemes[:-1]):
        expected = reason(
            "either", first=reason("expect_scheme_link", scheme=scheme), second=expected
        )
    if schemes == WEB_SCHEMES:
        expected = reason("expect_web_link")
    try:
        parts = urlsplit(raw)
    except ValueError:
        parts = None
    scheme = parts.scheme.lower() if parts else ""
    unsafe = any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in raw)
    web = scheme in WEB_SCHEMES
    if parts is not None and scheme and scheme not in schemes:
        problem = reason("link_not_allowed", value=raw, scheme=scheme, expected=expected)
    elif parts is None or unsafe or scheme not in schemes or (web and not parts.netloc):
        problem = reason("not_a_link", value=raw, expected=expected)
    else:
        return raw
    raise RowError(field_name, problem, value=raw, expected=expected)


def free_from_price(price: str) -> bool | None:
    """True for a zero or "free" price, False for another number, None when unknown."""
    raw = price.strip().lower()
    if not raw:
        return None
    if raw in _FREE_WORDS:
        return True
    number = re.match(r"[^\d]*(\d+(?:[.,]\d+)?)", raw)  # "0,50 €": a decimal comma
    if number:
        return float(number.group(1).replace(",", ".")) == 0
    return None


def normalise_day(value: object, field_name: str) -> str:
    """ISO weekday name in lower case from "Mo", "MO", "Monday", schema.org URLs or "周一"."""
    raw = text(value)
    key = raw.rsplit("/", 1)[-1].removeprefix("schema:").strip().lower()
    key = re.sub(r"^[+-]?\d*(?=[a-z])", "", key)  # RRULE "1MO" -> "mo"
    if key in _DAY_ALIASES:
        return _DAY_ALIASES[key]
    raise RowError(field_name, reason("not_a_day", value=raw), value=raw, expected=EXPECTED_DAYS)


def normalise_days(values: object, field_name: str) -> tuple[str, ...]:
    """Every day named; one error lists every part that names no day."""
    parts = values if isinstance(values, list | tuple) else re.split(r"[|,，、\s]+", text(values))
    days, bad = [], []
    for part in parts:
        if not text(part):
            continue
        try:
            days.append(normalise_day(part, field_name))
        except RowError:
            bad.append(text(part))
    if bad:
        quoted = ", ".join(f'"{part}"' for part in bad)
        raise RowError(
            field_name,
            reason("one_not_a_day" if len(bad) == 1 else "many_not_days", values=quoted),
            value=text(values)
            if not isinstance(values, list | tuple)
            else " ".join(map(text, values)),
            expected=EXPECTED_DAYS,
        )
    return tuple(sorted(unique(days), key=DAYS.index))


def describe_schedule(days: tuple[str, ...], start: str | None, end: str | None) -> str:
    """A short schedule line: "Mon-Fri 09:00-12:00", "Tue, Thu 19:00-21:00", "Sat"."""
    day_text = _day_ranges(days)
    times = f"{start}-{end}" if start and end else (start or "")
    return " ".join(part for part in (day_text, times) if part)


def _day_ranges(days: tuple[str, ...]) -> str:
    indexes = sorted(DAYS.index(day) for day in days)
    if len(indexes) >= 3 and indexes == list(range(indexes[0], indexes[-1] + 1)):
        return f"{_DAY_SHORT[DAYS[indexes[0]]]}-{_DAY_SHORT[DAYS[indexes[-1]]]}"
    return ", ".join(_DAY_SHORT[DAYS[index]] for index in indexes)


def normalise_language(value: object) -> str:
    """An ISO 639-1 code from "zh-CN", "English", "中文"...; unknown names are kept lower case."""
    raw = text(value).lower()
    if not raw:
        return ""
    if raw in _LANGUAGE_ALIASES:
        return _LANGUAGE_ALIASES[raw]
    primary = re.split(r"[-_]", raw)[0]
    if re.fullmatch(r"[a-z]{2,3}", primary):
        return _LANGUAGE_ALIASES.get(primary, primary)
    return raw


def normalise_audience(value: object) -> str:
    raw = text(value)
    return _AUDIENCE_LOOKUP.get(raw.lower(), raw.lower())


def normalise_accessibility(value: object) -> str:
    raw = text(value)
    return _ACCESSIBILITY_LOOKUP.get(raw.lower(), re.sub(r"\W+", "_", raw.lower()).strip("_"))


def normalise_district(*candidates: object, strict: bool = False) -> str:
    """The first candidate naming a district of the city file (knowledge/city.py), also inside
    longer text ("海林市南湖区"); else, unless `strict`, the first non-empty one as written."""
    values = [text(candidate) for candidate in candidates if text(candidate)]
    key = load_city().district_key(*values)
    if key:
        return key
    return values[0] if values and not strict else ""
