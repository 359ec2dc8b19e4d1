"""The words of the catalog editors' session and removal pages, in the console's languages
(merged into bot/admin/i18n.py's WORDS)."""

from __future__ import annotations

CATALOG_CHANGE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "edit_sessions": "Change when it takes place",
        "sessions_intro": "One block per session, written as a catalog CSV row writes it "
        "(docs/catalog-formats.md). Fill in the empty block to add a session; tick "
        "“remove” to drop one. Searches by day and time use the change at once.",
        "session_number": "Session {number}",
        "new_session": "New session",
        "remove_session": "Remove this session",
        "save_sessions": "Save the sessions",
        "sessions_saved": "Sessions saved. Searches by day and time use them now.",
        "field_days": "Days",
        "hint_days": "e.g. Tu | Th, Sa, 周六; monthly 1Sa | 3Sa (first and third Saturday)",
        "field_start_time": "Starts at (HH:MM)",
        "field_end_time": "Ends at (HH:MM)",
        "field_schedule_text": "As citizens read it",
        "hint_schedule_text": "empty: made from the days and times",
        "field_start_date": "First date (YYYY-MM-DD)",
        "field_end_date": "Last date (YYYY-MM-DD)",
        "field_month_days": "Days of the month",
        "hint_month_days": "e.g. 1 | 15; -1 is the last day",
        "field_except_dates": "Dates it does not take place",
        "hint_except_dates": "e.g. 2027-02-15 | 2027-03-01",
        "remove_item": "Remove this item",
        "remove_item_title": "Remove “{name}” from the catalog?",
        "remove_item_warning": "Citizens' searches stop finding it at once. This cannot be "
        "undone here; a later import of its source file ({source}) brings it back.",
        "remove_item_confirm": "Yes, remove it",
        "remove_item_cancel": "No, keep it",
        "item_removed": "“{name}” was removed from the catalog.",
    },
    "zh": {
        "edit_sessions": "修改上课/活动时间",
        "sessions_intro": "每个时段一栏，写法与目录 CSV 文件的一行相同（见 docs/catalog-formats.md）。"
        "填写空白栏即可添加时段；勾选“删除”即可去掉一个时段。按日期和时间的搜索立即使用修改。",
        "session_number": "时段 {number}",
        "new_session": "新时段",
        "remove_session": "删除这个时段",
        "save_sessions": "保存时段",
        "sessions_saved": "时段已保存。按日期和时间的搜索现在就使用它们。",
        "field_days": "星期",
        "hint_days": "例如 Tu | Th、Sa、周六；每月：1Sa | 3Sa（第一和第三个星期六）",
        "field_start_time": "开始时间（HH:MM）",
        "field_end_time": "结束时间（HH:MM）",
        "field_schedule_text": "市民看到的时间说明",
        "hint_schedule_text": "留空：根据星期和时间生成",
        "field_start_date": "开始日期（YYYY-MM-DD）",
        "field_end_date": "结束日期（YYYY-MM-DD）",
        "field_month_days": "每月的日子",
        "hint_month_days": "例如 1 | 15；-1 表示月末最后一天",
        "field_except_dates": "不举行的日期",
        "hint_except_dates": "例如 2027-02-15 | 2027-03-01",
        "remove_item": "删除此项",
        "remove_item_title": "从目录中删除“{name}”？",
        "remove_item_warning": "删除后市民立即搜索不到它。此处无法撤销；以后再次导入它的来源文件"
        "（{source}）会把它恢复。",
        "remove_item_confirm": "是的，删除",
        "remove_item_cancel": "不，保留",
        "item_removed": "“{name}”已从目录中删除。",
    },
}
