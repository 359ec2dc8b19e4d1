"""Every date the console shows is in the reader's language and the city's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.admin.dates import shown_day, shown_moment
from knowledge.city import load_city
from tests.admin.console_support import logged_in

CHINESE = {"accept-language": "zh-CN,zh;q=0.9"}


def _chinese_day(moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo(load_city().time_zone))
    return f"{local.year}年{local.month}月{local.day}日"


async def test_chinese_pages_write_the_year_first_and_english_the_day_first(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'dates.db'}"
    async with logged_in(url, {"mei": "admin"}, "mei") as client:
        staff_zh = await client.get("/admin/staff", headers=CHINESE)
        audit_zh = await client.get("/admin/audit", headers=CHINESE)
        planner_zh = await client.get(
            "/admin/planner?from=2026-11-03&to=2026-12-02", headers=CHINESE
        )
        planner_en = await client.get("/admin/planner?from=2026-11-03&to=2026-12-02&lang=en")

    today_zh = _chinese_day(datetime.now(UTC))
    assert today_zh in staff_zh.text, "the account's creation day, year first"
    assert today_zh in audit_zh.text, "the login's time, year first"
    assert load_city().time_zone in audit_zh.text, "the audit log names the zone it shows"
    assert "2026年11月3日 至 2026年12月2日" in planner_zh.text
    assert "3 Nov 2026 – 2 Dec 2026" in planner_en.text
    # The browser's own date widget follows the browser's locale (11/03/2026), not the page's.
    assert 'type="date"' not in planner_zh.text
    assert 'value="2026-11-03"' in planner_zh.text


def test_each_language_orders_the_day_its_own_way() -> None:
    day = date(2026, 12, 2)
    shown = {language: shown_day(day, language) for language in ("zh", "en", "fr", "ru", "ar")}
    assert shown == {
        "zh": "2026年12月2日",
        "en": "2 Dec 2026",
        "fr": "02/12/2026",
        "ru": "02.12.2026",
        "ar": "2\u200f/12\u200f/2026",
    }
    # 06:05 UTC is 14:05 in Shanghai: the city's time zone, not the server's.
    moment = datetime(2026, 12, 2, 6, 5, tzinfo=UTC)
    assert shown_moment(moment, "zh", ZoneInfo("Asia/Shanghai")) == "2026年12月2日 14:05"
    assert shown_moment("2026-12-01T23:30:00+00:00", "fr", ZoneInfo("Europe/Paris")) == (
        "02/12/2026 00:30"
    )


def test_a_stored_time_is_shown_on_its_day_in_the_city_whatever_the_database_gives() -> None:
    """SQLite gives a stored UTC time back without its zone; the day is still the city's."""
    from bot.admin.value_labels import ValueLabels

    zone = ZoneInfo(load_city().time_zone)
    late_utc = datetime(2026, 12, 2, 23, 30)  # naive, as SQLite returns it
    city_day = late_utc.replace(tzinfo=UTC).astimezone(zone).date()
    labels = ValueLabels("zh")
    expected = f"{city_day.year}年{city_day.month}月{city_day.day}日"
    assert labels.day(late_utc) == expected
    assert labels.day(late_utc.replace(tzinfo=UTC)) == expected
    assert labels.day(date(2026, 12, 2)) == "2026年12月2日", "a plain day is shown as it is"
