"""The one CSV import helper: parse → validate every line → all-or-nothing → per-line French report;
and the bounded readers every upload goes through (CSV and XLSX from people we do not know).

A spreadsheet is hostile until read: an XLSX is a zip whose members may inflate a thousandfold, whose
declared dimension (`A1:XFD20000`) may claim 300 million cells, whose shared strings may hold one 300 MB
cell. So: the zip's members are measured (uncompressed size and ratio) before openpyxl opens it, sheets
are streamed (`read_only=True`) with explicit row and column bounds (the declared dimension is never
used), every cell is measured, and a deadline is checked while iterating. Each refusal is a
`FileRejected` with a French message naming the line when there is one.
"""
from __future__ import annotations

import csv
import io
import time
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .errors import DomainError

#: Excel's own limit for one cell: no spreadsheet writes a longer one
MAX_CELL_CHARS = 32_767
# The csv module's limit is process-wide (128 KB by default, an uncaught csv.Error past it): ours is
# Excel's, and every reader below turns csv.Error into a French message naming the line.
csv.field_size_limit(MAX_CELL_CHARS)


@dataclass
class LineError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"ligne {self.line}, {self.field} : {self.message}"


class ImportRejected(DomainError):
    """At least one line is invalid: nothing was written."""

    def __init__(self, errors: list[LineError]):
        shown = "; ".join(str(e) for e in errors[:20])
        more = f" (et {len(errors) - 20} autres)" if len(errors) > 20 else ""
        super().__init__(f"Import refusé, aucune ligne enregistrée : {shown}{more}.")
        self.errors = errors


class RowError(ValueError):
    """Raised by a row parser: the field and a French message."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"créées : {self.created}", f"mises à jour : {self.updated}", f"inchangées : {self.unchanged}",
               f"signalées : {len(self.flagged)}"]
        out += [f"  - {flag}" for flag in self.flagged[:50]]
        return out


def read_csv(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    """Rows with their line number in the file (the header is line 1)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        try:
            for index, row in enumerate(reader, start=2):
                yield index, {k: (v or "").strip() for k, v in row.items() if k is not None}
        except csv.Error:
            line = reader.line_num + 1
            raise ImportRejected([LineError(line, "fichier", _csv_error_message(line))]) from None


def parse_all(rows: Iterable[tuple[int, dict[str, str]]], parse: Callable[[int, dict[str, str]], Any]) -> list[Any]:
    """Parse every row; raise ImportRejected listing every bad line, so nothing is half-imported."""
    parsed, errors = [], []
    for line, row in rows:
        try:
            parsed.append(parse(line, row))
        except RowError as error:
            errors.append(LineError(line, error.field, error.message))
    if errors:
        raise ImportRejected(errors)
    return parsed


# --- bounded readers for uploads -----------------------------------------------------------------

class FileRejected(DomainError):
    """An uploaded file that cannot be read safely; the message is French, the field is "file"."""

    def __init__(self, message: str, field: str | None = "file"):
        super().__init__(message, field)


@dataclass(frozen=True)
class SpreadsheetLimits:
    """What one upload may cost. The defaults fit « Vérifier mes fournisseurs » (5 000 lines, 5 MB)."""

    max_rows: int = 10_000
    max_columns: int = 200
    max_cell_chars: int = MAX_CELL_CHARS
    #: an XLSX member, uncompressed (a 5 000-line sheet is under 1 MB)
    max_member_bytes: int = 20 * 1024 * 1024
    max_total_bytes: int = 50 * 1024 * 1024
    max_members: int = 500
    #: uncompressed / compressed, checked on members over `ratio_floor_bytes` (XML compresses ~10×)
    max_ratio: int = 100
    ratio_floor_bytes: int = 1024 * 1024
    max_sheets: int = 50
    #: wall-clock seconds any one parse may take
    seconds: float = 5.0


DEFAULT_LIMITS = SpreadsheetLimits()


