"""Which of a city's CSV columns is which of ours: a column map file, or header names we
recognise in the seven languages; and how each column was understood, for `--dry-run`.

A header we recognise is used only when it can mean one column; "date" (a start date or a
start?) is reported and kept in `extra`, and two headers meaning one column ("名称" and
"课程名称") are both reported, so nothing is guessed. A column map (docs/catalog-formats.md)
settles both, sets constant values (`type: course`) and makes ids for a file without them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.importers.local_formats import DATE_ORDERS
from knowledge.importers.reasons import Reason, reason

OUR_COLUMNS = (
    "id", "type", "name", "description", "topics", "languages", "audiences", "free", "price",
    "place_name", "address", "district", "latitude", "longitude", "days", "start_time",
    "end_time", "schedule_text", "start_date", "end_date", "opening_hours", "amenities",
    "accessibility", "start", "end", "url", "organizer", "month_days", "except_dates", "months",
)  # fmt: skip

# Header names (compared without case, accents, `_`/`-`) in zh, en, es, fr, ar, ru, uk.
_HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("identifier", "编号", "identifiant", "identificador", "идентификатор",
           "ідентифікатор", "المعرف"),
    "type": ("类型", "tipo", "тип", "النوع"),
    "name": ("title", "名称", "名稱", "课程名称", "活动名称", "场馆名称", "标题", "nom", "titre",
             "intitule", "nombre", "titulo", "denominacion", "название", "наименование", "назва",
             "найменування", "الاسم", "اسم"),
    "description": ("简介", "描述", "说明", "内容", "descripcion", "описание", "опис", "الوصف"),
    "topics": ("topic", "themes", "主题", "类别", "分类", "thematique", "categorie", "temas",
               "categoria", "темы", "тематика", "категория", "теми", "категорія", "المواضيع"),
    "languages": ("language", "语言", "授课语言", "langues", "langue", "idiomas", "idioma",
                  "языки", "язык", "мови", "мова", "اللغات", "اللغة"),
    "audiences": ("audience", "对象", "适合人群", "面向对象", "public", "publico",
                  "destinatarios", "аудитория", "аудиторія", "الفئة المستهدفة"),
    "free": ("免费", "gratuit", "gratuito", "бесплатно", "безкоштовно", "مجاني"),
    "price": ("价格", "费用", "收费标准", "prix", "tarif", "precio", "tarifa", "coste", "цена",
              "стоимость", "ціна", "вартість", "السعر"),
    "place_name": ("place", "venue", "地点", "场地", "场馆", "lieu", "lugar", "место", "місце",
                   "المكان"),
    "address": ("地址", "adresse", "direccion", "domicilio", "адрес", "адреса"),
    "district": ("区", "所属区", "行政区", "区县", "arrondissement", "quartier", "distrito",
                 "barrio", "район", "الحي"),
    "latitude": ("lat", "纬度", "latitud", "широта", "خط العرض"),
    "longitude": ("lon", "lng", "经度", "longitud", "долгота", "довгота", "خط الطول"),
    "days": ("星期", "上课日", "jours", "dias", "дни", "дні", "الأيام"),
    "start_time": ("开始时刻", "heure de debut", "hora de inicio", "время начала",
                   "час початку", "وقت البدء"),
    "end_time": ("结束时刻", "heure de fin", "hora de fin", "время окончания",
                 "час закінчення", "وقت الانتهاء"),
    "start_date": ("开始日期", "date de debut", "fecha de inicio", "дата начала", "дата початку",
                   "تاريخ البدء"),
    "end_date": ("结束日期", "date de fin", "fecha de fin", "дата окончания",
                 "дата закінчення", "تاريخ الانتهاء"),
    "start": ("开始时间", "debut", "inicio", "начало", "початок", "البداية"),
    "end": ("结束时间", "fin", "конец", "кінець", "النهاية"),
    "opening_hours": ("开放时间", "horaires d'ouverture", "horario de apertura", "часы работы",
                      "години роботи", "ساعات العمل"),
    "url": ("website", "web", "网址", "链接", "site web", "site internet", "lien", "sitio web",
            "pagina web", "enlace", "сайт", "веб-сайт", "ссылка", "посилання", "الرابط",
            "الموقع الإلكتروني"),
    "organizer": ("organiser", "主办方", "主办单位", "举办单位", "organisateur", "organizador",
                  "организатор", "організатор", "المنظم"),
}  # fmt: skip
# Headers that name more than one of our columns: reported, never guessed.
_AMBIGUOUS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("date", "日期", "fecha", "дата", "التاريخ"), ("start", "start_date")),
    **dict.fromkeys(
        ("horaire", "horaires", "horario", "时间", "время", "час", "الوقت"),
        ("opening_hours", "schedule_text"),
    ),
    **dict.fromkeys(("heure", "hora"), ("start_time", "end_time")),
    "العنوان": ("name", "address"),
}


def header_key(header: str) -> str:
    """A header as compared: compatibility forms as plain ones ("ＰＲＩＣＥ"), lower case, no
    accents, `_`/`-`/spaces as one space, none between two hanzi ("名　称" is 名称)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", header).casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    spaced = re.sub(r"[\s_\-]+", " ", plain).strip()
    return _SPACE_IN_HANZI.sub("", spaced)


