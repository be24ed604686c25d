"""Reading a table someone sent us, once for every domain: CSV or XLSX bytes into rows of cells, each
with the line it starts on in the file.

A CSV is decoded (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252) and its separator
sniffed (`;`, `,`, tab or `|`); an XLSX is read through the bounded reader below. What the cells mean
(which column, which parser) is the import pattern's business (`core/imports.py`), not this module's.

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
import math
import time
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .errors import DomainError

#: Excel's own limit for one cell: no spreadsheet writes a longer one
MAX_CELL_CHARS = 32_767
# The csv module's limit is process-wide (128 KB by default, an uncaught csv.Error past it): ours is
# Excel's, and every reader below turns csv.Error into a French message naming the line.
csv.field_size_limit(MAX_CELL_CHARS)

#: XLSX is a zip archive; the old binary .xls is an OLE2 compound file
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SEPARATORS = (";", ",", "\t", "|")
#: a separator that never occurs in text: a one-column CSV is still read by the csv module (quotes)
NO_SEPARATOR = "\x1f"

Row = tuple[int, list[Any]]


class FileRejected(DomainError):
    """An uploaded file that cannot be read safely; the message is French, the field is "file"."""

    def __init__(self, message: str, field: str | None = "file", line: int | None = None):
        super().__init__(message, field)
        #: the line of the file that could not be read, when there is one
        self.line = line


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
            raise FileRejected(_csv_error_message(start), line=start) from None
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
        raise FileRejected(_csv_error_message(number), line=number) from None


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
                if not is_blank(values):
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


# --- one entry point: bytes in, rows out -------------------------------------------------------

@dataclass
class Table:
    """The rows of an uploaded table, each `(line, cells)`, and what was read (« CSV (UTF-8) »…)."""

    rows: Iterator[Row]
    format: str


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding's name: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise FileRejected("Le fichier annonce l'encodage UTF-16 mais n'en est pas : enregistrez-le "
                               "de nouveau en CSV UTF-8.") from None
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return data.decode("latin-1"), "ISO-8859-1"


def sniff_separator(lines: list[str]) -> str | None:
    """The separator that splits the header line most, and splits the next lines as often; None: one column."""
    header, following = lines[0], lines[1:20]
    best, best_score = None, (0, 0)
    for separator in SEPARATORS:
        columns = len(first_csv_cells(header, separator))
        if columns < 2:
            continue
        consistent = sum(1 for number, line in enumerate(following, start=2)
                         if len(first_csv_cells(line, separator, number)) == columns)
        score = (consistent, columns)
        if score > best_score:
            best, best_score = separator, score
    return best


def text_rows(text: str, limits: SpreadsheetLimits = DEFAULT_LIMITS, deadline: Deadline | None = None,
              delimiter: str | None = None) -> Iterator[Row]:
    """The rows of a CSV text, its separator sniffed from the first 50 non-blank lines unless given."""
    if delimiter is None:
        lines = [line for line in text.splitlines()[:50] if line.strip()]
        delimiter = (sniff_separator(lines) if lines else None) or NO_SEPARATOR
    return csv_rows(text, delimiter, limits, deadline)


def read_table(data: bytes, limits: SpreadsheetLimits = DEFAULT_LIMITS,
               prefer: Callable[[list[Any]], bool] | None = None) -> Table:
    """An uploaded CSV or XLSX as rows; `prefer` picks the XLSX sheet (see `xlsx_rows`).

    Refused with a French message: the old binary .xls, a binary file that is neither, and whatever
    the bounded readers refuse (size, rows, columns, cells, zip bombs, deadline)."""
    if data.startswith(OLE2_MAGIC):
        raise FileRejected("Les fichiers Excel anciens (.xls) ne sont pas pris en charge : enregistrez le "
                           "fichier au format .xlsx ou .csv.")
    deadline = Deadline(limits.seconds)
    if data.startswith(ZIP_MAGIC):
        return Table(xlsx_rows(data, limits, deadline, prefer=prefer), "Excel (.xlsx)")
    if b"\x00" in data[:4096] and not data.startswith(UTF16_BOMS):
        raise FileRejected("Ce fichier n'est ni un tableur .xlsx ni un fichier texte .csv.")
    text, encoding = decode(data)
    return Table(text_rows(text, limits, deadline), f"CSV ({encoding})")


#: our own reference files (communes, sectors, structure lists): trusted, large, never timed out
TRUSTED_LIMITS = SpreadsheetLimits(max_rows=10_000_000, max_columns=1000, seconds=math.inf)


def read_csv_file(path: Path, delimiter: str = ",",
                  limits: SpreadsheetLimits = TRUSTED_LIMITS) -> Iterator[tuple[int, dict[str, str]]]:
    """A UTF-8 CSV file with a header line, as `(line, {header: text})`; every value stays text (codes
    keep their leading zeros), a missing trailing cell is "". For our own files, read as they are."""
    text = path.read_text(encoding="utf-8-sig")
    rows = text_rows(text, limits, delimiter=delimiter)
    header = next(rows, (1, []))[1]
    for line, cells in rows:
        if cells:  # a blank line (as csv.DictReader, which skips it)
            yield line, dict(zip(header, cells + [""] * (len(header) - len(cells))))


def cell_text(value: Any) -> str:
    """A cell as a person reads it: "" for an empty cell, `12` for the float 12.0 a spreadsheet stores,
    a date as JJ/MM/AAAA, any other value as its text without surrounding spaces."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        value = value.date()
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def is_blank(cells: Iterable[Any]) -> bool:
    """True when every cell is empty or spaces."""
    return all(cell_text(cell) == "" for cell in cells)
