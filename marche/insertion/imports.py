"""Hours declarations from a CSV or XLSX file, through the one import pattern (`core/tables.py` reads the file,
`core/imports.py` finds the columns and numbers the lines): every line checked with the rules of
`services.declare`, all or nothing, a French report by line and column.

Written-down choices (shown on the import page):

- Columns: « Code participant », « Mois » (MM/AAAA; a spreadsheet's date cell gives its month), « Mode » (the
  mode's code or French name, or a short word: embauche, mise à disposition, sous-traitance, formation),
  « Heures » (decimal comma accepted). To create a participant not yet in the keeper's records: « Année de
  naissance », « Sexe », and optionally « Publics » (separated by a comma or a semicolon inside the cell),
  « Code QPV », « Commune de résidence » (INSEE code). For a participant already in the records these columns
  are not read: its record is the keeper's, changed on its page.
- The header may sit under a title row, and may span two rows (cells merged across rows or columns): the first
  of the first ten rows that names every required column, alone or joined to the row above, is the header.
- 220 h: one participant's hours on the contract for one month, all modes, counting the lines already waiting or
  validated and every line of the file (the line that crosses the limit is named).
- Up to `INLINE_MAX_LINES` lines the file is imported inside the request; a longer one is stored and read by the
  outbox job `insertion.import`, which writes its progress where the page polls it.
- The same file (its SHA-256) is counted once per contract; a refused file may come back once fixed.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from itertools import zip_longest
from typing import Any, Callable

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..clauses.catalogue import EligiblePublic, FulfilmentMode
from ..core import audit, outbox
from ..core.dates import PARIS
from ..core.errors import DomainError
from ..core.imports import Column, ImportRejected, LineError, Progress, folded, import_rows, locate
from ..core.models import utcnow
from ..core.tables import FileRejected, Row, SpreadsheetLimits, cell_text, is_blank, read_table
from ..extensions import db
from ..geo.models import Commune
from . import services
from .models import Contract, ContractStatus, DeclarationImport, HoursDeclaration, Participant

IMPORT_JOB = "insertion.import"
#: up to this many lines a file is imported inside the request (scripts/bench/hours_import.py: 10 000 lines in
#: 1.4 s on a loaded 2-core machine, so 2 000 hold a web worker about 0.3 s); past it, the outbox job reads it
#: and the page shows its progress
INLINE_MAX_LINES = 2_000
#: what one upload may cost: a contract's year of declarations is far below 20 000 lines
MAX_FILE_BYTES = 5 * 1024 * 1024
LIMITS = SpreadsheetLimits(max_rows=20_001, max_columns=100, seconds=30.0)
#: rows looked at for the header (a title row, a two-row header with merged cells)
HEADER_SEARCH_ROWS = 10
#: errors kept in the record of a refused file (the first ones, in line order)
MAX_STORED_ERRORS = 1_000
#: progress written every so many lines checked
PROGRESS_EVERY = 500

COLUMNS = [
    Column("code", "Code participant", aliases=("Code du participant", "Participant", "Code",
                                                "Identifiant participant")),
    Column("month", "Mois", aliases=("Mois déclaré", "Période", "Mois (MM/AAAA)")),
    Column("mode", "Mode", aliases=("Mode de réalisation", "Modalité", "Mode d'exécution")),
    Column("hours", "Heures", aliases=("Nombre d'heures", "Heures d'insertion", "Heures réalisées", "Nb heures")),
    Column("birth_year", "Année de naissance", aliases=("Année naissance", "Naissance"), required=False),
    Column("sex", "Sexe", aliases=("Genre",), required=False),
    Column("publics", "Publics", aliases=("Public", "Publics éligibles", "Catégories de public"), required=False),
    Column("qpv_code", "Code QPV", aliases=("QPV", "Quartier QPV"), required=False),
    Column("commune", "Commune de résidence", aliases=("Code commune de résidence", "Commune (INSEE)",
                                                      "Code INSEE de résidence", "Code INSEE"), required=False),
]
LABELS = {column.key: column.label for column in COLUMNS}

#: the short words a person types for a mode, beside its code and its French name
MODE_WORDS = {
    FulfilmentMode.DIRECT_HIRE: ("embauche", "embauche directe", "recrutement", "CDI", "CDD"),
    FulfilmentMode.MADE_AVAILABLE: ("mise à disposition", "MAD", "ETTI", "AI", "GEIQ", "intérim"),
    FulfilmentMode.SUBCONTRACTING: ("sous-traitance", "co-traitance", "cotraitance"),
    FulfilmentMode.TRAINING: ("formation", "action de formation"),
}
MODES = {folded(name): mode.value for mode in FulfilmentMode
         for name in (mode.value, mode.label, mode.label.split(" (")[0], *MODE_WORDS[mode])}

PUBLIC_WORDS = {
    EligiblePublic.LONG_TERM_JOBSEEKER: ("DELD", "demandeur d'emploi de longue durée", "longue durée"),
    EligiblePublic.MINIMUM_INCOME: ("RSA", "ASS", "AAH", "minima sociaux", "BRSA"),
    EligiblePublic.DISABILITY: ("RQTH", "handicap", "TH"),
    EligiblePublic.YOUNG_UNQUALIFIED: ("jeune", "jeunes", "moins de 26 ans", "mission locale"),
    EligiblePublic.OVER_50: ("senior", "plus de 50 ans", "50 ans et plus"),
    EligiblePublic.IAE: ("IAE", "PASS IAE", "SIAE"),
    EligiblePublic.PRIORITY_AREA: ("QPV", "ZRR", "FRR"),
    EligiblePublic.PLIE: ("PLIE",),
}
PUBLICS = {folded(name): public.value for public in EligiblePublic
           for name in (public.value, public.label, *PUBLIC_WORDS[public])}
SEXES = {"f": "F", "femme": "F", "feminin": "F", "m": "M", "h": "M", "homme": "M", "masculin": "M"}

#: the services' messages start with their field's label: the report names the column already
_LABEL_PREFIX = re.compile(r"^(?:Code du participant|Mois|Mode|Heures|Année de naissance|Sexe|Publics|Code QPV|"
                           r"Commune de résidence) : ")
_FULL_DATE = (re.compile(r"[0-9]{1,2}/([0-9]{1,2})/([0-9]{4})"),
              re.compile(r"([0-9]{4})-([0-9]{2})-[0-9]{2}(?:[ T][0-9:.]+)?"))
_FLOAT_NOISE = re.compile(r"[0-9]+\.[0-9]{10,}")


@dataclass
class ImportResult:
    lines: int
    participants: int


# --- reading the file --------------------------------------------------------------------------------

def read_rows(data: bytes) -> list[Row]:
    """The rows of the uploaded file; an unreadable one is refused as line 1, « fichier »."""
    try:
        return list(read_table(data, LIMITS).rows)
    except FileRejected as error:
        raise ImportRejected([LineError(error.line or 1, "fichier", error.message)]) from None


def _joined(upper: list[Any], lower: list[Any]) -> list[Any]:
    """A two-row header: each column named by its lower cell, else by the upper one (a cell merged down)."""
    return [b if cell_text(b) else a for a, b in zip_longest(upper, lower)]


def _required_found(found: dict[str, int]) -> int:
    return sum(1 for column in COLUMNS if column.required and column.key in found)


def find_header(rows: list[Row]) -> tuple[int, list[Any], dict[str, int]]:
    """(index of the header row in `rows`, its cells, where each column is). A missing required column is
    reported on the header's line, in that column."""
    candidates = [i for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS * 2]) if not is_blank(cells)]
    candidates = candidates[:HEADER_SEARCH_ROWS]
    if not candidates:
        raise ImportRejected([LineError(1, "fichier", "Le fichier est vide.")])
    required = sum(1 for column in COLUMNS if column.required)
    best: tuple[int, int, list[Any], dict[str, int]] | None = None
    previous = None
    for index in candidates:
        cells = rows[index][1]
        options = [cells] + ([_joined(rows[previous][1], cells)] if previous is not None else [])
        for header in options:
            found = locate(header, COLUMNS)
            if _required_found(found) == required:
                return index, header, found
            if best is None or _required_found(found) > best[0]:
                best = (_required_found(found), index, header, found)
        previous = index
    _, index, header, found = best
    line = rows[index][0]
    raise ImportRejected([LineError(line, column.label, "colonne absente de l'en-tête (colonnes attendues : "
                                    + ", ".join(f"« {c.label} »" for c in COLUMNS if c.required) + ")")
                          for column in COLUMNS if column.required and column.key not in found])


