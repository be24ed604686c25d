"""The one import pattern: parse → check every line → all-or-nothing → a French report by line and column.

A domain declares its columns (the French header a person types, its aliases, whether it is required,
and a parser: text, integer, decimal with a comma, date JJ/MM/AAAA, SIRET with its check digit) and
hands the rows of a table (`core/tables.py`) to `import_rows`. Every line is checked and every error
kept — a person fixes the whole file at once, not one line per upload — and when one line is wrong
nothing is returned: `ImportRejected` carries the list, « ligne 12, colonne « SIRET » : … ». Long files
report their progress through a callback (a page polls the row it writes, the CLI prints).

Imports whose lines are more than a set of cells (one line describing a structure from twenty
columns with cross-checks) parse each line with their own function raising `RowError`, through the
same engine (`parse_all`).
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from .errors import DomainError
from .identifiers import is_digits, is_valid_siret
from .tables import FileRejected, Row, cell_text, is_blank, read_csv_file
from .text import strip_accents

T = TypeVar("T")
#: called with (lines done, lines in all or None when unknown)
Progress = Callable[[int, int | None], None]
#: how often the progress callback is called, in lines
PROGRESS_EVERY = 500
#: errors listed in the message; all of them stay in `ImportRejected.errors`
MAX_ERRORS_SHOWN = 20


@dataclass
class LineError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"ligne {self.line}, colonne « {self.column} » : {self.message}"


class ImportRejected(DomainError):
    """At least one line is invalid: nothing was written. `errors` lists every one, in line order."""

    def __init__(self, errors: list[LineError]):
        errors = sorted(errors, key=lambda e: e.line)
        shown = "; ".join(str(e) for e in errors[:MAX_ERRORS_SHOWN])
        more = f" (et {len(errors) - MAX_ERRORS_SHOWN} autres)" if len(errors) > MAX_ERRORS_SHOWN else ""
        super().__init__(f"Import refusé, aucune ligne enregistrée : {shown}{more}.", "file")
        self.errors = errors


class RowError(ValueError):
    """Raised by a line parser: the column and a French message."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.field = column
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


# --- parsers: French text in, a value out, or ValueError with a French message --------------------

def text(value: str) -> str:
    return value


def integer(value: str) -> int:
    """« 1 234 » or « 1234 »: digits 0-9 only (Python's int() would read « ３ » or « ١ »)."""
    digits = re.sub(r"[\s\u00a0\u202f]", "", value)
    sign = -1 if digits.startswith("-") else 1
    if not is_digits(digits.removeprefix("-")):
        raise ValueError(f"« {value} » n'est pas un nombre entier")
    return sign * int(digits.removeprefix("-"))


_DECIMAL = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")


def decimal(value: str) -> Decimal:
    """« 1 234,56 » (comma, as a French spreadsheet writes it) or « 1234.56 »; never a float."""
    compact = re.sub(r"[\s\u00a0\u202f]", "", value)
    if not _DECIMAL.fullmatch(compact):
        raise ValueError(f"« {value} » n'est pas un nombre (exemple : 1 234,56)")
    return Decimal(compact.replace(",", "."))


def french_date(value: str) -> date:
    """JJ/MM/AAAA (as a person writes it; a spreadsheet's date cell reaches here in that form too)."""
    match = re.fullmatch(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", value.strip())
    try:
        if match is None:
            raise ValueError
        day, month, year = (int(part) for part in match.groups())
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"« {value} » n'est pas une date au format JJ/MM/AAAA") from None


def siret_digits(value: str) -> str:
    """14 digits, spaces and dots allowed between them (the check digit is not judged)."""
    digits = re.sub(r"[\s.\u00a0\u202f]", "", value)
    if len(digits) != 14 or not is_digits(digits):
        raise ValueError(f"« {value} » n'est pas un SIRET de 14 chiffres")
    return digits


def siret(value: str) -> str:
    """14 digits (spaces and dots allowed between them) whose check digit is right."""
    digits = siret_digits(value)
    if not is_valid_siret(digits):
        raise ValueError(f"SIRET {digits} invalide (clé de contrôle)")
    return digits


# --- declared columns -------------------------------------------------------------------------

def folded(header: Any) -> str:
    """A header compared as a person means it: case, accents, spaces and punctuation ignored."""
    return re.sub(r"[^a-z0-9]", "", strip_accents(cell_text(header)).lower())


@dataclass(frozen=True)
class Column:
    """One column of an import: `key` in the parsed line, `label` the French header a person types."""

    key: str
    label: str
    parse: Callable[[str], Any] = text
    aliases: tuple[str, ...] = ()
    required: bool = True
    #: a required header whose cells may be left empty (the line then holds None): a template sent back
    #: with only the lines someone filled in
    blank_ok: bool = False
    #: how well a header names this column (0: not at all); default: equal to the label or an alias
    score: Callable[[Any], int] | None = None

    def match(self, header: Any) -> int:
        if self.score is not None:
            return self.score(header)
        return int(folded(header) in {folded(name) for name in (self.label, *self.aliases)})


