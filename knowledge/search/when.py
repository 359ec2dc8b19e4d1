"""Dates a question names ("this weekend", "tomorrow", "next week", "周六"), as real dates.

`resolve_when(text, today, tz)` reads the seven languages (zh, en, es, fr, ar, ru, uk) and
returns the dates meant, in the city's time zone (for the sample city Asia/Shanghai: at
23:30 UTC on a Friday it is already Saturday there). Weeks run Monday to Sunday.

- today / tomorrow / the day after tomorrow;
- this weekend (这周末, este fin de semana, ce week-end, эти выходные ...): the coming
  Saturday and Sunday, or what is left of the weekend when asked on one; next weekend
  (下周末 ...): the weekend of next week;
- this week (the rest of it, today included), next week (Monday to Sunday);
- a named weekday ("saturday", "周六", "samedi", "в субботу"): the next such day, today
  included; with "next" (下周六, next saturday, el próximo sábado) the one in next week;
  with "this" (这周六, this saturday) the one in this week.

A bare "周末" / "weekends" / "los sábados" / "по субботам" is a habit (which courses run at
weekends), not a date, and resolves to nothing: the search filters handle it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_TIME_ZONE = "Asia/Shanghai"  # the sample city's; a real city sets its own


@dataclass(frozen=True)
class DateSpan:
    """The dates a question names, first and last included."""

    start: date
    end: date
    meaning: str  # today, tomorrow, this_weekend, next_weekend, this_week, next_week, weekday

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{alternative})" for alternative in alternatives))


_B, _E = r"(?<![\w'’ʼ])", r"(?![\w'’ʼ])"  # word edges (Chinese is matched without them)

_NEXT_WEEKEND = _words(
    r"下(?:个)?周末|下(?:个)?星期的?周末",
    _B + r"next weekend" + _E,
    _B + r"(?:el )?(?:pr[oó]ximo fin de semana|fin de semana que viene)" + _E,
    _B + r"(?:le )?week-?end prochain" + _E,
    r"نهاية الأسبوع (?:القادم|المقبل)|عطلة نهاية الأسبوع (?:القادمة|المقبلة)",
    _B + r"(?:в|на) следующие выходные|следующие выходные" + _E,
    _B + r"(?:у|в|на) наступні вихідні|наступні вихідні|наступних вихідних" + _E,
)
_THIS_WEEKEND = _words(
    r"(?:这|本|这个)周末|这礼拜末",
    _B + r"this (?:coming )?weekend|(?:on |at )?the weekend(?! after)" + _E,
    _B + r"este fin de semana" + _E,
    _B + r"ce week-?end" + _E,
    r"نهاية (?:هذا )?الأسبوع(?: هذه| هذا)?|عطلة نهاية الأسبوع هذه",
    _B + r"(?:в|на) эти(?:х)? выходны(?:е|х)|эти выходные|этих выходных|этими выходными" + _E,
    _B + r"(?:у|в|на) ці(?:х)? вихідн(?:і|их)|ці вихідні|цих вихідних|цими вихідними" + _E,
)
_NEXT_WEEK = _words(
    r"下(?:个)?(?:周|星期|礼拜)(?![一二三四五六日天末])",
    _B + r"next week" + _E,
    _B + r"(?:la )?(?:pr[oó]xima semana|semana que viene)" + _E,
    _B + r"(?:la )?semaine prochaine" + _E,
    r"الأسبوع (?:القادم|المقبل)",
    _B + r"(?:на )?следующей неделе" + _E,
    _B + r"(?:на )?наступному тижні|наступного тижня" + _E,
)
_THIS_WEEK = _words(
    r"(?:这|本|这个)(?:周|星期|礼拜)(?![一二三四五六日天末])",
    _B + r"this week" + _E,
    _B + r"esta semana" + _E,
    _B + r"cette semaine" + _E,
    r"هذا الأسبوع",
    _B + r"(?:на )?этой неделе" + _E,
    _B + r"(?:на )?цьому тижні|цього тижня" + _E,
)
_AFTER_TOMORROW = _words(
    r"后天",
    _B + r"(?:the )?day after tomorrow" + _E,
    _B + r"pasado mañana" + _E,
    _B + r"apr[eè]s-demain" + _E,
    r"بعد غد",
    _B + r"послезавтра" + _E,
    _B + r"післязавтра" + _E,
)
_TOMORROW = _words(
    r"明天|明晚|明早",
    _B + r"tomorrow" + _E,
    _B + r"mañana" + _E,  # "por la mañana" (in the morning) is taken out first
    _B + r"demain" + _E,
    r"غدا|غدًا|غداً|بكرة",
    _B + r"завтра" + _E,
    _B + r"завтра" + _E,
)
_TODAY = _words(
    r"今天|今晚|今日",
    _B + r"today|tonight" + _E,
    _B + r"hoy|esta noche" + _E,
    _B + r"aujourd'hui|ce soir" + _E,
    r"اليوم|الليلة",
    _B + r"сегодня" + _E,
    _B + r"сьогодні" + _E,
)
_SPANISH_MORNING = re.compile(r"(?:por|de|en) la mañana")

# Weekday names: index 0 = Monday. Singular forms only: plurals ("saturdays", "los sábados",
# "по субботам") name a habit, as does French "le samedi".
_WEEKDAY_WORDS: tuple[tuple[str, ...], ...] = (
    ("monday", "lunes", "lundi", "الاثنين", "الإثنين", "понедельник", "понеділок"),
    ("tuesday", "martes", "mardi", "الثلاثاء", "вторник", "вівторок"),
    ("wednesday", "miércoles", "mercredi", "الأربعاء", "среда", "среду", "середа", "середу"),
    ("thursday", "jueves", "jeudi", "الخميس", "четверг", "четвер"),
    ("friday", "viernes", "vendredi", "الجمعة", "пятница", "пятницу", "п'ятниця", "п'ятницю"),
    ("saturday", "sábado", "samedi", "السبت", "суббота", "субботу", "субота", "суботу", "суботи"),
    ("sunday", "domingo", "dimanche", "الأحد", "воскресенье", "неділя", "неділю"),
)
_CHINESE_DAYS = "一二三四五六日"
_CHINESE_WEEKDAY = re.compile(r"(下(?:个)?|这(?:个)?|本)?(?:周|星期|礼拜)([一二三四五六日天])")
_NEXT_WORDS = ("next", "próximo", "proximo", "prochain", "следующ", "наступн", "القادم", "المقبل")
_THIS_WORDS = ("this", "este", "ce", "эт", "ці", "цю", "цей", "هذا")


def resolve_when(
    text: str, today: date | datetime | None = None, tz: str = DEFAULT_TIME_ZONE
) -> DateSpan | None:
    """The dates `text` names, or None if it names none. `today`: a date in the city, or
    an aware datetime (converted to `tz`); by default now in `tz`."""
    day = _local_day(today, tz)
    normal = _normalise(text)
    normal = _SPANISH_MORNING.sub(" ", normal.replace("pasado mañana", "pasado_mañana"))
    normal = normal.replace("pasado_mañana", "pasado mañana")
    monday = day - timedelta(days=day.weekday())
    if _NEXT_WEEKEND.search(normal):
        saturday = monday + timedelta(days=12)
        return DateSpan(saturday, saturday + timedelta(days=1), "next_weekend")
    if _THIS_WEEKEND.search(normal):
        saturday = monday + timedelta(days=5)
        return DateSpan(max(day, saturday), saturday + timedelta(days=1), "this_weekend")
    if _NEXT_WEEK.search(normal):
        return DateSpan(monday + timedelta(days=7), monday + timedelta(days=13), "next_week")
    if _THIS_WEEK.search(normal):
        return DateSpan(day, monday + timedelta(days=6), "this_week")
    weekday = _weekday(normal, day, monday)
    if weekday is not None:
        return DateSpan(weekday, weekday, "weekday")
    if _AFTER_TOMORROW.search(normal):
        after = day + timedelta(days=2)
        return DateSpan(after, after, "day_after_tomorrow")
    if _TOMORROW.search(normal):
        tomorrow = day + timedelta(days=1)
        return DateSpan(tomorrow, tomorrow, "tomorrow")
    if _TODAY.search(normal):
        return DateSpan(day, day, "today")
    return None


def city_today(tz: str = DEFAULT_TIME_ZONE) -> date:
    """Today's date in the city."""
    return datetime.now(ZoneInfo(tz)).date()