# --- one cell at a time ----------------------------------------------------------------------------

def parse_month_cell(raw: str) -> date:
    """MM/AAAA as `services.parse_month` reads it, or a full date (a spreadsheet's date cell, « 15/03/2026 »)."""
    for pattern, month_only in ((_FULL_DATE[0], "{1}/{2}"), (_FULL_DATE[1], "{1}-{2}")):
        if match := pattern.fullmatch(raw):
            try:
                return services.parse_month(month_only.format(*match.group(0, 1, 2)), "month")
            except DomainError:
                break  # refused below, in the words the person typed
    return services.parse_month(raw, "month")


def parse_hours_cell(raw: str) -> Decimal:
    """Hours as `services.parse_hours` reads them; a spreadsheet's binary float (a formula's 7.300000000000001)
    is read as the two-decimal number it stands for."""
    if _FLOAT_NOISE.fullmatch(raw):
        rounded = Decimal(raw).quantize(Decimal("0.01"))
        if abs(rounded - Decimal(raw)) < Decimal("1e-9"):
            raw = str(rounded)
    return services.parse_hours(raw, "hours")


def parse_mode(raw: str) -> str:
    mode = MODES.get(folded(raw))
    if mode is None:
        raise DomainError(f"« {raw[:40]} » n'est pas un mode connu (embauche, mise à disposition, sous-traitance "
                          "ou formation).", "mode")
    return mode