_SPACE_IN_HANZI = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")


_OURS = {header_key(column) for column in OUR_COLUMNS}
_KNOWN = {header_key(column): column for column in OUR_COLUMNS}
_KNOWN |= {
    header_key(alias): column for column, aliases in _HEADER_NAMES.items() for alias in aliases
}


# A column map's `header: extra` keeps a header in `extra` even when its name is recognised
# ("web" is a url) because the city's values in it are not ours (an e-mail in a url column).
KEEP_IN_EXTRA = "extra"


class ColumnMapError(ValueError):
    """A column map file that cannot be used; the message names its file, line and field."""


@dataclass(frozen=True)
class ColumnMap:
    """A city's own header names mapped to ours, constant values, and how ids are made."""

    file: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # their header -> our column
    constants: dict[str, str] = field(default_factory=dict)  # our column -> every row's value
    id_from: tuple[str, ...] = ()  # their headers whose values make an id
    id_prefix: str = ""
    encoding: str | None = None
    date_order: str | None = None
    lines: dict[str, int] = field(default_factory=dict)  # their header -> its line in the map

    def line_of(self, header: str) -> int:
        """The map file's line naming `header`, for an operator's error (0: not from a file)."""
        return self.lines.get(header, 0)


@dataclass(frozen=True)
class CsvReading:
    """How to read a city's CSV files: `learncity catalog import --columns/--encoding/--date-order`."""

    columns: ColumnMap | None = None
    encoding: str | None = None
    date_order: str | None = None

    @property
    def text_encoding(self) -> str | None:
        return self.encoding or (self.columns.encoding if self.columns else None)

    @property
    def order(self) -> str | None:
        return self.date_order or (self.columns.date_order if self.columns else None)


@dataclass(frozen=True)
class ColumnUse:
    """How one header was understood: `column` is ours (None: kept in `extra` as `header`)."""

    header: str
    column: str | None
    how: str

    def as_dict(self) -> dict[str, str | None]:
        return {"header": self.header, "column": self.column, "how": self.how}


@dataclass
class ColumnPlan:
    """Every header's use, the problems of the header row, and what each row gets."""

    uses: list[ColumnUse]
    problems: list[tuple[str, Reason, str | None]]  # (field, why, value): the file is refused
    notices: list[tuple[str, Reason]]  # (field, why): headers not guessed, kept in `extra`
    map: ColumnMap = field(default_factory=ColumnMap)
    id_headers: dict[str, str] = field(default_factory=dict)  # id_from name -> file's header

    def given(self) -> set[str]:
        """Our columns every row gets: from a header, a constant, or a made id."""
        made = {"id"} if self.map.id_from else set()
        return {use.column for use in self.uses if use.column} | set(self.map.constants) | made

    def report(self) -> list[ColumnUse]:
        """Every header's use, then the constants and the made id, as `--dry-run` shows them."""
        made = [
            ColumnUse("", column, f'"{value}" in every row ({self.map.file})')
            for column, value in self.map.constants.items()
        ]
        if self.map.id_from:
            columns = ", ".join(self.map.id_from)
            made.append(ColumnUse("", "id", f"made from {columns} ({self.map.file})"))
        return [*self.uses, *made]

    def row(self, cells: dict[str, str | None]) -> dict[str, str | None]:
        """One file row as our row: our column names, constants, extra under their header."""
        ours: dict[str, str | None] = {}
        for use in self.uses:
            if use.column:
                ours[use.column] = cells.get(use.header)
            else:
                ours.setdefault(use.header.strip().lower(), cells.get(use.header))
        ours |= self.map.constants
        if None in cells:
            ours[None] = cells[None]  # type: ignore[index]
        if self.map.id_from:
            named = {name: cells.get(self.id_headers.get(name, name)) for name in self.map.id_from}
            ours["id"] = make_id(self.map, named)
        return ours


