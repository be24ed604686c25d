"""Completing the sectors of unclaimed profiles (issue 18 item 1): the public lists name no trade, so the
deduction (suppliers.inference) leaves three structures in four without a sector. Two people know better
and can say so before the structure claims its profile:

- the **facilitator of the territory**, who follows these structures every week: « Secteurs à compléter »
  lists the published, unclaimed profiles of their territories whose sectors are missing or only deduced,
  with the coverage per kind, and a page per structure to choose its sectors;
- the **operator**, with a sector file obtained from a network or a directory that knows them (columns
  « SIRET » and « Secteurs »), through the same page or `flask marche import-sectors`.

The chosen sectors replace the deduced ones and count as given (not « déduit »): the profile says who gave
them and when, the import of the public lists no longer touches them, and the structure replaces them as
soon as it saves its own profile (suppliers.services.update_profile). A claimed profile is its owners'
alone. Every change is audited and sent to the search index.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import ARRAY, String, and_, exists, false, func, literal, or_, select, true
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from ..accounts.models import OrganisationKind, User
from ..core import audit
from ..core.dates import today
from ..core.errors import DomainError
from ..core.identifiers import is_valid_finess
from ..core.imports import Column, ImportRejected, LineError, folded, import_rows, siret_digits
from ..core.tables import FileRejected, SpreadsheetLimits, read_table
from ..extensions import db
from ..reference.models import Sector
from .access import _in_territories
from .models import Publication, Structure, StructureKind, structure_sector
from .services import mark_sector_origin, notify_changed

#: one page of the list
PAGE_SIZE = 50
#: what a sector file may cost (the whole country has about 5 300 structures)
SECTOR_FILE_LIMITS = SpreadsheetLimits(max_rows=20_000, max_columns=50, max_member_bytes=40 * 1024 * 1024,
                                       max_total_bytes=80 * 1024 * 1024, seconds=60.0)
MAX_FILE_BYTES = 5 * 1024 * 1024
#: between the sectors of one cell (sector names hold commas, never these)
SECTOR_SEPARATORS = re.compile(r"[|;\n]")
MAX_SOURCE_CHARS = 120


class Status:
    """Which profiles the list shows: without any sector, with deduced sectors only, or both."""
    NONE = "aucun"
    INFERRED = "deduits"
    ALL = "tous"
    CHOICES = [(ALL, "Sans secteur ou avec des secteurs déduits"), (NONE, "Sans aucun secteur"),
               (INFERRED, "Avec des secteurs déduits seulement")]


def facilitator_territories(user: User) -> list[str] | None:
    """The territories whose profiles this user may complete; None for a platform admin (all of them)."""
    if user.is_platform_admin:
        return None
    return sorted({ref for org in user.trusted_organisations(OrganisationKind.FACILITATOR) for ref in org.territories})


def in_territories(territories: list[str] | None) -> ColumnElement[bool]:
    """SQL for « the structure lies in one of these territories » (what `access._in_territories` says)."""
    if territories is None or "country:FR" in territories:
        return true()
    prefixed = {prefix: [ref.split(":", 1)[1] for ref in territories if ref.startswith(prefix + ":")]
                for prefix in ("commune", "dep", "reg")}
    conditions = [column.in_(codes) for column, codes in ((Structure.commune_code, prefixed["commune"]),
                                                          (Structure.department_code, prefixed["dep"]),
                                                          (Structure.region_code, prefixed["reg"])) if codes]
    return or_(*conditions) if conditions else false()


def _has_sector(inferred: bool | None = None) -> ColumnElement[bool]:
    condition = structure_sector.c.structure_id == Structure.id
    if inferred is not None:
        condition = and_(condition, structure_sector.c.inferred.is_(inferred))
    return exists().where(condition)


def completable() -> ColumnElement[bool]:
    """Published, unclaimed, and no sector but deduced ones: what someone who knows it may complete."""
    return and_(Structure.publication == Publication.PUBLISHED, Structure.owner_organisation_id.is_(None),
                ~_has_sector(inferred=False))


@dataclass(frozen=True)
class KindCoverage:
    kind: str
    total: int
    with_sector: int
    given: int

    @property
    def label(self) -> str:
        return StructureKind(self.kind).label

    @property
    def share(self) -> float:
        return self.with_sector / self.total if self.total else 0.0


def coverage(territories: list[str] | None) -> list[KindCoverage]:
    """Published profiles of the territories by kind: how many, how many with a sector (deduced or not),
    how many whose sectors were declared or given (a structure counts in each of its kinds)."""
    kind = func.unnest(Structure.kinds).label("kind")
    inner = (select(kind, _has_sector().label("any"), _has_sector(inferred=False).label("given"))
             .where(Structure.publication == Publication.PUBLISHED, in_territories(territories)).subquery())
    rows = db.session.execute(
        select(inner.c.kind, func.count(), func.count().filter(inner.c.any), func.count().filter(inner.c.given))
        .group_by(inner.c.kind).order_by(inner.c.kind)).all()
    return [KindCoverage(kind, total, with_sector, given) for kind, total, with_sector, given in rows]


@dataclass
class Listing:
    structures: list[Structure]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    department: str | None = None
    status: str = Status.ALL

    def conditions(self, territories: list[str] | None) -> list[ColumnElement[bool]]:
        conditions = [completable(), in_territories(territories)]
        if self.kind:
            conditions.append(Structure.kinds.any(self.kind))
        if self.department:
            conditions.append(Structure.department_code == self.department)
        if self.status == Status.NONE:
            conditions.append(~_has_sector())
        elif self.status == Status.INFERRED:
            conditions.append(_has_sector())
        return conditions


#: the list's order: those without any sector first, then by department and name
LIST_ORDER = (_has_sector(), Structure.department_code, Structure.name, Structure.id)


def to_complete(territories: list[str] | None, filters: Filters = Filters(), page: int = 1) -> Listing:
    """One page of the profiles to complete."""
    conditions = filters.conditions(territories)
    total = db.session.execute(select(func.count()).select_from(Structure).where(*conditions)).scalar_one()
    page = min(max(page, 1), max(1, -(-total // PAGE_SIZE)))
    structures = list(db.session.execute(
        select(Structure).where(*conditions).order_by(*LIST_ORDER)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars())
    return Listing(structures, total, page)


def all_to_complete(territories: list[str] | None, filters: Filters = Filters()) -> list[Structure]:
    """Every profile of the list (the country has about 5 300 structures), sectors loaded at once."""
    return list(db.session.execute(
        select(Structure).where(*filters.conditions(territories)).order_by(*LIST_ORDER)
        .options(selectinload(Structure.sectors))).scalars())


def next_to_complete(territories: list[str] | None, after: Structure) -> Structure | None:
    """The next profile of the list after this one (the same order), so that one can go on."""
    return db.session.execute(
        select(Structure).where(completable(), in_territories(territories), Structure.id != after.id)
        .order_by(*LIST_ORDER).limit(1)).scalars().first()


def giver_label(user: User, structure: Structure) -> str:
    """How the profile names who gave its sectors: the facilitator organisation competent for it."""
    if not user.is_platform_admin:
        for organisation in user.trusted_organisations(OrganisationKind.FACILITATOR):
            if _in_territories(organisation.territories, structure):
                return f"{organisation.name} (facilitateur du territoire)"[:200]
    return "l'équipe de la plateforme"


def _apply(structure: Structure, sectors: list[Sector], given_by: str) -> None:
    structure.sectors = sorted(sectors, key=lambda sector: sector.name)
    structure.sectors_given_by, structure.sectors_given_on = given_by, today()


def give_sectors(actor: User, structure: Structure, sector_ids: list[int]) -> None:
    """The sectors a facilitator (or an admin) chooses for an unclaimed profile; they replace the deduced ones.
    The caller checked `can(actor, "give_sectors", structure)`; the rules below hold for everyone."""
    if structure.claimed:
        raise DomainError("Cette fiche est gérée par la structure : elle seule choisit ses secteurs.", "sectors")
    if not sector_ids:
        raise DomainError("Choisissez au moins un secteur.", "sectors")
    sectors = list(db.session.execute(select(Sector).where(Sector.id.in_(sector_ids))).scalars())
    if len(sectors) != len(set(sector_ids)):
        raise DomainError("Secteur inconnu.", "sectors")
    before = sorted(sector.id for sector in structure.sectors)
    _apply(structure, sectors, giver_label(actor, structure))
    mark_sector_origin([structure], inferred=False)
    audit.record(actor, "structure.sectors_given", structure, before=before,
                 after=sorted(sector.id for sector in sectors), given_by=structure.sectors_given_by)
    notify_changed([structure.id])


# --- the operator's sector file -------------------------------------------------------------------------

@dataclass
class SectorFileReport:
    updated: int = 0
    unchanged: int = 0
    #: lines whose « Secteurs » cell is empty: the exported list sent back with only some lines filled in
    blank: int = 0
    skipped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"fiches complétées : {self.updated}", f"déjà ainsi : {self.unchanged}",
               f"sans secteur (laissées) : {self.blank}", f"lignes laissées : {len(self.skipped)}"]
        return out + [f"  - {line}" for line in self.skipped[:50]]


class SectorNames:
    """A sector as a file writes it: its name (case, accents and punctuation ignored), its slug or its number."""

    def __init__(self) -> None:
        self.by_key: dict[str, Sector] = {}
        for sector in db.session.execute(select(Sector)).scalars():
            for key in (folded(sector.name), folded(sector.slug), str(sector.id)):
                self.by_key.setdefault(key, sector)

    def parse(self, value: str) -> list[Sector]:
        found: list[Sector] = []
        unknown: list[str] = []
        for part in (p.strip() for p in SECTOR_SEPARATORS.split(value)):
            if not part:
                continue
            sector = self.by_key.get(part if part.isdigit() else folded(part))
            if sector is None:
                unknown.append(f"« {part[:80]} »")
            elif sector not in found:
                found.append(sector)
        if unknown:
            raise ValueError(f"secteur{'s' if len(unknown) > 1 else ''} inconnu{'s' if len(unknown) > 1 else ''} : "
                             f"{', '.join(unknown[:5])} (les noms de la liste des secteurs, séparés par « | » "
                             "ou « ; »)")
        return found


def structure_number(value: str) -> tuple[str, str]:
    """(« siret », 14 digits) or (« finess », 9 characters): an ESAT known by its FINESS alone has no SIRET."""
    compact = re.sub(r"[\s.\u00a0\u202f]", "", value)
    if is_valid_finess(compact.upper()):
        return "finess", compact.upper()
    return "siret", siret_digits(value)


#: the columns of the exported list (`export_rows`), which the import reads back: « SIRET » and « Secteurs »
EXPORT_HEADERS = ["SIRET", "Secteurs", "Raison sociale", "Enseigne", "Types", "Commune", "Département", "Code NAF",
                  "Secteurs déduits (pour mémoire)", "Site internet"]


def _columns(names: SectorNames) -> list[Column]:
    return [Column("number", "SIRET", structure_number, aliases=("SIRET ou FINESS", "FINESS", "N° SIRET",
                                                                 "Numéro SIRET", "Siret établissement")),
            Column("sectors", "Secteurs", names.parse, blank_ok=True,
                   aliases=("Secteurs d'activité", "Secteur", "Secteur d'activité", "Activités"))]


def clean_source(source: str | None) -> str:
    value = " ".join((source or "").split())
    if not value:
        raise DomainError("Indiquez d'où viennent ces secteurs (par exemple « Réseau des ressourceries, liste "
                          "du 01/11/2026 »).", "source")
    if len(value) > MAX_SOURCE_CHARS:
        raise DomainError(f"La source tient en {MAX_SOURCE_CHARS} caractères au plus.", "source")
    return value


def import_sector_file(actor: User | None, data: bytes, source: str) -> SectorFileReport:
    """Give the sectors of a file to the unclaimed profiles it names. All or nothing: a bad SIRET, an
    unknown sector or a line without sector rejects the file, every such line listed. A line the actor may
    not change is left and reported: a SIRET not in the directory, a claimed profile, one whose sectors a
    person already gave, one outside a facilitator's territories (`actor` None: the command line)."""
    label = clean_source(source)
    try:
        table = read_table(data, SECTOR_FILE_LIMITS)
        lines = import_rows(table.rows, _columns(SectorNames()))
    except FileRejected as error:
        raise ImportRejected([LineError(error.line or 1, "fichier", error.message)]) from None
    territories = None if actor is None else facilitator_territories(actor)
    structures = _by_number([line.values["number"] for line in lines])
    report = SectorFileReport()
    given: list[Structure] = []
    seen: set[tuple[str, str]] = set()
    for line in lines:
        number, sectors = line.values["number"], line.values["sectors"]
        if not sectors:
            report.blank += 1
            continue
        structure = structures.get(number)
        reason = _left_because(structure, territories, label, number in seen or (structure and structure.id in seen))
        seen |= {number, structure.id} if structure else {number}
        if reason:
            report.skipped.append(f"ligne {line.line} : {number[0].upper()} {number[1]} {reason}")
            continue
        if sorted(s.id for s in structure.sectors) == sorted(s.id for s in sectors) and not structure.inferred_sectors:
            report.unchanged += 1
            continue
        _apply(structure, sectors, label)
        given.append(structure)
        report.updated += 1
    mark_sector_origin(given, inferred=False)
    audit.record(actor, "structures.sectors_imported", None, source=label, updated=report.updated,
                 unchanged=report.unchanged, skipped=len(report.skipped))
    notify_changed([structure.id for structure in given])
    return report