class Deadline:
    """Checked while iterating: a parse that takes too long stops with a French message."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise FileRejected(f"La lecture du fichier a pris plus de {self.seconds:g} s et a été arrêtée : "
                               "envoyez un fichier plus simple (une seule feuille, sans mise en forme) ou "
                               "un fichier .csv.")


def _csv_error_message(line: int) -> str:
    return (f"Ligne {line} illisible : un champ dépasse {MAX_CELL_CHARS} caractères "
            "(ou un guillemet n'est pas refermé).")


def _cell_too_long(line: int, column: int, limits: SpreadsheetLimits) -> FileRejected:
    return FileRejected(f"Ligne {line}, colonne {column} : la cellule dépasse {limits.max_cell_chars} caractères.")


def _too_many_rows(limits: SpreadsheetLimits) -> FileRejected:
    return FileRejected(f"Le fichier dépasse {limits.max_rows} lignes : découpez-le en plusieurs envois.")


def _too_many_columns(line: int, limits: SpreadsheetLimits) -> FileRejected:
    return FileRejected(f"Ligne {line} : plus de {limits.max_columns} colonnes. Gardez seulement les colonnes "
                        "utiles.")


def csv_rows(text: str, delimiter: str, limits: SpreadsheetLimits = DEFAULT_LIMITS,
             deadline: Deadline | None = None) -> Iterator[tuple[int, list[str]]]:
    """Rows of a CSV text with the line each starts on; bounded in field size, columns, rows and time."""
    deadline = deadline or Deadline(limits.seconds)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise FileRejected(_csv_error_message(start)) from None
        if len(cells) > limits.max_columns:
            raise _too_many_columns(start, limits)
        if start > limits.max_rows:
            raise _too_many_rows(limits)
        yield start, cells
        start = reader.line_num + 1
        deadline.check()


def first_csv_cells(line: str, delimiter: str, number: int = 1) -> list[str]:
    """The cells of one line (for sniffing a separator), with the same French error as `csv_rows`."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        raise FileRejected(_csv_error_message(number)) from None


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} Mo" if limit >= 1024 * 1024 else f"{limit // 1024} Ko"


def check_zip(data: bytes, limits: SpreadsheetLimits = DEFAULT_LIMITS) -> None:
    """Refuse a zip bomb before anything inflates it: too many members, a member too large once
    uncompressed, too large in total, or compressed suspiciously well."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError):
        raise FileRejected("Le fichier Excel est illisible. Enregistrez-le de nouveau au format .xlsx ou "
                           ".csv.") from None
    if len(members) > limits.max_members:
        raise FileRejected(f"Le fichier Excel contient trop d'éléments ({len(members)}) : il a été refusé.")
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > limits.max_member_bytes:
            raise FileRejected(f"Le fichier Excel est refusé : une fois décompressé, l'élément "
                               f"« {member.filename[:80]} » dépasserait {_size(limits.max_member_bytes)}.")
        if (member.file_size > limits.ratio_floor_bytes
                and member.file_size > limits.max_ratio * max(member.compress_size, 1)):
            raise FileRejected(f"Le fichier Excel est refusé : l'élément « {member.filename[:80]} » est compressé "
                               f"plus de {limits.max_ratio} fois (archive suspecte).")
    if total > limits.max_total_bytes:
        raise FileRejected(f"Le fichier Excel est refusé : une fois décompressé, il dépasserait "
                           f"{_size(limits.max_total_bytes)}.")


def _bounded_row(row: tuple, number: int, limits: SpreadsheetLimits) -> list[Any]:
    """The row's values without its trailing empty cells, each cell measured."""
    if row == _blank_row(len(row)):  # compared in C: most rows past the data are blank
        return []
    # openpyxl pads each row to max_col: trim the padding sixteen cells at a time (compared in C)
    last, step = len(row), 16
    while last >= step and row[last - step:last] == _blank_row(step):
        last -= step
    while last and row[last - 1] is None:
        last -= 1
    values = list(row[:last])
    for column, value in enumerate(values, start=1):
        if isinstance(value, str) and len(value) > limits.max_cell_chars:
            raise _cell_too_long(number, column, limits)
    return values


@lru_cache(maxsize=8)
def _blank_row(width: int) -> tuple:
    return (None,) * width


def _is_blank(values: Iterable[Any]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def xlsx_rows(data: bytes, limits: SpreadsheetLimits = DEFAULT_LIMITS, deadline: Deadline | None = None,
              prefer: Callable[[list[Any]], bool] | None = None) -> Iterator[tuple[int, list[Any]]]:
    """Rows (number, values) of one sheet: the first whose first 20 rows satisfy `prefer`, else the first.

    Rows and columns are read within explicit bounds, never the sheet's declared dimension; a non-blank
    row past `max_rows` or a cell over `max_cell_chars` is refused, and so is a parse past the deadline."""
    from openpyxl import load_workbook

    deadline = deadline or Deadline(limits.seconds)
    check_zip(data, limits)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds on a broken file; all mean "unreadable"
        raise FileRejected("Le fichier Excel est illisible. Enregistrez-le de nouveau au format .xlsx ou "
                           ".csv.") from None
    try:
        sheets = list(workbook.worksheets)[: limits.max_sheets]
        if not sheets:
            raise FileRejected("Le fichier Excel ne contient aucune feuille.")
        chosen = sheets[0]
        if prefer is not None:
            for sheet in sheets:
                head = sheet.iter_rows(min_row=1, max_row=20, min_col=1, max_col=limits.max_columns,
                                       values_only=True)
                if any(prefer(_bounded_row(row, number, limits)) for number, row in enumerate(head, start=1)):
                    chosen = sheet
                    break
                deadline.check()
        # max_row + 1: a row past the limit is read only to tell whether it holds anything
        rows = chosen.iter_rows(min_row=1, max_row=limits.max_rows + 1, min_col=1, max_col=limits.max_columns,
                                values_only=True)
        for number, row in enumerate(rows, start=1):
            values = _bounded_row(row, number, limits)
            if number > limits.max_rows:
                if not _is_blank(values):
                    raise _too_many_rows(limits)
                break
            yield number, values
            if number % 64 == 0:
                deadline.check()
    except FileRejected:
        raise
    except Exception:  # noqa: BLE001 - broken XML, a shared string index out of range, a bad date…:
        # openpyxl's parser raises whatever the crafted file leads it to; all mean "unreadable"
        raise FileRejected("Le fichier Excel est illisible. Enregistrez-le de nouveau au format .xlsx ou "
                           ".csv.") from None
    finally:
        workbook.close()
