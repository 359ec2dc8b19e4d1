"""Why a catalog row was rejected, in the console's language: the importers' reason codes
(knowledge/importers/reasons.py) worded in Chinese, and rows, items and lines named the
Chinese way. English is the importers' own text, but where it names a command-line option
the console words it as its form does.

A reason without words in the page's language (a new code, or a language the console does
not have) shows the importers' English rather than nothing.
"""

from __future__ import annotations

import re
from typing import Any

REASON_WORDS: dict[str, dict[str, str]] = {
    # The console's own English where the importers' names a command-line option: here the
    # reader chooses in the form's Encoding and Dates fields.
    "en": {
        "encoding_unknown": (
            "byte offset {byte} (line {line}) is 0x{value}, not UTF-8, and the encoding cannot"
            " be told for sure (it may be {encodings}): choose it under Encoding"
        ),
        "encoding_guessed": (
            "read as {encoding}: this is the first line not in UTF-8 (if its letters look wrong,"
            " choose the encoding under Encoding)"
        ),
        "date_order_guessed": (
            '"{value}" shows the file writes {order}: its other dates were read so (if not,'
            " choose the order under Dates)"
        ),
        "expect_date_order": "a date whose day is over 12, or an order chosen under Dates",
    },
    "zh": {
        "missing": "缺少此项",
        "missing_event_start": "缺少此项（活动必须有开始时间）",
        "not_a_number": "“{value}”不是数字",
        "out_of_range": "“{value}”超出范围（-{limit} 到 {limit}）",
        "not_a_time": "“{value}”不是时间（时:分）",
        "not_an_iso_date": "“{value}”不是日期（年-月-日）",
        "not_a_datetime": "“{value}”不是日期或日期时间（ISO 8601）",
        "not_true_or_false": "“{value}”不是“是”或“否”",
        "link_not_allowed": "“{value}”：不允许 {scheme}: 链接（应为{expected}）",
        "not_a_link": "“{value}”不是{expected}",
        "not_a_day": "“{value}”不是星期几",
        "one_not_a_day": "{values} 不是星期几",
        "many_not_days": "{values} 不是星期几",
        "week_of_month": "“{value}”指的是每月第 {week} 周（应为 1 到 5，或从月底倒数 -1 到 -5）",
        "not_a_number_up_to": "“{value}”不是 1 到 {limit} 之间的数",
        "not_a_frequency": "“{value}”不是重复频率",
        "yearly_nth_without_month": "每年重复的规则中“{value}”没有指明月份",
        "yearly_without_month": "每年重复，但没有指明月份，也没有开始日期",
        "not_a_date": "“{value}”不是日期",
        "not_an_interval": "“{value}”不是大于等于 1 的整数",
        "column_missing": "表头缺少这一列",
        "more_cells": "单元格比表头的列多",
        "unknown_csv_type": "未知类型“{value}”（应为 course、space 或 event）",
        "unknown_jsonld_type": "未知类型“{value}”（应为 Course、Event 或 Place）",
        "unknown_location": "未知地点“{value}”",
        "not_a_json_object": "不是 JSON 对象",
        "invalid_json": "不是有效的 JSON：{detail}",
        "invalid_ical": "不是有效的 iCalendar：{detail}",
        "ical_not_a_datetime": "“{value}”不是日期或日期时间",
        "ical_not_a_duration": "“{value}”不是时长",
        "ical_not_a_geo": "“{value}”不是“纬度;经度”",
        "ical_not_a_rule": "“{value}”不是重复规则",
        "ical_unreadable": "无法读取“{value}”",
        "duplicate_in_file": "重复的编号“{value}”（首次出现在{first}）",
        "duplicate_in_other_file": "重复的编号“{value}”（已在 {source} 中）",
        "says_nothing_about_when": "没有说明时间",
        "not_utf8": "无法按 UTF-8 文本读取（{detail}）",
        "unreadable_file": "无法读取（{detail}）",
        "not_xlsx": "不是 Excel 工作簿（.xlsx）：{detail}",
        "binary_file": "不是文本（看起来是 {kind}）：请另存为 .xlsx 或 CSV 后再导入",
        "encoding_unknown": (
            "字节偏移 {byte}（第 {line} 行）是 0x{value}，不是 UTF-8，也无法确定编码"
            "（可能是 {encodings}）：请在“编码”中选择"
        ),
        "encoding_not_known": "未知编码“{value}”",
        "not_in_encoding": "字节偏移 {byte}（第 {line} 行）是 0x{value}，无法按 {encoding} 读取",
        "ambiguous_date": "“{value}”可能是日/月，也可能是月/日",
        "ambiguous_header": "表头“{value}”可能指 {columns}：请在列映射中指明",
        "two_headers_one_column": "表头 {values} 都指“{column}”：请在列映射中指明其中一个",
        "not_in_header": "列映射 {map} 第 {line} 行的列“{value}”不是本文件的表头（表头有：{headers}）",
        "id_columns_empty": "缺少此项（编号由 {columns} 生成，本行这些列都为空）",
        "bad_column_map": "{detail}",
        "unknown_format": "不是已知的目录格式（应为 .jsonld、.json、.ics、.csv、.xlsx 或 HSDS 文件夹）",
        "encoding_guessed": (
            "按 {encoding} 读取：这是第一处不是 UTF-8 的行（如果文字显示不对，请在“编码”中选择）"
        ),
        "delimiter_guessed": "各列以{value}分隔（据前几行判断）",
        "delimiter_semicolon": "分号（;）",
        "delimiter_tab": "制表符",
        "rows_above_header": "这一行是表头：其上的 {count} 行已跳过",
        "totals_row_skipped": "合计行（“{value}”），已跳过",
        "note_below_table": "表格下方的注释（“{value}”），已跳过",
        "date_order_guessed": (
            "“{value}”表明文件按{order}书写：其他日期也按此读取（如果不是，请在“日期”中选择）"
        ),
        "order_dmy": "日/月/年",
        "order_mdy": "月/日/年",
        "expect_value": "一个值",
        "expect_number": "一个数字",
        "expect_number_between": "-{limit} 到 {limit} 之间的数字",
        "expect_time": "时间，时:分，00:00 到 24:00",
        "expect_date": "日期，年-月-日（YYYY-MM-DD）",
        "expect_datetime": "ISO 8601 日期或日期时间（2026-05-01 或 2026-05-01T10:00:00+08:00）",
        "expect_days": "星期几：Mo、Monday、周一……",
        "expect_date_order": "日大于 12 的日期，或在“日期”中选择顺序",
        "expect_encoding": "UTF-8、UTF-16、GB18030、Windows-1251 或 Windows-1252 文本",
        "expect_column_map": "docs/catalog-formats.md 所述的列映射",
        "expect_header_column": "文件表头中的一列",
        "expect_bool": "true 或 false、yes 或 no、1 或 0、是或否",
        "expect_web_link": "http:// 或 https:// 网址",
        "expect_scheme_link": "{scheme}: 地址",
        "either": "{first}或{second}",
        "expect_header": "包含这些列的表头：{columns}",
        "expect_location_id": "locations.csv 中某一行的编号",
        "expect_interval": "1、2……（每 n 周、每 n 月或每 n 年）",
        "expect_ical_dtstart": "日期或日期时间，例如 20261201T070000",
        "expect_ical_dtend": "日期或日期时间，例如 20261201T080000",
        "expect_ical_duration": "时长，例如 PT1H30M",
        "expect_ical_geo": "纬度;经度，例如 31.17;121.47",
        "expect_ical_rrule": "重复规则，例如 FREQ=WEEKLY;BYDAY=TU,TH",
        "expect_ical_value": "按 RFC 5545 书写的值",
        "expect_uid": "活动的唯一编号",
        "expect_title": "活动的标题",
        "expect_json_object": "一个 JSON 对象",
        "expect_item_id": "条目自己的编号（一个网址）",
        "expect_name": "名称",
        "expect_jsonld_type": "Course、某种 Event 类型或某种 Place 类型（schema.org）",
        "expect_one_cell_per_column": "每个表头列一个单元格",
        "expect_csv_type": "course、space 或 event",
        "expect_by_day": "星期几，可带每月第几周：“SA”“1SA”“-1FR”“1SA,3SA”",
        "expect_month_days": "每月的日子，1 到 31（-1 为最后一天）：1, 15",
        "expect_weeks": "每月的第几周，1 到 5（-1 为最后一周）：1, 3",
        "expect_frequency": "P1W、P2W、P1M、P1Y（ISO 8601），或 weekly、monthly、yearly、daily",
        "expect_months": "一年中的月份，1 到 12：6、12",
        "expect_dates": "日期，年-月-日",
        "expect_when": "星期、时间或日期",
        "expect_id_once_per_file": "在一个文件中只用一次的编号",
        "expect_id_in_one_file": "其他文件没有用过的编号",
    },
}
# Where a rejection is: "row 7", "item 3", "line 4", "VEVENT 2", "VEVENT UID x", "file".
POSITION_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "row": "第 {n} 行",
        "item": "第 {n} 项",
        "line": "第 {n} 行",
        "VEVENT": "第 {n} 个 VEVENT",
        "VEVENT UID": "VEVENT（UID {n}）",
        "file": "整个文件",
    }
}
# The fields that are no column: the header row, the file's encoding or delimiter, ...
FIELD_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "(header)": "（表头）",
        "(encoding)": "（编码）",
        "(delimiter)": "（分隔符）",
        "(file)": "（文件）",
        "(row)": "（整行）",
    }
}
_POSITION = re.compile(r"^(row|item|line|VEVENT UID|VEVENT) (.+)$")


def reason_in(message: Any, language: str) -> str:
    """A rejection's reason (or what a field expects) in `language`; the importers' English
    when the console has no words for it."""
    words = REASON_WORDS.get(language, {})
    code = getattr(message, "code", None)
    if code not in words:
        return str(message)
    params = {key: reason_in(value, language) for key, value in message.params.items()}
    return words[code].format(**params)


def position_in(position: str, language: str) -> str:
    """Where a rejected field is, e.g. "row 7" as 第 7 行 in Chinese."""
    words = POSITION_WORDS.get(language, {})
    if position in words:
        return words[position]
    found = _POSITION.match(position)
    if found is None or found.group(1) not in words:
        return position
    return words[found.group(1)].format(n=found.group(2))


def field_in(field_name: str, language: str) -> str:
    """A field named in a rejection or notice: a column as the file has it, or "(encoding)"
    and its kind in `language`."""
    return FIELD_WORDS.get(language, {}).get(field_name, field_name)
