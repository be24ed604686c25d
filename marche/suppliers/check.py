"""« Vérifier mes fournisseurs »: which of a buyer's suppliers (SIRET or SIREN) are inclusive structures.

Reads a pasted list or a CSV / XLSX file (encoding, separator and SIRET column are sniffed), then
answers every line: inclusive (kinds, name), not inclusive, or invalid with its French reason.
Read-only: nothing is written. The API's lookup endpoint uses the same `check_entries`.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import select

from ..core.errors import DomainError
from ..core.imports import Deadline, FileRejected, SpreadsheetLimits, csv_rows, first_csv_cells, xlsx_rows
from ..core.identifiers import is_digits, is_valid_siren, is_valid_siret, normalize_digits
from ..core.text import strip_accents
from ..extensions import db
from .models import Structure, StructureKind

MAX_LINES = 5000
MAX_FILE_BYTES = 5 * 1024 * 1024
#: a file may hold blank rows between the lines; past this many rows it is refused
LIMITS = SpreadsheetLimits(max_rows=2 * MAX_LINES)
#: an input value is kept (for the report and the export) up to this length
MAX_VALUE_CHARS = 40
#: XLSX is a zip archive; the old binary .xls is an OLE2 compound file
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"
SEPARATORS = (";", ",", "\t", "|")
EXPECTED_HEADERS = "« SIRET », « N° SIRET », « Numéro SIRET », « SIRET/SIREN » ou « SIREN »"


class Status:
    INCLUSIVE = "inclusive"
    NOT_INCLUSIVE = "not_inclusive"
    INVALID = "invalid"


STATUS_LABELS = {
    Status.INCLUSIVE: "Structure inclusive",
    Status.NOT_INCLUSIVE: "Non inclusive (absente de l'annuaire)",
    Status.INVALID: "Numéro invalide",
}


class CheckInputError(DomainError):
    """The list or the file cannot be read as a whole (no SIRET column, too many lines…)."""


def _as_check_error(error: FileRejected) -> CheckInputError:
    return CheckInputError(error.message, field="file")


@dataclass(frozen=True)
class Entry:
    """One line to answer: its number in what the user sent, and the raw value of its SIRET cell."""

    line: int
    value: str


@dataclass
class CheckLine:
    line: int
    input: str
    status: str
    #: the normalised identifier: 14 digits (SIRET) or 9 (SIREN); None when unreadable
    siret: str | None = None
    siren: str | None = None
    kinds: list[str] = field(default_factory=list)
    name: str | None = None
    #: SIRETs of the directory's establishments that matched (a SIREN may match several)
    matched_sirets: list[str] = field(default_factory=list)
    #: why the line is invalid (French)
    reason: str | None = None
    #: extra remark (French): SIRET flagged in the directory, duplicate line…
    note: str | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def kind_labels(self) -> list[str]:
        return [StructureKind(k).label for k in self.kinds]

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"line": self.line, "input": self.input, "status": self.status}
        if self.siren and not self.siret:
            body["siren"] = self.siren
        else:
            body["siret"] = self.siret
        body.update(kinds=self.kinds, name=self.name)
        if self.matched_sirets and not self.siret:
            body["matched_sirets"] = self.matched_sirets
        if self.reason:
            body["reason"] = self.reason
        if self.note:
            body["note"] = self.note
        return body


@dataclass
class CheckReport:
    lines: list[CheckLine]
    #: blank lines (or rows with every cell blank) that were skipped
    empty_lines: int = 0
    #: where the lines came from: "texte", or the file name and its detected format
    source: str = "texte"
    #: the header of the SIRET column, for a file
    column: str | None = None

    @property
    def summary(self) -> dict[str, Any]:
        statuses = Counter(line.status for line in self.lines)
        kinds = Counter(kind for line in self.lines for kind in line.kinds)
        return {
            "total": len(self.lines),
            Status.INCLUSIVE: statuses[Status.INCLUSIVE],
            Status.NOT_INCLUSIVE: statuses[Status.NOT_INCLUSIVE],
            Status.INVALID: statuses[Status.INVALID],
            "by_kind": {kind.value: kinds[kind.value] for kind in StructureKind if kinds[kind.value]},
            "empty_lines": self.empty_lines,
        }

    @property
    def entries(self) -> list[Entry]:
        """What was checked, to check it again (the export re-sends it)."""
        return [Entry(line.line, line.input) for line in self.lines]


# --- reading what the user sent ---------------------------------------------------------------

def _clip(value: str) -> str:
    # a NUL byte cannot be stored nor posted back by the export form: it is dropped
    value = value.replace("\x00", "").strip()
    return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"


def _folded(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", strip_accents(header or "").lower())


def _header_score(header: Any) -> int:
    """2 for a SIRET column, 1 for a SIREN column, 0 otherwise (case, accents and punctuation ignored)."""
    folded = _folded(str(header or ""))
    if "siret" in folded:
        return 2
    if "siren" in folded:
        return 1
    return 0


def _too_many(count: int | str) -> CheckInputError:
    return CheckInputError(f"La liste contient {count} lignes : {MAX_LINES} au plus par vérification. "
                           "Découpez-la en plusieurs envois.")


def parse_text(text: str) -> tuple[list[Entry], int]:
    """One SIRET or SIREN per line; a first line that is only a header (« SIRET ») is skipped."""
    entries: list[Entry] = []
    empty = 0
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            empty += 1
            continue
        if not entries and _header_score(raw) and not any(c.isdigit() for c in raw):
            continue
        entries.append(Entry(number, _clip(raw)))
    if len(entries) > MAX_LINES:
        raise _too_many(len(entries))
    return entries, empty


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding's name: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise CheckInputError("Le fichier annonce l'encodage UTF-16 mais n'en est pas : enregistrez-le "
                                  "de nouveau en CSV UTF-8.", field="file") from None
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


def _pick_column(header: list[Any]) -> int | None:
    scores = [_header_score(cell) for cell in header]
    best = max(scores, default=0)
    return scores.index(best) if best else None


def _no_column_error(header: list[Any]) -> CheckInputError:
    found = ", ".join(f"« {str(c).strip()} »" for c in header if str(c or "").strip())[:300]
    return CheckInputError(
        f"Aucune colonne SIRET trouvée dans le fichier. La première ligne doit contenir l'en-tête de la colonne "
        f"des numéros : {EXPECTED_HEADERS}." + (f" Colonnes trouvées : {found}." if found else ""),
        field="file")


def _rows_to_entries(rows: Iterable[tuple[int, list[Any]]]) -> tuple[list[Entry], int, str | None]:
    """Find the header (first non-blank row), its SIRET column, then one entry per non-blank row."""
    entries: list[Entry] = []
    empty = 0
    column: int | None = None
    header_text: str | None = None
    for number, cells in rows:
        blank = all(_cell_text(c) == "" for c in cells)
        if column is None:
            if blank:
                empty += 1
                continue
            column = _pick_column(cells)
            if column is None:
                # a single column of numbers without a header is accepted as it is
                if len(cells) == 1 and is_digits(normalize_digits(_cell_text(cells[0]))):
                    column, header_text = 0, None
                else:
                    raise _no_column_error(cells)
            else:
                header_text = str(cells[column]).strip()
                continue
        if blank:
            empty += 1
            continue
        value = _cell_text(cells[column]) if column < len(cells) else ""
        entries.append(Entry(number, _clip(value)))
        if len(entries) > MAX_LINES:
            raise _too_many(f"plus de {MAX_LINES}")
    if column is None:
        raise CheckInputError("Le fichier est vide.", field="file")
    return entries, empty, header_text


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as typed. Numbers lost their leading zero in the spreadsheet: restore it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        digits = str(value)
        return digits.zfill(14) if len(digits) == 13 else digits.zfill(9) if len(digits) == 8 else digits
    return str(value).strip()


def _csv_rows(text: str, deadline: Deadline) -> Iterable[tuple[int, list[str]]]:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    separator = sniff_separator(lines) if lines else None
    # one column: a separator that never occurs in text, so quotes are still understood
    return csv_rows(text, separator or "\x1f", LIMITS, deadline)


def _has_siret_header(row: list[Any]) -> bool:
    return any(_header_score(c) for c in row if isinstance(c, str))


def parse_file(filename: str, data: bytes) -> tuple[list[Entry], int, str, str | None]:
    """Entries, empty lines, a description of the format read, and the SIRET column's header."""
    try:
        return _parse_file(data)
    except FileRejected as error:
        raise _as_check_error(error) from None