def locate(header: list[Any], columns: Iterable[Column]) -> dict[str, int]:
    """Where each declared column is in the header row (the best-scoring header; the first on a tie)."""
    found: dict[str, int] = {}
    for column in columns:
        scores = [column.match(cell) for cell in header]
        best = max(scores, default=0)
        if best:
            found[column.key] = scores.index(best)
    return found


def missing_columns_error(header: list[Any], columns: Iterable[Column], found: dict[str, int]) -> FileRejected:
    missing = ", ".join(f"« {c.label} »" for c in columns if c.required and c.key not in found)
    seen = ", ".join(f"« {cell_text(c)} »" for c in header if cell_text(c))[:300]
    return FileRejected(f"Colonne{'s' if ',' in missing else ''} absente{'s' if ',' in missing else ''} de "
                        f"l'en-tête : {missing}." + (f" Colonnes trouvées : {seen}." if seen else ""))


@dataclass
class Line:
    """One line of the file, its cells parsed by column key."""

    line: int
    values: dict[str, Any]


def _parse_cells(number: int, cells: list[Any], columns: list[Column], where: dict[str, int],
                 labels: dict[str, str], errors: list[LineError]) -> Line:
    values: dict[str, Any] = {}
    for column in columns:
        index = where.get(column.key)
        raw = cell_text(cells[index]) if index is not None and index < len(cells) else ""
        if not raw:
            if column.required and not column.blank_ok:
                errors.append(LineError(number, labels[column.key], "valeur manquante"))
            values[column.key] = None
            continue
        try:
            values[column.key] = column.parse(raw)
        except ValueError as error:
            errors.append(LineError(number, labels[column.key], str(error)))
    return Line(number, values)


def import_rows(rows: Iterable[Row], columns: list[Column], progress: Progress | None = None,
                total: int | None = None) -> list[Line]:
    """The lines of a table (its first non-blank row is the header), every cell parsed by its column.

    All or nothing: when any line has an error, `ImportRejected` lists every error of every line."""
    rows = iter(rows)
    header: list[Any] | None = None
    for _number, cells in rows:
        if not is_blank(cells):
            header = cells
            break
    if header is None:
        raise FileRejected("Le fichier est vide.")
    where = locate(header, columns)
    if any(c.required and c.key not in where for c in columns):
        raise missing_columns_error(header, columns, where)
    # the report names a column as the file does
    labels = {c.key: cell_text(header[where[c.key]]) if c.key in where else c.label for c in columns}
    errors: list[LineError] = []
    lines = parse_all(((n, cells) for n, cells in rows if not is_blank(cells)),
                      lambda number, cells: _parse_cells(number, cells, columns, where, labels, errors),
                      progress, total)
    if errors:
        raise ImportRejected(errors)
    return lines


def parse_all(rows: Iterable[tuple[int, T]], parse: Callable[[int, T], Any], progress: Progress | None = None,
              total: int | None = None) -> list[Any]:
    """Parse every row; raise ImportRejected listing every bad line, so nothing is half-imported.
    `progress(done, total)` is called every PROGRESS_EVERY lines and once at the end."""
    parsed, errors = [], []
    done = 0
    for line, row in rows:
        try:
            parsed.append(parse(line, row))
        except RowError as error:
            errors.append(LineError(line, error.field, error.message))
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
    if progress is not None and (done % PROGRESS_EVERY or not done):
        progress(done, total)
    if errors:
        raise ImportRejected(errors)
    return parsed


def read_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of one of our reference CSV files (comma-separated, UTF-8) with their line number (the header
    is line 1), values stripped; an unreadable line is an ImportRejected naming it."""
    try:
        for line, row in read_csv_file(path):
            yield line, {key: value.strip() for key, value in row.items()}
    except FileRejected as error:
        raise ImportRejected([LineError(error.line or 1, "fichier", error.message)]) from None


def print_progress(label: str, stream=None) -> Progress:
    """A progress callback for the command line: « label : 1500 / 3847 lignes » on one rewritten line."""
    stream = stream or sys.stderr

    def report(done: int, total: int | None) -> None:
        of = f" / {total}" if total else ""
        stream.write(f"\r{label} : {done}{of} lignes")
        if total is None or done >= total:
            stream.write("\n")
        stream.flush()

    return report


def count_lines(path: Path) -> int:
    """Lines of a text file after its header (a total for the progress, close enough for a display)."""
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)