def parse_publics(raw: str) -> list[str]:
    """Publics separated by a comma or a semicolon: codes, French names or short words (DELD, RSA, RQTH…)."""
    chosen = []
    for part in re.split(r"[,;\n]", raw):
        if not part.strip():
            continue
        public = PUBLICS.get(folded(part))
        if public is None:
            raise DomainError(f"« {part.strip()[:40]} » n'est pas un public connu (par exemple DELD, RSA, RQTH, "
                              "jeune, senior, IAE, QPV, PLIE).", "publics")
        chosen.append(public)
    return list(dict.fromkeys(chosen))


def parse_sex_cell(raw: str) -> str:
    return services.parse_sex(SEXES.get(folded(raw), raw), "sex")


def parse_qpv_code(raw: str) -> str:
    if len(raw) > 16:
        raise DomainError("16 caractères au plus.", "qpv_code")
    return raw


def parse_commune(raw: str, communes: dict[str, bool]) -> str:
    code = raw.strip().upper()
    if code not in communes:
        raise DomainError(f"« {raw[:10]} » n'est pas un code INSEE de commune connu.", "commune")
    return code


def _message(error: DomainError) -> str:
    return _LABEL_PREFIX.sub("", error.message)


# --- checking the whole file -----------------------------------------------------------------------

@dataclass
class _Line:
    line: int
    code: str | None = None
    month: date | None = None
    mode: str | None = None
    hours: Decimal | None = None
    raw: dict[str, str | None] | None = None


@dataclass
class _NewParticipant:
    line: int
    birth_year: int
    sex: str
    publics: list[str]
    qpv_code: str | None
    commune: str | None


class _Report:
    """The errors of the file, each in the column as the file names it."""

    def __init__(self, labels: dict[str, str]):
        self.labels = labels
        self.errors: list[LineError] = []

    def add(self, line: int, key: str, message: str) -> None:
        self.errors.append(LineError(line, self.labels.get(key, LABELS.get(key, key)), message))

    def run(self, line: int, key: str, check: Callable[[], Any]) -> Any:
        try:
            return check()
        except DomainError as error:
            self.add(line, key, _message(error))
            return None


def check_contract(contract: Contract) -> None:
    if contract.status != ContractStatus.ACTIVE:
        raise DomainError(f"Ce marché est « {services.CONTRACT_STATES.label(contract.status)} » : il ne reçoit "
                          "plus de déclaration.", "file")
    if contract.keeper_organisation_id is None:
        raise DomainError("Ce marché n'a ni facilitateur ni acheteur inscrit pour tenir les dossiers des "
                          "participants : aucune déclaration n'est possible.", "file")


def _cells(rows: list[Row]) -> tuple[list[_Line], dict[str, str]]:
    """The lines' cells as text, by column (the checks are ours, so that one report holds every error)."""
    index, header, found = find_header(rows)
    labels = {key: cell_text(header[i]) for key, i in found.items()}
    lines = import_rows([(rows[index][0], header), *rows[index + 1:]],
                        [replace(column, required=False) for column in COLUMNS])
    if not lines:
        raise ImportRejected([LineError(rows[index][0], "fichier", "aucune ligne de déclaration sous l'en-tête")])
    return [_Line(line.line, raw=line.values) for line in lines], labels