def _parse_file(data: bytes) -> tuple[list[Entry], int, str, str | None]:
    if data.startswith(OLE2_MAGIC):
        raise CheckInputError("Les fichiers Excel anciens (.xls) ne sont pas pris en charge : enregistrez le "
                              "fichier au format .xlsx ou .csv.", field="file")
    deadline = Deadline(LIMITS.seconds)
    if data.startswith(ZIP_MAGIC):
        entries, empty, column = _rows_to_entries(xlsx_rows(data, LIMITS, deadline, prefer=_has_siret_header))
        return entries, empty, "Excel (.xlsx)", column
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CheckInputError("Ce fichier n'est ni un tableur .xlsx ni un fichier texte .csv.", field="file")
    text, encoding = decode(data)
    entries, empty, column = _rows_to_entries(_csv_rows(text, deadline))
    return entries, empty, f"CSV ({encoding})", column


# --- answering --------------------------------------------------------------------------------

def _invalid_reason(digits: str, raw: str) -> str | None:
    if not raw.strip():
        return "SIRET manquant"
    if re.fullmatch(r"\d[,.]\d+[eE]\+?\d+", raw.strip().replace(" ", "")):
        return "Numéro tronqué par le tableur (notation scientifique) : 14 chiffres attendus"
    if not is_digits(digits):
        return "Caractères non numériques : 14 chiffres attendus (SIRET) ou 9 (SIREN)"
    if len(digits) == 14:
        return None if is_valid_siret(digits) else "SIRET invalide (clé de contrôle)"
    if len(digits) == 9:
        return None if is_valid_siren(digits) else "SIREN invalide (clé de contrôle)"
    return f"14 chiffres attendus (SIRET) ou 9 (SIREN) : {len(digits)} chiffres reçus"