def make_id(column_map: ColumnMap, cells: dict[str, str | None]) -> str:
    """A stable id from the chosen columns' values: the same row gets it on every import."""
    values = [(cells.get(header) or "").strip() for header in column_map.id_from]
    if not any(values):
        return ""
    digest = hashlib.sha1("\x1f".join(values).encode("utf-8")).hexdigest()[:12]
    return f"{column_map.id_prefix}{digest}"


def plan_columns(header: list[str], column_map: ColumnMap | None) -> ColumnPlan:
    """How each header is read: mapped, ours by name, recognised, ambiguous, or extra.
    A map's header names are compared with the file's as header_key() folds both ("ＰＲＩＣＥ"
    is "price", "名　称" is "名称"), as recognised names are."""
    mapping = column_map or ColumnMap()
    uses: list[ColumnUse] = []
    notices: list[tuple[str, Reason]] = []
    in_file: dict[str, str] = {}  # folded -> the file's first header so folded
    for raw in header:
        in_file.setdefault(header_key(raw), raw)
    problems = _map_names_not_in(in_file, mapping, header)
    mapped = {header_key(name): target for name, target in mapping.columns.items()}
    id_headers = {
        name: in_file[header_key(name)] for name in mapping.id_from if header_key(name) in in_file
    }
    claimed: dict[str, list[str]] = {}
    ours = {_KNOWN[key] for key in map(header_key, header) if key in _OURS}  # win over aliases
    for raw in header:
        name = raw.strip()
        if header_key(name) in mapped and in_file[header_key(name)] == raw:
            target = mapped[header_key(name)]
            if target == KEEP_IN_EXTRA:  # recognised, but the city's values do not fit ours
                uses.append(ColumnUse(raw, None, f"kept in extra (column map {mapping.file})"))
            else:
                uses.append(ColumnUse(raw, target, f"column map {mapping.file}"))
            continue
        key = header_key(name)
        column = _KNOWN.get(key)
        if key in _AMBIGUOUS:
            meant = " or ".join(_AMBIGUOUS[key])
            uses.append(ColumnUse(raw, None, f"ambiguous: could be {meant}; kept in extra"))
            notices.append((name, reason("ambiguous_header", value=name, columns=meant)))
        elif column is None or column in mapping.columns.values() or column in mapping.constants:
            uses.append(ColumnUse(raw, None, "kept in extra"))
        elif column in ours and key not in _OURS:  # "title" beside our own "name"
            uses.append(ColumnUse(raw, None, f'kept in extra (the file has "{column}")'))
        else:
            how = "our column" if key in _OURS else "recognised header name"
            uses.append(ColumnUse(raw, column, how))
            claimed.setdefault(column, []).append(raw)
    for column, headers in claimed.items():
        if len(headers) > 1:  # "名称" and "课程名称": neither is guessed
            quoted = ", ".join(f'"{h.strip()}"' for h in headers)
            why = reason("two_headers_one_column", values=quoted, column=column)
            notices.append((column, why))
            uses = [
                ColumnUse(u.header, None, f"ambiguous: one of {quoted}; kept in extra")
                if u.column == column
                else u
                for u in uses
            ]
    return ColumnPlan(uses, problems, notices, mapping, id_headers)