def _parse_line(entry: _Line, report: _Report, contract: Contract, months: dict[date, str | None]) -> None:
    raw = entry.raw
    for key in ("code", "month", "mode", "hours"):
        if not raw.get(key):
            report.add(entry.line, key, "valeur manquante")
    if raw.get("code"):
        entry.code = report.run(entry.line, "code", lambda: services.parse_code(raw["code"], "code"))
    if raw.get("month"):
        month = report.run(entry.line, "month", lambda: parse_month_cell(raw["month"]))
        if month is not None:
            if month not in months:  # a few distinct months in a file: each one checked once
                try:
                    services.check_month(contract, month, "month")
                    months[month] = None
                except DomainError as error:
                    months[month] = _message(error)
            if months[month] is not None:
                report.add(entry.line, "month", months[month])
            else:
                entry.month = month
    if raw.get("mode"):
        mode = report.run(entry.line, "mode", lambda: parse_mode(raw["mode"]))
        if mode is not None:
            entry.mode = report.run(entry.line, "mode", lambda: services.check_mode(contract, mode, "mode"))
    if raw.get("hours"):
        entry.hours = report.run(entry.line, "hours", lambda: parse_hours_cell(raw["hours"]))


def _new_participant(entry: _Line, report: _Report, communes: dict[str, bool]) -> _NewParticipant | None:
    raw = entry.raw
    before = len(report.errors)
    birth_year = report.run(entry.line, "birth_year", lambda: services.parse_birth_year(raw["birth_year"]))
    sex = report.run(entry.line, "sex", lambda: parse_sex_cell(raw["sex"]))
    publics = report.run(entry.line, "publics", lambda: parse_publics(raw.get("publics") or "")) or []
    qpv_code = report.run(entry.line, "qpv_code", lambda: parse_qpv_code(raw.get("qpv_code") or ""))
    commune = report.run(entry.line, "commune", lambda: parse_commune(raw["commune"], communes)) \
        if raw.get("commune") else None
    if len(report.errors) > before:
        return None
    return _NewParticipant(entry.line, birth_year, sex, publics, qpv_code or None, commune)


def _communes(lines: list[_Line]) -> dict[str, bool]:
    codes = {(line.raw.get("commune") or "").strip().upper() for line in lines} - {""}
    if not codes:
        return {}
    found = db.session.scalars(select(Commune).where(Commune.code.in_(codes)))
    return {commune.code: commune.in_zrr for commune in found}


def _known(keeper_id: int, codes: set[str]) -> dict[str, Participant]:
    if not codes:
        return {}
    return {p.code: p for p in db.session.scalars(select(Participant).where(
        Participant.keeper_organisation_id == keeper_id, Participant.code.in_(codes)))}


def _month_totals(contract_id: int, participant_ids: list[int], months: set[date]) -> dict[tuple[int, date], Decimal]:
    """Live hours already in the database, by participant and month: one query for the whole file."""
    if not participant_ids or not months:
        return {}
    rows = db.session.execute(select(HoursDeclaration.participant_id, HoursDeclaration.month,
                                     func.sum(HoursDeclaration.hours))
                              .where(HoursDeclaration.contract_id == contract_id,
                                     HoursDeclaration.participant_id.in_(participant_ids),
                                     HoursDeclaration.month.in_(months), services.live_lines())
                              .group_by(HoursDeclaration.participant_id, HoursDeclaration.month))
    return {(participant_id, month): Decimal(total) for participant_id, month, total in rows}


@dataclass
class CheckedFile:
    lines: list[_Line]
    known: dict[str, Participant]
    created: dict[str, _NewParticipant]
    communes: dict[str, bool]