def _by_number(numbers: list[tuple[str, str]]) -> dict[tuple[str, str], Structure]:
    """The structures the file names, by (« siret », …) and (« finess », …), their sectors loaded at once."""
    sirets = [value for kind, value in numbers if kind == "siret"]
    finess = [value for kind, value in numbers if kind == "finess"]
    found = db.session.execute(
        select(Structure).where(or_(Structure.siret.in_(sirets),
                                    Structure.finess_numbers.op("&&")(literal(finess, ARRAY(String(9))))))
        .options(selectinload(Structure.sectors), selectinload(Structure.inferred_sectors))).scalars()
    by_number: dict[tuple[str, str], Structure] = {}
    for structure in found:
        if structure.siret:
            by_number[("siret", structure.siret)] = structure
        for number in structure.finess_numbers or []:
            by_number[("finess", number)] = structure
    return by_number


def export_rows(structures: list[Structure], naf_labels: dict[str, str]) -> list[list[str]]:
    """The list to complete as a spreadsheet (EXPORT_HEADERS): filled in and sent back, it is a sector file."""
    return [[structure.siret or structure.finess_numbers[0], "", structure.name, structure.brand or "",
             ", ".join(structure.kinds), " ".join(p for p in (structure.postcode, structure.city) if p),
             structure.department_code or "", " — ".join(p for p in (structure.naf_code,
                                                                    naf_labels.get(structure.naf_code or "")) if p),
             " | ".join(sector.name for sector in structure.sectors), structure.website or ""]
            for structure in structures]


def _left_because(structure: Structure | None, territories: list[str] | None, label: str,
                  repeated: bool) -> str | None:
    if repeated:
        return "déjà lu plus haut dans le fichier, ligne laissée"
    if structure is None or not structure.is_published:
        return "absent de l'annuaire, ligne laissée"
    if structure.claimed:
        return ": fiche gérée par la structure, qui choisit ses secteurs, laissée"
    if structure.declared_sectors and structure.sectors_given_by != label:  # the same source may correct itself
        return (f": secteurs déjà renseignés par {structure.sectors_given_by or 'la structure'}"
                f"{' le ' + structure.sectors_given_on.strftime('%d/%m/%Y') if structure.sectors_given_on else ''}, "
                "laissés")
    if territories is not None and not _in_territories(territories, structure):
        return ": hors de vos territoires, laissée"
    return None
