"""The values the console shows (districts, languages, times, audiences, filters, weeks,
unmet groups) in the console's language, for the page only: the CSV exports keep the stored
values, which programs read.

Districts come from the city file (knowledge/sample_city/city.yml, each name in seven
languages) and unmet groups from the topic glossary, so city staff change them there; the
small fixed vocabularies the assistant stores (times of day, audiences, filter names) are
worded here beside the console's other words.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.admin.audit_words import audit_target
from bot.admin.dates import in_zone, shown_day, shown_moment, shown_period
from bot.admin.i18n import WORDS

if TYPE_CHECKING:
    from staff import AuditEntry

# Each language the assistant speaks, named in the console's language.
LANGUAGE_NAMES = {
    "en": {
        "zh": "Chinese",
        "en": "English",
        "es": "Spanish",
        "fr": "French",
        "ar": "Arabic",
        "ru": "Russian",
        "uk": "Ukrainian",
    },
    "zh": {
        "zh": "中文",
        "en": "英语",
        "es": "西班牙语",
        "fr": "法语",
        "ar": "阿拉伯语",
        "ru": "俄语",
        "uk": "乌克兰语",
    },
}
# Stored words of times of day, audiences and search filters (knowledge/search/filters.py,
# actions/learning_need.py); English shows them as stored.
STORED_WORDS = {
    "zh": {
        "day": "白天",
        "daytime": "白天",
        "morning": "上午",
        "evening": "晚上",
        "weekday": "工作日",
        "weekend": "周末",
        "seniors": "老年人",
        "children": "儿童",
        "parents": "家长",
        "migrants": "新移民",
        "unemployed": "失业者",
        "women": "女性",
        "youth": "青少年",
        "disabled": "残障人士",
        "free_only": "只要免费",
        "audience": "对象",
        "language": "授课语言",
        "time_of_day": "时间",
        "district": "区",
        "course": "课程",
        "space": "学习场所",
        "event": "活动",
    },
}
# What the audit log records (staff.record_action's actions) and the health page's names;
# English shows the stored codes, which admins also filter by.
CODE_WORDS = {
    "zh": {
        "login": "登录",
        "login_failed": "登录失败",
        "login_throttled": "登录被暂时锁定",
        "logout": "退出登录",
        "broadcast_send": "发送公告",
        "catalog_edit": "编辑目录项",
        "catalog_sessions": "修改时段",
        "catalog_remove": "删除目录项",
        "catalog_import": "导入目录",
        "guidance_edit": "编辑新市民指引",
        "helpdesk_end": "结束人工服务对话",
        "helpdesk_hours": "修改人工服务时间",
        "staff_add": "添加工作人员",
        "staff_remove": "删除工作人员",
        "export_csv": "下载计数 CSV",
        "export_open_data": "下载开放数据 CSV",
        "gateway": "网关",
        "rasa": "Rasa 服务器",
        "actions": "动作服务器",
        "web": "网页聊天",
        "telegram": "Telegram",
        "wechat": "微信",
    },
}
# Breakdowns whose values a citizen typed: shown as typed.
_AS_TYPED = ("by_topic", "by_query")


class ValueLabels:
    """Stored values as a console page shows them in one language."""

    def __init__(self, language: str) -> None:
        from knowledge.city import load_city  # the city's districts, defined once

        self.language = language
        self._city = load_city()
        self._words = STORED_WORDS.get(language, {})
        self._languages = LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["en"])

    def label(self, breakdown: str, value: object) -> str:
        """One value of a breakdown ("by_district", "by_week", ...) as this language says it."""
        text = str(value)
        if text == "unknown" and breakdown not in _AS_TYPED:
            return WORDS[self.language]["value_unknown"]
        if breakdown == "by_district":
            return self.district(text)
        if breakdown == "by_language":
            return self.language_name(text)
        if breakdown.endswith("by_week"):
            return self.week(text)
        if breakdown == "by_filter":
            return self.filter_wish(text)
        if breakdown in ("by_time", "by_age_group"):
            return self._words.get(text, text)
        return text

    def labelled(self, breakdown: str, counts: Mapping[object, int]) -> dict[str, int]:
        """A breakdown's counts keyed by their labels (order kept)."""
        shown: dict[str, int] = {}
        for value, count in counts.items():
            label = self.label(breakdown, value)
            shown[label] = shown.get(label, 0) + count
        return shown

    def code(self, stored: str) -> str:
        """An audit action or a server, channel or state name in this language."""
        return CODE_WORDS.get(self.language, {}).get(stored, stored)

    def district(self, key: str) -> str:
        return self._city.district_name(key, self.language)

    @property
    def time_zone(self) -> str:
        """The city's IANA time zone, which every time on the pages is shown in."""
        return self._city.time_zone

    def day(self, value: date | datetime | str | None) -> str:
        """A day in this language (bot/admin/dates.py); a time's day in the city's zone (a
        naive time is UTC, as SQLite gives back what was stored as UTC)."""
        if isinstance(value, datetime):
            value = in_zone(value, ZoneInfo(self.time_zone))
        return shown_day(value, self.language)

    def moment(self, value: datetime | str | None, *, seconds: bool = False) -> str:
        """A stored (UTC) time in the city's time zone, in this language."""
        return shown_moment(value, self.language, ZoneInfo(self.time_zone), seconds=seconds)

    def audit_target(self, entry: AuditEntry) -> str:
        """An audit entry's target, worded from its parameters (bot/admin/audit_words.py)."""
        return audit_target(entry.action, entry.details, entry.target, self)

    def period(self, first: date, last: date) -> str:
        return shown_period(first, last, self.language)

    def language_name(self, code: str) -> str:
        if code == "unknown":
            return WORDS[self.language]["value_unknown"]
        return self._languages.get(code, code)

    def language_names(self, codes: list[str] | tuple[str, ...]) -> str:
        """Several languages, as one comma-separated cell."""
        return (
            "、".join(map(self.language_name, codes))
            if self.language == "zh"
            else ", ".join(map(self.language_name, codes))
        )

    def week(self, week: str) -> str:
        """'2026-W48' -> '2026年第48周' in Chinese; as stored in English."""
        year, _, number = week.partition("-W")
        if self.language == "zh" and year.isdigit() and number.isdigit():
            return f"{year}年第{int(number)}周"
        return week

    def filter_wish(self, wish: str) -> str:
        """'time_of_day: weekend' -> '时间：周末'; 'district: Nanhu' -> '区：南湖'."""
        name, separator, value = wish.partition(": ")
        if not separator:
            return self._words.get(name, name)
        if name == "district":
            shown = self.district(value)
        elif name == "language":
            shown = self.language_name(value)
        else:
            shown = self._words.get(value, value)
        colon = "：" if self.language == "zh" else ": "
        return f"{self._words.get(name, name)}{colon}{shown}"