def _local_day(today: date | datetime | None, tz: str) -> date:
    if today is None:
        return city_today(tz)
    if isinstance(today, datetime):
        if today.tzinfo is None:
            raise ValueError("give an aware datetime (or a date in the city)")
        return today.astimezone(ZoneInfo(tz)).date()
    return today


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.replace("’", "'").replace("ʼ", "'").replace("ё", "е")


def _weekday(normal: str, day: date, monday: date) -> date | None:
    chinese = _CHINESE_WEEKDAY.search(normal)
    if chinese:
        prefix, name = chinese.groups()
        index = 6 if name in "日天" else _CHINESE_DAYS.index(name)
        if prefix and prefix.startswith("下"):
            return monday + timedelta(days=7 + index)
        if prefix:
            return monday + timedelta(days=index)
        return _next_on_or_after(day, index)
    for index, words in enumerate(_WEEKDAY_WORDS):
        for word in words:
            found = re.search(r"((?:\w+\s+){0,2})" + _B + re.escape(word) + _E, normal)
            if not found:
                continue
            before = found.group(1)
            if re.search(r"(?<!\w)le\s+$", before):  # "le samedi": every Saturday
                return None
            around = before + normal[found.end() : found.end() + 12]
            if any(marker in around for marker in _NEXT_WORDS):
                return monday + timedelta(days=7 + index)
            if any(re.search(_B + re.escape(m) + r"\w*" + _E, before) for m in _THIS_WORDS):
                return monday + timedelta(days=index)
            return _next_on_or_after(day, index)
    return None


def _next_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)