def check_file(contract: Contract, rows: list[Row], progress: Progress | None = None) -> CheckedFile:
    """Every line checked, nothing written: the lines, the participants known and those to create. Any error
    raises `ImportRejected` listing every one, line by line."""
    check_contract(contract)
    lines, labels = _cells(rows)
    report = _Report(labels)
    months: dict[date, str | None] = {}
    for done, entry in enumerate(lines, start=1):
        _parse_line(entry, report, contract, months)
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done // 2, len(lines))
    known = _known(contract.keeper_organisation_id, {line.code for line in lines if line.code})
    # two declarations for one participant and contract are checked one after the other, as `services.declare`
    for participant_id in sorted(p.id for p in known.values()):
        services._lock_participant_month(contract.id, participant_id)
    totals = _month_totals(contract.id, [p.id for p in known.values()], {line.month for line in lines if line.month})
    communes = _communes(lines)
    created: dict[str, _NewParticipant] = {}
    running: dict[tuple[str, date], Decimal] = {}
    for done, entry in enumerate(lines, start=1):
        if entry.code is not None:
            participant = known.get(entry.code)
            if participant is None:
                participant = _creation(entry, report, communes, created)
            if participant is not None and entry.month is not None and entry.hours is not None:
                key = (entry.code, entry.month)
                already = running.get(key)
                if already is None:
                    already = totals.get((participant.id, entry.month), Decimal(0)) if participant.id else Decimal(0)
                line = services.LineInput(participant, entry.month, entry.mode or "", entry.hours)
                try:
                    services._check_month_total(contract, line, already)
                    running[key] = already + entry.hours
                except DomainError as error:  # a refused line does not count for the next ones
                    report.add(entry.line, "hours", _message(error))
                    running[key] = already
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress((len(lines) + done) // 2, len(lines))
    if report.errors:
        raise ImportRejected(report.errors)
    return CheckedFile(lines, known, created, communes)


def _creation(entry: _Line, report: _Report, communes: dict[str, bool],
              created: dict[str, _NewParticipant]) -> Participant | None:
    """The participant a line creates (a transient one, for the 220 h rule), or None with its error."""
    raw = entry.raw
    first = created.get(entry.code)
    if first is not None:
        if raw.get("birth_year") or raw.get("sex"):
            other = _new_participant(entry, report, communes)
            if other is not None and (other.birth_year, other.sex) != (first.birth_year, first.sex):
                report.add(entry.line, "birth_year" if other.birth_year != first.birth_year else "sex",
                           f"différent de la ligne {first.line} pour le même participant {entry.code}")
        return Participant(code=entry.code)
    if not raw.get("birth_year") or not raw.get("sex"):
        report.add(entry.line, "code", "participant inconnu : ajoutez Année de naissance et Sexe pour le créer")
        return None
    new = _new_participant(entry, report, communes)
    if new is None:
        return None
    created[entry.code] = new
    return Participant(code=entry.code)


# --- writing it ------------------------------------------------------------------------------------

def _insert_participants(keeper_id: int, created: dict[str, _NewParticipant],
                         communes: dict[str, bool]) -> dict[str, int]:
    if not created:
        return {}
    values = [{"keeper_organisation_id": keeper_id, "code": code, "birth_year": new.birth_year, "sex": new.sex,
               "publics": new.publics, "qpv": new.qpv_code is not None, "qpv_code": new.qpv_code,
               "residence_commune_code": new.commune, "zrr": bool(new.commune and communes.get(new.commune))}
              for code, new in created.items()]
    ids: dict[str, int] = {}
    for start in range(0, len(values), 1_000):
        statement = insert(Participant).values(values[start:start + 1_000]).on_conflict_do_nothing(
            constraint="uq_participant_code").returning(Participant.code, Participant.id)
        ids.update(dict(db.session.execute(statement).all()))
    if len(ids) < len(created):
        raise DomainError("Un autre envoi vient de créer certains de ces participants : envoyez le fichier de "
                          "nouveau.", "file")
    return ids


def import_lines(actor, organisation_id: int | None, contract: Contract, rows: list[Row],
                 record: DeclarationImport, progress: Progress | None = None) -> ImportResult:
    """Check every line, then write them all (bulk inserts) and one audit entry; `ImportRejected` otherwise."""
    checked = check_file(contract, rows, progress)
    lines, created = checked.lines, checked.created
    ids = {code: participant.id for code, participant in checked.known.items()}
    ids.update(_insert_participants(contract.keeper_organisation_id, created, checked.communes))
    actor_id = getattr(actor, "id", None)
    values = [{"contract_id": contract.id, "participant_id": ids[line.code], "month": line.month, "mode": line.mode,
               "hours": line.hours, "declared_by_id": actor_id, "declaring_organisation_id": organisation_id,
               "import_id": record.id} for line in lines]
    if values:
        db.session.execute(insert(HoursDeclaration), values)
    result = ImportResult(len(values), len(created))
    record.status, record.lines_done, record.lines_total = "done", len(values), len(values)
    record.created_lines, record.created_participants = result.lines, result.participants
    record.finished_at, record.data, record.errors = utcnow(), None, []
    audit.record(actor, "hours.imported", contract, import_id=record.id, filename=record.filename,
                 lines=result.lines, participants_created=result.participants,
                 hours=str(sum((line.hours for line in lines), Decimal(0))))
    db.session.flush()
    return result


def line_count(rows: list[Row]) -> int:
    """Lines after the header (blank ones left out): what decides the inline path, and the progress' total."""
    index, _, _ = find_header(rows)
    return sum(1 for _, cells in rows[index + 1:] if not is_blank(cells))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _paris(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def check_not_imported(contract: Contract, fingerprint: str) -> None:
    earlier = db.session.scalar(select(DeclarationImport).where(
        DeclarationImport.contract_id == contract.id, DeclarationImport.sha256 == fingerprint,
        DeclarationImport.status != "rejected").order_by(DeclarationImport.id).limit(1))
    if earlier is not None:
        state = "est en cours d'import" if earlier.status in ("pending", "running") else "a déjà été importé"
        raise DomainError(f"Ce fichier {state} sur ce marché (envoyé le {_paris(earlier.created_at)}, "
                          f"« {earlier.filename} ») : ses lignes ne sont pas comptées deux fois.", "file")


def start_import(actor, organisation_id: int | None, contract: Contract, filename: str,
                 data: bytes) -> DeclarationImport:
    """The view's one service: a small file is imported now (or refused, nothing written); a large one is
    stored and queued for the outbox job. The same file twice on a contract is refused."""
    check_contract(contract)
    fingerprint = sha256(data)
    check_not_imported(contract, fingerprint)
    rows = read_rows(data)
    total = line_count(rows)
    record = DeclarationImport(contract_id=contract.id, organisation_id=organisation_id,
                               user_id=getattr(actor, "id", None), filename=(filename or "fichier")[:200],
                               sha256=fingerprint, status="pending", lines_total=total, lines_done=0)
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:  # the same file sent twice at the same moment: the unique index decided
        raise DomainError("Ce fichier vient d'être envoyé sur ce marché : ses lignes ne sont pas comptées deux "
                          "fois.", "file") from None
    if total <= INLINE_MAX_LINES:
        import_lines(actor, organisation_id, contract, rows, record)
    else:
        record.data = data
        outbox.enqueue(IMPORT_JOB, {"id": record.id})
        db.session.flush()
    return record


# --- the outbox job --------------------------------------------------------------------------------

def _write_progress(import_id: int, **values: Any) -> None:
    """Progress is written on its own connection and committed at once: the page reads it while the job's
    transaction is still open."""
    with db.engine.begin() as connection:
        connection.execute(update(DeclarationImport).where(DeclarationImport.id == import_id).values(**values))


def _stored_errors(error: DomainError) -> list[str]:
    errors = [str(e) for e in getattr(error, "errors", [])] or [error.message]
    if len(errors) > MAX_STORED_ERRORS:
        errors = errors[:MAX_STORED_ERRORS] + [f"… et {len(errors) - MAX_STORED_ERRORS} autres erreurs."]
    return errors


def run_import(session: Session, payload: dict[str, Any]) -> None:
    """Outbox handler of `insertion.import`. The services read and write `db.session`: the import runs in an
    application context of its own and commits there (the handler's session only marks the message done), and
    runs once: a stored import that is done or refused is left as it is."""
    with current_app.app_context():
        record = db.session.get(DeclarationImport, payload["id"])
        if record is None or record.status not in ("pending", "running") or record.data is None:
            return
        import_id, data = record.id, record.data
        _write_progress(import_id, status="running", lines_done=0)
        try:
            import_lines(db.session.get(User, record.user_id) if record.user_id else None, record.organisation_id,
                         db.session.get(Contract, record.contract_id), read_rows(data), record,
                         lambda done, total: _write_progress(import_id, lines_done=done, lines_total=total))
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            record = db.session.get(DeclarationImport, import_id)
            record.status, record.errors, record.data, record.finished_at = "rejected", _stored_errors(error), None, \
                utcnow()
            db.session.commit()


GIVEN_UP = ("L'import s'est interrompu plusieurs fois sur une panne de notre côté : aucune ligne n'a été "
            "enregistrée. Renvoyez le fichier ; si la panne revient, écrivez-nous.")


def import_given_up(session: Session, payload: dict[str, Any]) -> None:
    """Outbox `on_dead` of `insertion.import`: a file whose job failed on every attempt is marked refused with a
    French word (nothing of it was written: each attempt rolled back), so that its page stops waiting and the same
    file may be sent again."""
    session.execute(update(DeclarationImport).where(
        DeclarationImport.id == payload["id"], DeclarationImport.status.in_(("pending", "running")))
        .values(status="rejected", errors=[GIVEN_UP], data=None, finished_at=utcnow()))
