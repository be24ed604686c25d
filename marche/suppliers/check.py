"""« Vérifier mes fournisseurs »: which of a buyer's suppliers (SIRET or SIREN) are inclusive structures.

Reads a pasted list or a CSV / XLSX file (encoding, separator and SIRET column are sniffed), then
answers every line: inclusive (kinds, name), not inclusive, or invalid with its French reason.
A pasted line may be a spreadsheet row (« Acme SARL<TAB>123 456 789 00012<TAB>1 200,50 »): the SIRET
(or SIREN) is taken out of it, and an amount column, when there is one, gives the inclusive share of
spend. Read-only: nothing is written. The API's lookup endpoint uses the same `check_entries`.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any, Iterable

from sqlalchemy import select

from ..core.errors import DomainError
from ..core.imports import Column, folded, locate
from ..core.tables import FileRejected, SpreadsheetLimits, cell_text, is_blank, read_table
from ..core.identifiers import is_digits, is_valid_siren, is_valid_siret, normalize_digits
from ..extensions import db
from .models import Structure, StructureKind

MAX_LINES = 5000
#: a pasted list: 5 000 spreadsheet rows (name, SIRET, amount) of 100 characters
MAX_PASTE_CHARS = 500_000
MAX_FILE_BYTES = 5 * 1024 * 1024
#: a file may hold blank rows between the lines; past this many rows it is refused
LIMITS = SpreadsheetLimits(max_rows=2 * MAX_LINES)
#: an input value is kept (for the report and the export) up to this length
MAX_VALUE_CHARS = 40
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
    """One line to answer: its number in what the user sent, the raw value of its SIRET cell, and the
    amount spent with this supplier when the list has an amount column."""

    line: int
    value: str
    amount: Decimal | None = None


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
    #: the amount read on this line (amount column), None without one
    amount: Decimal | None = None

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
    #: the header (or the position) of the amount column, when one was read
    amount_column: str | None = None

    @property
    def summary(self) -> dict[str, Any]:
        statuses = Counter(line.status for line in self.lines)
        kinds = Counter(kind for line in self.lines for kind in line.kinds)
        valid = [line for line in self.lines if line.status != Status.INVALID]
        return {
            "total": len(self.lines),
            Status.INCLUSIVE: statuses[Status.INCLUSIVE],
            Status.NOT_INCLUSIVE: statuses[Status.NOT_INCLUSIVE],
            Status.INVALID: statuses[Status.INVALID],
            "by_kind": {kind.value: kinds[kind.value] for kind in StructureKind if kinds[kind.value]},
            "empty_lines": self.empty_lines,
            # a supplier is a company: establishments of one SIREN (or a SIRET and its SIREN) count once
            "distinct_suppliers": len({line.siren for line in valid if line.siren}),
            "distinct_inclusive": len({line.siren for line in valid if line.siren and line.status == Status.INCLUSIVE}),
            "spend": spend_share(self.lines),
        }

    @property
    def entries(self) -> list[Entry]:
        """What was checked, to check it again (the export re-sends it)."""
        return [Entry(line.line, line.input, line.amount) for line in self.lines]


def spend_share(lines: list[CheckLine]) -> dict[str, Any] | None:
    """Sum of the amounts of inclusive suppliers over the sum of all amounts read (invalid lines count
    in the total: it is money spent with a supplier we could not name). None without any amount.
    Amounts are strings (a PDF's parameters are JSON); the share is a percentage rounded to 0.1."""
    amounts = [line for line in lines if line.amount is not None]
    if not amounts:
        return None
    with localcontext() as context:
        context.prec = 60  # exact sums of 5 000 amounts below MAX_AMOUNT, whatever their decimals
        total = sum((line.amount for line in amounts), Decimal(0))
        inclusive = sum((line.amount for line in amounts if line.status == Status.INCLUSIVE), Decimal(0))
        share = ((inclusive / total * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if total > 0 else None)
    return {"total": str(total), "inclusive": str(inclusive), "share": None if share is None else str(share),
            "lines": len(amounts), "lines_without": len(lines) - len(amounts)}


# --- reading what the user sent ---------------------------------------------------------------

def _clip(value: str) -> str:
    # a NUL byte cannot be stored nor posted back by the export form: it is dropped
    value = value.replace("\x00", "").strip()
    return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"


def _header_score(header: Any) -> int:
    """2 for a SIRET column, 1 for a SIREN column, 0 otherwise (case, accents and punctuation ignored)."""
    name = folded(header)
    if "siret" in name:
        return 2
    if "siren" in name:
        return 1
    return 0


#: the one column a supplier check reads; any header naming a SIRET (or else a SIREN) is it
SIRET_COLUMN = Column("siret", "SIRET", score=_header_score)


def _too_many(count: int | str) -> CheckInputError:
    return CheckInputError(f"La liste contient {count} lignes : {MAX_LINES} au plus par vérification. "
                           "Découpez-la en plusieurs envois.")


#: a SIRET or SIREN inside a longer text, written with spaces, dots or nothing between its groups
_EMBEDDED_SIRET = re.compile(r"(?<![\d.,])\d{3}[ .\u00a0]?\d{3}[ .\u00a0]?\d{3}[ .\u00a0]?\d{5}(?![\d,])", re.ASCII)
#: (a SIREN followed by more digit groups is a mistyped SIRET, not a SIREN)
_EMBEDDED_SIREN = re.compile(r"(?<![\d.,])\d{3}[ .\u00a0]?\d{3}[ .\u00a0]?\d{3}(?![\d,]|[ .\u00a0]\d)", re.ASCII)
#: an amount as a spreadsheet or a person writes it: « 1 200,50 », « 1200.5 », « -30 € », « 1.200,00 »
_AMOUNT = re.compile(r"-?\d{1,3}(?:[ \u00a0\u202f.]\d{3})*(?:,\d+)?|-?\d+(?:[.,]\d+)?", re.ASCII)
#: an amount beyond this (a million billion euros) is not an amount but a misread number
MAX_AMOUNT = Decimal(10) ** 15
#: pasted cells: a spreadsheet copies with tabulations; a CSV line uses semicolons
_SEPARATORS = ("\t", ";")


def parse_amount(value: Any) -> Decimal | None:
    """An amount cell as a Decimal (decimal comma or point, spaces or dots between thousands, a euro
    sign); None when the cell is not an amount."""
    amount = _amount_of(value)
    return amount if amount is not None and abs(amount) < MAX_AMOUNT else None


def _amount_of(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return None
        return amount if amount.is_finite() else None
    text = cell_text(value).replace("€", "").replace("EUR", "").strip()
    if not text or len(text) > 30 or not _AMOUNT.fullmatch(text):
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif text.count(".") > 1 or re.fullmatch(r"-?\d{1,3}(?:[ \u00a0\u202f]\d{3})+", text):
        text = text.replace(".", "")
    text = re.sub(r"[ \u00a0\u202f]", "", text)
    if not text.replace("-", "").replace(".", "").isascii():
        return None
    return Decimal(text)


def _identifier_in(cells: list[str]) -> tuple[int, str] | None:
    """Which cell holds the SIRET (or else the SIREN), and the number as typed: a cell that is one,
    then a number written inside a longer text, then a cell of digits alone whatever its length (its
    answer says what is wrong). None if no cell has one."""
    for index, cell in enumerate(cells):
        digits = normalize_digits(cell)
        if is_digits(digits) and len(digits) in (9, 14):
            return index, cell.strip()
    for pattern in (_EMBEDDED_SIRET, _EMBEDDED_SIREN):
        for index, cell in enumerate(cells):
            if match := pattern.search(cell):
                return index, match.group(0)
    for index, cell in enumerate(cells):
        if is_digits(normalize_digits(cell)):
            return index, cell.strip()
    return None


def _amount_header_score(header: Any) -> int:
    name = folded(header)
    return int(any(word in name for word in ("montant", "depense", "amount", "total", "somme", "chiffre")))


#: the optional amount column of a supplier list (its header names an amount)
AMOUNT_COLUMN = Column("amount", "Montant", score=_amount_header_score, required=False)


def _split(raw: str) -> list[str]:
    for separator in _SEPARATORS:
        if separator in raw:
            return raw.split(separator)
    return [raw]


def _text_entry(number: int, raw: str, amount_index: int | None) -> Entry:
    """One pasted line: its SIRET taken out of whatever cell holds it; its amount from the amount
    column (named by the header) or, without a header, from the last other cell that is an amount.
    A row without any number keeps its amount: it is money spent, with a supplier we cannot name."""
    cells = _split(raw)
    found = _identifier_in(cells)
    index, value = found if found is not None else (None, _clip(raw))
    amount = None
    if len(cells) > 1:
        if amount_index is not None:
            amount = parse_amount(cells[amount_index]) if amount_index < len(cells) else None
        else:
            amount = next((a for i, cell in reversed(list(enumerate(cells)))
                           if i != index and (a := parse_amount(cell)) is not None), None)
    return Entry(number, _clip(value), amount)


def parse_text(text: str) -> tuple[list[Entry], int]:
    """One supplier per line: a SIRET or SIREN alone, or a row pasted from a spreadsheet (the number is
    taken out of it). A first line that is only a header (« SIRET », « Nom<TAB>SIRET<TAB>Montant ») is
    skipped, and its amount column read."""
    entries: list[Entry] = []
    empty = 0
    amount_index: int | None = None
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            empty += 1
            continue
        if not entries and _header_score(raw) and not any(c.isdigit() for c in raw):
            amount_index = locate(_split(raw), [AMOUNT_COLUMN]).get(AMOUNT_COLUMN.key)
            continue
        entries.append(_text_entry(number, raw, amount_index))
        if len(entries) > MAX_LINES:
            raise _too_many(f"plus de {MAX_LINES}")
    return entries, empty


def _pick_column(header: list[Any]) -> int | None:
    return locate(header, [SIRET_COLUMN]).get(SIRET_COLUMN.key)


def _no_column_error(header: list[Any]) -> CheckInputError:
    found = ", ".join(f"« {str(c).strip()} »" for c in header if str(c or "").strip())[:300]
    return CheckInputError(
        f"Aucune colonne SIRET trouvée dans le fichier. La première ligne doit contenir l'en-tête de la colonne "
        f"des numéros : {EXPECTED_HEADERS}." + (f" Colonnes trouvées : {found}." if found else ""),
        field="file")


def _rows_to_entries(rows: Iterable[tuple[int, list[Any]]]) -> tuple[list[Entry], int, str | None, str | None]:
    """Find the header (first non-blank row), its SIRET column and its amount column if any, then one
    entry per non-blank row."""
    entries: list[Entry] = []
    empty = 0
    column: int | None = None
    amount_column: int | None = None
    header_text: str | None = None
    amount_header: str | None = None
    for number, cells in rows:
        blank = is_blank(cells)
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
                amount_column = locate([c if i != column else "" for i, c in enumerate(cells)],
                                       [AMOUNT_COLUMN]).get(AMOUNT_COLUMN.key)
                amount_header = str(cells[amount_column]).strip() if amount_column is not None else None
                continue
        if blank:
            empty += 1
            continue
        value = _cell_text(cells[column]) if column < len(cells) else ""
        amount = (parse_amount(cells[amount_column])
                  if amount_column is not None and amount_column < len(cells) else None)
        entries.append(Entry(number, _clip(value), amount))
        if len(entries) > MAX_LINES:
            raise _too_many(f"plus de {MAX_LINES}")
    if column is None:
        raise CheckInputError("Le fichier est vide.", field="file")
    return entries, empty, header_text, amount_header


def _cell_text(value: Any) -> str:
    """A cell as typed. A number lost its leading zero in the spreadsheet (13 or 8 digits): restore it."""
    digits = cell_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and is_digits(digits):
        return digits.zfill(14) if len(digits) == 13 else digits.zfill(9) if len(digits) == 8 else digits
    return digits


def _has_siret_header(row: list[Any]) -> bool:
    return any(_header_score(c) for c in row if isinstance(c, str))


def parse_file(filename: str, data: bytes) -> tuple[list[Entry], int, str, str | None, str | None]:
    """Entries, empty lines, a description of the format read, the SIRET column's header and the
    amount column's header (None without one)."""
    try:
        return _parse_file(data)
    except FileRejected as error:
        raise _as_check_error(error) from None


def _parse_file(data: bytes) -> tuple[list[Entry], int, str, str | None, str | None]:
    table = read_table(data, LIMITS, prefer=_has_siret_header)
    entries, empty, column, amount_column = _rows_to_entries(table.rows)
    return entries, empty, table.format, column, amount_column


# --- answering --------------------------------------------------------------------------------

def _invalid_reason(digits: str, raw: str) -> str | None:
    if not raw.strip():
        return "SIRET manquant"
    if any(separator in raw for separator in _SEPARATORS):
        return "Aucun SIRET ni SIREN dans la ligne"
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
        # a profile waiting for verification is not (yet) part of the directory
        for structure in db.session.execute(select(Structure).where(Structure.siret.in_(chunk),
                                                                    Structure.publication == "published")).scalars():
            by_siret[structure.siret] = structure
    for chunk in _chunks(sorted(sirens), 1000):
        for structure in db.session.execute(select(Structure).where(Structure.siren.in_(chunk),
                                                                    Structure.publication == "published")
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
        line = CheckLine(line=entry.line, input=entry.value, status=Status.INVALID, amount=entry.amount)
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
    entries, empty, kind, column, amount_column = parse_file(filename, data)
    if not entries:
        raise CheckInputError("Le fichier ne contient aucun numéro à vérifier.", field="file")
    return CheckReport(lines=check_entries(entries), empty_lines=empty, source=f"{filename} — {kind}",
                       column=column, amount_column=amount_column)


# --- one number, for everyone (« Ce fournisseur est-il inclusif ? ») -------------------------------

#: what a person may type in the public one-number check
MAX_ONE_CHARS = 40


def check_one(value: str) -> CheckLine:
    """The public check of one SIRET or SIREN: spaces, dots and dashes accepted; letters, a wrong
    length or a wrong check digit (unless the directory holds that very number) refused in French."""
    value = (value or "").strip()
    if not value:
        raise CheckInputError("Saisissez un numéro SIRET (14 chiffres) ou SIREN (9 chiffres).", field="siret")
    if len(value) > MAX_ONE_CHARS:
        raise CheckInputError(f"{MAX_ONE_CHARS} caractères au plus : saisissez un seul numéro.", field="siret")
    if not is_digits(normalize_digits(value)):
        raise CheckInputError("Le numéro ne doit contenir que des chiffres (espaces et points acceptés) : "
                              "14 pour un SIRET, 9 pour un SIREN.", field="siret")
    line = check_entries([Entry(1, value)])[0]
    if line.status == Status.INVALID:
        raise CheckInputError(f"{line.reason}.", field="siret")
    return line


def structures_of(line: CheckLine, limit: int = 20) -> list[Structure]:
    """The directory's establishments that answered this line (the first `limit`, by SIRET)."""
    if not line.matched_sirets:
        return []
    return list(db.session.execute(select(Structure).where(Structure.siret.in_(line.matched_sirets))
                                   .order_by(Structure.siret).limit(limit)).scalars())


# --- export -----------------------------------------------------------------------------------

EXPORT_HEADERS = ["Ligne", "Saisie", "Résultat", "SIRET", "SIREN", "Types de structure", "Nom",
                  "Établissements trouvés", "Motif", "Remarque"]
AMOUNT_HEADER = "Montant"


def export_headers(report: CheckReport) -> list[str]:
    return EXPORT_HEADERS + ([AMOUNT_HEADER] if report.summary["spend"] else [])


def export_rows(report: CheckReport, decimal_comma: bool = False) -> list[list[Any]]:
    """One row per line; with amounts, an amount column, then a closing summary row of the share.
    `decimal_comma`: amounts as French text (CSV) rather than numbers (XLSX)."""
    spend = report.summary["spend"]

    def money(value: Decimal | str) -> Any:
        return str(value).replace(".", ",") if decimal_comma else Decimal(value)

    rows: list[list[Any]] = [
        [line.line, line.input, line.status_label, line.siret or "", line.siren or "",
         ", ".join(line.kinds), line.name or "", ", ".join(line.matched_sirets), line.reason or "",
         line.note or ""] + ([money(line.amount) if line.amount is not None else ""] if spend else [])
        for line in report.lines]
    if spend:
        share = f"{spend['share'].replace('.', ',')} %" if spend["share"] is not None else "non calculable"
        rows.append(["", "Part inclusive de la dépense", share, "", "", "", "", "", "",
                     f"{money(spend['inclusive'])} sur {money(spend['total'])}", money(spend["total"])])
    return rows



# --- the report as a PDF ----------------------------------------------------------------------

#: the document type registered with core.documents (suppliers.init_app)
REPORT_DOCUMENT = "suppliers.check_report"


def report_params(report: CheckReport, issued_on: date) -> dict[str, Any]:
    """What the PDF shows, fixed when it is asked: the worker renders the answer the buyer saw,
    without asking the directory again."""
    return {"issued_on": issued_on.isoformat(), "summary": report.summary,
            "amounts": [None if line.amount is None else str(line.amount) for line in report.lines],
            "by_kind": [[StructureKind(kind).label, count] for kind, count in report.summary["by_kind"].items()],
            "lines": [[line.line, line.input, line.status_label, line.name or "", ", ".join(line.kinds),
                       " — ".join(part for part in (line.reason, line.note) if part)] for line in report.lines]}


def report_document(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """core.documents' builder for REPORT_DOCUMENT: the template and its context."""
    return "suppliers/check_report_pdf.html", {
        "title": "Vérification de fournisseurs", "issued_on": date.fromisoformat(params["issued_on"]),
        "summary": params["summary"], "by_kind": params["by_kind"], "lines": params["lines"],
        "amounts": params.get("amounts") or [None] * len(params["lines"])}
