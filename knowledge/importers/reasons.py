"""Why an importer rejects a field, as a message code with parameters, so the staff console
can say it in its own language while the command line keeps these English words.

`reason("not_a_number", value="abc")` is the English text itself (a `str`: the CLI, `--json`
and every comparison see exactly the words they saw before) that also carries `code` and
`params`. The console looks the code up in its own words (bot/admin/reason_words.py) and
fills in the parameters, translating a parameter that is itself a reason (what a field
expects). A value as the source wrote it stays as written.
"""

from __future__ import annotations

from typing import Any

ENGLISH: dict[str, str] = {
    # what is wrong
    "missing": "missing",
    "missing_event_start": "missing (an event needs a start)",
    "not_a_number": '"{value}" is not a number',
    "out_of_range": '"{value}" is out of range (-{limit} to {limit})',
    "not_a_time": '"{value}" is not a time (HH:MM)',
    "not_an_iso_date": '"{value}" is not a date (YYYY-MM-DD)',
    "not_a_datetime": '"{value}" is not a date or date-time (ISO 8601)',
    "not_true_or_false": '"{value}" is not true or false',
    "link_not_allowed": '"{value}": {scheme}: links are not allowed (expected {expected})',
    "not_a_link": '"{value}" is not {expected}',
    "not_a_day": '"{value}" is not a day of the week',
    "one_not_a_day": "{values} is not a day of the week",
    "many_not_days": "{values} are not days of the week",
    "week_of_month": '"{value}" names week {week} of a month (1 to 5, or -1 to -5 from the end)',
    "not_a_number_up_to": '"{value}" is not a number from 1 to {limit}',
    "not_a_frequency": '"{value}" is not a repeat frequency',
    "yearly_nth_without_month": '"{value}" in a yearly rule names no month',
    "yearly_without_month": "a yearly repeat names no month and has no start date",
    "not_a_date": '"{value}" is not a date',
    "not_an_interval": '"{value}" is not a whole number of 1 or more',
    "column_missing": "column missing from the header",
    "more_cells": "more cells than header columns",
    "unknown_csv_type": 'unknown type "{value}" (expected course, space or event)',
    "unknown_jsonld_type": 'unknown type "{value}" (expected Course, Event or a Place)',
    "unknown_location": 'unknown location "{value}"',
    "not_a_json_object": "is not a JSON object",
    "invalid_json": "not valid JSON: {detail}",
    "invalid_ical": "not valid iCalendar: {detail}",
    "ical_not_a_datetime": '"{value}" is not a date or date-time',
    "ical_not_a_duration": '"{value}" is not a duration',
    "ical_not_a_geo": '"{value}" is not latitude;longitude',
    "ical_not_a_rule": '"{value}" is not a recurrence rule',
    "ical_unreadable": '"{value}" cannot be read',
    "duplicate_in_file": 'duplicate id "{value}" (first at {first})',
    "duplicate_in_other_file": 'duplicate id "{value}" (already in {source})',
    "says_nothing_about_when": "says nothing about when",
    "not_utf8": "cannot be read as UTF-8 text ({detail})",
    "unreadable_file": "cannot be read ({detail})",
    "not_xlsx": "is not an Excel workbook (.xlsx): {detail}",
    "binary_file": "is not text (it looks like {kind}): save it as .xlsx or CSV and import that",
    "encoding_unknown": (
        "byte offset {byte} (line {line}) is 0x{value}, not UTF-8, and the encoding cannot be told"
        " for sure (it may be {encodings}): name it with --encoding"
    ),
    "encoding_not_known": 'unknown encoding "{value}"',
    "not_in_encoding": "byte offset {byte} (line {line}) is 0x{value}, which {encoding} cannot read",
    "ambiguous_date": '"{value}" could be day/month or month/day',
    "ambiguous_header": 'the header "{value}" could mean {columns}: name it in a column map',
    "two_headers_one_column": 'the headers {values} all mean "{column}": name one in a column map',
    "not_in_header": (
        'column "{value}" named in the column map {map} line {line} is no header of this file '
        "(its headers: {headers})"
    ),
    "id_columns_empty": "missing (the id is made from {columns}, all empty in this row)",
    "bad_column_map": "{detail}",
    "unknown_format": (
        "is not a known catalog format (expected .jsonld, .json, .ics, .csv, .xlsx or an HSDS"
        " folder)"
    ),
    # what the importer decided without refusing (notices)
    "encoding_guessed": (
        "read as {encoding}: this is the first line not in UTF-8 (if its letters look wrong,"
        " name the encoding with --encoding)"
    ),
    "delimiter_guessed": "columns are separated by {value} (as the first rows show)",
    "delimiter_semicolon": "semicolons (;)",
    "delimiter_tab": "tabs",
    "rows_above_header": "this row is the header: the {count} row(s) above it were skipped",
    "totals_row_skipped": 'a totals row ("{value}"), skipped',
    "note_below_table": 'a note below the table ("{value}"), skipped',
    "date_order_guessed": (
        '"{value}" shows the file writes {order}: its other dates were read so (if not, name'
        " the order with --date-order)"
    ),
    "order_dmy": "day/month/year",
    "order_mdy": "month/day/year",
    # what a field expects
    "expect_value": "a value",
    "expect_number": "a number",
    "expect_number_between": "a number from -{limit} to {limit}",
    "expect_time": "a time HH:MM, 00:00 to 24:00",
    "expect_date": "a date YYYY-MM-DD",
    "expect_datetime": "an ISO 8601 date or date-time (2026-05-01 or 2026-05-01T10:00:00+08:00)",
    "expect_days": "days of the week: Mo, Monday, 周一, …",
    "expect_bool": "true or false, yes or no, 1 or 0",
    "expect_web_link": "an http:// or https:// address",
    "expect_scheme_link": "a {scheme}: address",
    "either": "{first} or {second}",
    "expect_header": "a header with the columns {columns}",
    "expect_location_id": "the id of a row in locations.csv",
    "expect_interval": "1, 2, ... (every n weeks, months or years)",
    "expect_ical_dtstart": "a date or date-time, e.g. 20261201T070000",
    "expect_ical_dtend": "a date or date-time, e.g. 20261201T080000",
    "expect_ical_duration": "a duration, e.g. PT1H30M",
    "expect_ical_geo": "latitude;longitude, e.g. 31.17;121.47",
    "expect_ical_rrule": "a recurrence rule, e.g. FREQ=WEEKLY;BYDAY=TU,TH",
    "expect_ical_value": "a value as RFC 5545 writes it",
    "expect_uid": "a unique id for the event",
    "expect_title": "the event's title",
    "expect_json_object": "a JSON object",
    "expect_item_id": "the item's own id (a URL)",
    "expect_name": "a name",
    "expect_jsonld_type": "Course, an Event type or a Place type (schema.org)",
    "expect_one_cell_per_column": "one cell per header column",
    "expect_csv_type": "course, space or event",
    "expect_by_day": 'days, each maybe with its week of the month: "SA", "1SA", "-1FR", "1SA,3SA"',
    "expect_month_days": "days of the month, 1 to 31 (-1 the last): 1, 15",
    "expect_weeks": "weeks of the month, 1 to 5 (-1 the last): 1, 3",
    "expect_frequency": 'P1W, P2W, P1M, P1Y (ISO 8601), or "weekly", "monthly", "yearly", "daily"',
    "expect_months": "months of the year, 1 to 12: 6, 12",
    "expect_dates": "dates, YYYY-MM-DD",
    "expect_when": "days, times or dates",
    "expect_id_once_per_file": "an id used once per file",
    "expect_id_in_one_file": "an id no other file uses",
    "expect_date_order": "a date whose day is over 12, or --date-order dmy or mdy",
    "expect_encoding": "UTF-8, UTF-16, GB18030, Windows-1251 or Windows-1252 text",
    "expect_column_map": "a column map as docs/catalog-formats.md describes",
    "expect_header_column": "a column of the file's header",
}


class Reason(str):
    """The English words of a rejection (or of what a field expects), with their code and
    parameters."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, params: dict[str, Any]) -> Reason:
        made = super().__new__(cls, ENGLISH[code].format(**params))
        made.code = code
        made.params = params
        return made

    def __reduce__(self) -> tuple[Any, ...]:  # copies (dataclasses.asdict) keep the code
        return (Reason, (self.code, self.params))


def reason(code: str, **params: Any) -> Reason:
    """The reason `code` with its parameters (numbers shown as `{:g}` shows them)."""
    return Reason(code, {key: _shown(value) for key, value in params.items()})


def _shown(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:g}"
    return value if isinstance(value, Reason) else str(value)