def _directory(sirets: set[str], sirens: set[str]) -> tuple[dict[str, Structure], dict[str, list[Structure]]]:
    """The directory's real structures having one of these SIRETs, and those of these SIRENs."""
    by_siret: dict[str, Structure] = {}
    by_siren: dict[str, list[Structure]] = {}
    for chunk in _chunks(sorted(sirets), 1000):
        for structure in db.session.execute(select(Structure).where(Structure.siret.in_(chunk))).scalars():
            by_siret[structure.siret] = structure
    for chunk in _chunks(sorted(sirens), 1000):
        for structure in db.session.execute(select(Structure).where(Structure.siren.in_(chunk))
                                            .order_by(Structure.siret)).scalars():
            by_siren.setdefault(structure.siren, []).append(structure)
    return by_siret, by_siren


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def check_entries(entries: list[Entry]) -> list[CheckLine]:
    """Answer every entry, in order; never drops one."""
    if len(entries) > MAX_LINES:
        raise _too_many(len(entries))
    digits_of = [normalize_digits(entry.value) for entry in entries]
    sirets = {d for d in digits_of if len(d) == 14 and is_digits(d)}
    sirens = {d for d in digits_of if len(d) == 9 and is_digits(d)} | {d[:9] for d in sirets}
    by_siret, by_siren = _directory(sirets, sirens)
    first_line: dict[str, int] = {}
    lines: list[CheckLine] = []
    for entry, digits in zip(entries, digits_of):
        reason = _invalid_reason(digits, entry.value)
        line = CheckLine(line=entry.line, input=entry.value, status=Status.INVALID)
        structure = by_siret.get(digits) if len(digits) == 14 else None
        group = by_siren.get(digits, []) if len(digits) == 9 else []
        if structure is not None:
            # a directory SIRET failing the check digit is still that structure (flagged « à vérifier »)
            line.status, line.siret, line.siren = Status.INCLUSIVE, digits, digits[:9]
            line.kinds, line.name, line.matched_sirets = list(structure.kinds), structure.display_name, [digits]
            if reason:
                line.note = "SIRET présent dans l'annuaire mais à vérifier (clé de contrôle)"
        elif group:
            line.status, line.siren = Status.INCLUSIVE, digits
            line.kinds = sorted({k for s in group for k in s.kinds}, key=_kind_order)
            line.name = group[0].display_name
            line.matched_sirets = [s.siret for s in group if s.siret]
            if len(group) > 1:
                line.note = f"{len(group)} établissements de ce SIREN dans l'annuaire"
            if reason:
                line.note = ((line.note + " ; ") if line.note else "") + "SIREN à vérifier (clé de contrôle)"
        elif reason:
            line.reason = reason
        else:
            line.status = Status.NOT_INCLUSIVE
            line.siret, line.siren = (digits, digits[:9]) if len(digits) == 14 else (None, digits)
            siblings = by_siren.get(digits[:9], []) if len(digits) == 14 else []
            if siblings:
                # inclusion is granted per establishment: say so rather than answer « inclusive »
                line.note = (f"Établissement absent de l'annuaire, mais {siblings[0].display_name} "
                             f"(SIRET {siblings[0].siret}, même SIREN) y figure")
        if digits and line.status != Status.INVALID:
            if digits in first_line:
                line.note = ((line.note + " ; ") if line.note else "") + f"doublon de la ligne {first_line[digits]}"
            else:
                first_line[digits] = entry.line
        lines.append(line)
    return lines


_KIND_ORDER = {kind.value: index for index, kind in enumerate(StructureKind)}


def _kind_order(kind: str) -> int:
    return _KIND_ORDER.get(kind, len(_KIND_ORDER))


def check_text(text: str) -> CheckReport:
    entries, empty = parse_text(text)
    if not entries:
        raise CheckInputError("Saisissez au moins un SIRET ou un SIREN.", field="sirets")
    return CheckReport(lines=check_entries(entries), empty_lines=empty)


def check_file(filename: str, data: bytes) -> CheckReport:
    entries, empty, kind, column = parse_file(filename, data)
    if not entries:
        raise CheckInputError("Le fichier ne contient aucun numéro à vérifier.", field="file")
    return CheckReport(lines=check_entries(entries), empty_lines=empty, source=f"{filename} — {kind}",
                       column=column)


# --- export -----------------------------------------------------------------------------------

EXPORT_HEADERS = ["Ligne", "Saisie", "Résultat", "SIRET", "SIREN", "Types de structure", "Nom",
                  "Établissements trouvés", "Motif", "Remarque"]


def export_rows(report: CheckReport) -> list[list[Any]]:
    return [[line.line, line.input, line.status_label, line.siret or "", line.siren or "",
             ", ".join(line.kinds), line.name or "", ", ".join(line.matched_sirets), line.reason or "",
             line.note or ""] for line in report.lines]