def _map_names_not_in(
    in_file: dict[str, str], mapping: ColumnMap, header: list[str]
) -> list[tuple[str, Reason, str | None]]:
    """A problem for each header the map names that no header of the file is, even folded:
    it names the map's file and line, and the headers the file has."""
    problems: list[tuple[str, Reason, str | None]] = []
    headers = ", ".join(f'"{raw.strip()}"' for raw in header if raw.strip())
    for named in [*mapping.columns, *mapping.id_from]:
        if header_key(named) not in in_file:
            why = reason(
                "not_in_header",
                value=named,
                map=mapping.file,
                line=mapping.line_of(named),
                headers=headers,
            )
            problems.append((named, why, None))
    return problems


def load_column_map(path: Path) -> ColumnMap:
    """Read a column map (YAML); a mistake raises ColumnMapError naming file, line and field."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ColumnMapError(f"{path.name}: cannot be read as YAML ({error})") from None
    if not isinstance(node, yaml.MappingNode):
        raise ColumnMapError(f"{path.name} line 1: expected a mapping with `columns:`")
    parts: dict[str, yaml.Node] = {key.value: value for key, value in node.value}
    for key, _value in node.value:
        if key.value not in {
            "columns",
            "constants",
            "id_from",
            "id_prefix",
            "encoding",
            "date_order",
        }:
            raise ColumnMapError(
                f"{path.name} line {key.start_mark.line + 1}, field {key.value}: unknown key "
                "(expected columns, constants, id_from, id_prefix, encoding, date_order)"
            )
    lines: dict[str, int] = {}
    columns = _pairs(path, parts.get("columns"), "columns", ours="value", lines=lines)
    constants = _pairs(path, parts.get("constants"), "constants", ours="key")
    id_from = _strings(path, parts.get("id_from"), "id_from", lines=lines)
    order = _scalar(parts.get("date_order"))
    if order and order not in DATE_ORDERS:
        line = parts["date_order"].start_mark.line + 1
        raise ColumnMapError(
            f'{path.name} line {line}, field date_order: "{order}" (expected dmy or mdy)'
        )
    return ColumnMap(
        file=path.name,
        columns=columns,
        constants=constants,
        id_from=id_from,
        id_prefix=_scalar(parts.get("id_prefix")) or (f"{path.stem}-" if id_from else ""),
        encoding=_scalar(parts.get("encoding")) or None,
        date_order=order or None,
        lines=lines,
    )


def _pairs(
    path: Path, node: yaml.Node | None, name: str, *, ours: str, lines: dict[str, int] | None = None
) -> dict[str, str]:
    """A mapping of one value each; its `ours` side ("key" or "value") must be our column.
    `lines` gets each key's line in the file."""
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise ColumnMapError(
            f"{path.name} line {node.start_mark.line + 1}, field {name}: expected a mapping"
        )
    pairs: dict[str, str] = {}
    for key, value in node.value:
        where = f"{path.name} line {value.start_mark.line + 1}, field {name}.{key.value}"
        if not isinstance(value, yaml.ScalarNode):
            raise ColumnMapError(f"{where}: expected one value")
        column = str(value.value if ours == "value" else key.value).strip()
        if column not in OUR_COLUMNS and not (ours == "value" and column == KEEP_IN_EXTRA):
            raise ColumnMapError(
                f'{where}: unknown column "{column}" (expected one of {", ".join(OUR_COLUMNS)})'
            )
        pairs[str(key.value).strip()] = str(value.value)
        if lines is not None:
            lines.setdefault(str(key.value).strip(), key.start_mark.line + 1)
    return pairs


def _strings(
    path: Path, node: yaml.Node | None, name: str, *, lines: dict[str, int]
) -> tuple[str, ...]:
    """One column or a list of them; `lines` gets each one's line in the file."""
    if node is None:
        return ()
    items = [node] if isinstance(node, yaml.ScalarNode) else getattr(node, "value", None)
    if isinstance(items, list) and all(isinstance(item, yaml.ScalarNode) for item in items):
        for item in items:
            lines.setdefault(str(item.value).strip(), item.start_mark.line + 1)
        return tuple(str(item.value).strip() for item in items)
    raise ColumnMapError(
        f"{path.name} line {node.start_mark.line + 1}, field {name}: expected a list of columns"
    )


def _scalar(node: yaml.Node | None) -> str:
    return str(node.value).strip() if isinstance(node, yaml.ScalarNode) else ""
