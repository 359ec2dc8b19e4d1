"""What an importer says about bad input: every bad field of every row, for the operator.

A row (or JSON-LD object, or VEVENT) is checked field by field and every problem is kept, so a
row with `free=maybe`, `latitude=abc`, `days=funday` and `start_time=25:00` is fixed in one
round, not four. `RowProblems` gathers them; `ParsedFile.reject_error` turns them into
`Rejection`s naming the file, the row, the field, the value and what the field expects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from knowledge.documents import CatalogItem
from knowledge.importers.reasons import Reason, reason

T = TypeVar("T")


@dataclass(frozen=True)
class Rejection:
    """One bad field of a row or object: where it is, what it holds, what it should hold."""

    file: str
    position: str  # "row 7" (spreadsheet row, header is row 1), "item 3", "VEVENT UID x", "line 4"
    field: str
    message: str
    value: str | None = None  # as the source wrote it; None when the field is absent
    expected: str = ""  # what the field takes, for the operator

    def __str__(self) -> str:
        return f"{self.file} {self.position}, field {self.field}: {self.message}"

    def explained(self) -> str:
        """The rejection and what the field expects, for the operator's terminal."""
        line = str(self)
        if self.expected and "(" not in self.message:  # "(HH:MM)" already says it
            line += f" (expected {self.expected})"
        return line

    def as_dict(self) -> dict[str, Any]:
        """The rejection for `--json` output."""
        return asdict(self)


@dataclass(frozen=True)
class Notice:
    """What the importer decided without refusing anything (an encoding or a delimiter it
    guessed, a header it did not guess, a row it skipped), named by file, row and field so the
    operator can check it; `message` is a Reason, so the console words it in its language."""

    file: str
    position: str  # "row 1", "line 3": as Rejection.position
    field: str  # a column, or "(encoding)", "(delimiter)", "(header)"
    message: str

    def __str__(self) -> str:
        return f"{self.file} {self.position}, field {self.field}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """The notice for `--json` output: `code` names what was decided whatever the words
        (docs/catalog-formats.md lists the codes), `message` says it in English."""
        code = self.message.code if isinstance(self.message, Reason) else None
        return {"file": self.file, "position": self.position, "field": self.field, "code": code,
                "message": str(self.message)}  # fmt: skip


class RowError(ValueError):
    """A value that cannot be used; the importer turns it into a Rejection."""

    def __init__(
        self, field_name: str, message: str, *, value: str | None = None, expected: str = ""
    ) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message
        self.value = value
        self.expected = expected

    def all(self) -> list[RowError]:
        """Every problem this error stands for."""
        return [self]


class RowErrors(RowError):
    """Several bad fields of one row, reported together."""

    def __init__(self, errors: list[RowError]) -> None:
        first = errors[0]
        super().__init__(first.field, first.message, value=first.value, expected=first.expected)
        self.errors = [single for error in errors for single in error.all()]

    def all(self) -> list[RowError]:
        return list(self.errors)


class RowProblems:
    """Every bad field of one row, gathered while the row is read; raised together at the end."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def check(self, parse: Callable[..., T], *args: Any, default: Any = None) -> T:
        """`parse(*args)`, or `default` (with the problem kept) when the value is bad."""
        try:
            return parse(*args)
        except RowError as error:
            self.errors.extend(error.all())
            return default  # type: ignore[no-any-return]

    def add(
        self, field_name: str, message: str, *, value: str | None = None, expected: str = ""
    ) -> None:
        self.errors.append(RowError(field_name, message, value=value, expected=expected))

    def raise_if_any(self) -> None:
        if self.errors:
            raise RowErrors(self.errors)


@dataclass
class ParsedFile:
    """What one importer read from one file or package."""

    source: str
    items: list[CatalogItem] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # Ids seen in the file, including rejected rows whose id was readable: prune keeps those.
    listed_ids: set[str] = field(default_factory=set)
    # False when the file could not be read at all; prune then leaves its source alone.
    readable: bool = True
    # CSV: how each header column was understood, and what was not guessed (`--dry-run`).
    columns: list[Any] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def add(self, item: CatalogItem, position: str, file: str) -> None:
        """Keep `item` unless its id was already used earlier in this file."""
        if item.id in self.positions:
            self.reject(
                file,
                position,
                "id",
                reason("duplicate_in_file", value=item.id, first=self.positions[item.id]),
                value=item.id,
                expected=reason("expect_id_once_per_file"),
            )
            return
        self.positions[item.id] = position
        self.listed_ids.add(item.id)
        self.items.append(item)

    def reject(
        self,
        file: str,
        position: str,
        field_name: str,
        message: str,
        *,
        value: str | None = None,
        expected: str = "",
    ) -> None:
        self.rejected.append(Rejection(file, position, field_name, message, value, expected))

    def reject_error(self, file: str, position: str, error: RowError) -> None:
        """One rejection per bad field that `error` stands for."""
        for single in error.all():
            self.reject(
                file,
                position,
                single.field,
                single.message,
                value=single.value,
                expected=single.expected,
            )

    def __post_init__(self) -> None:
        self.positions: dict[str, str] = {}
