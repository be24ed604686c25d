"""Import of the real structure lists (SIAE/GEIQ/EA, ESAT, and EA/EATT/EITI lists in the ministry's
columns): idempotent upserts with a report.

A SIRET failing the Luhn check is kept and flagged « SIRET à vérifier »; a row without a point, or
whose point the source flags as outside its department (`coord_dans_departement = 0`), gets its
commune's centre. Several rows with one SIRET merge into one structure with several kinds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core import audit
from ..core.identifiers import is_digits, is_valid_finess, is_valid_siret
from ..core.imports import (Column, ImportRejected, ImportReport, LineError, Progress, RowError, count_lines, folded,
                            import_rows, parse_all, read_csv, siret_digits)
from ..core.tables import FileRejected, SpreadsheetLimits, read_table
from ..core.text import normalize_search
from ..extensions import db
from ..geo.models import Commune
from ..reference.models import Sector
from .models import DEFAULT_RADIUS_KM, AreaKind, SiretStatus, Structure, StructureKind, structure_sector
from .inference import inferred_sector_ids, services_for
from .services import mark_sector_origin, notify_changed, refresh_derived

KINDS = {k.value for k in StructureKind}


@dataclass
class Row:
    line: int
    siret: str | None
    finess: list[str]
    name: str
    brand: str | None
    kinds: set[str]
    address: str | None
    postcode: str | None
    city: str | None
    commune_code: str | None
    department_code: str | None
    latitude: float | None
    longitude: float | None
    naf_code: str | None = None
    website: str | None = None
    description: str | None = None
    capacity: int | None = None
    source: str = "ASP"
    #: False when the source says its point lies outside the declared department (`coord_dans_departement = 0`)
    point_trusted: bool = True
    flags: list[str] = field(default_factory=list)


class CommuneIndex:
    """Finds a row's commune from its INSEE code, or its postcode and city name."""

    def __init__(self) -> None:
        self.by_code: dict[str, tuple] = {}
        self.by_postcode: dict[str, list[tuple]] = {}
        for code, search_name, postcodes, dep, region, lat, lon in db.session.execute(
                select(Commune.code, Commune.search_name, Commune.postcodes, Commune.department_code,
                       Commune.region_code, Commune.latitude, Commune.longitude)):
            entry = (code, search_name, dep, region, lat, lon)
            self.by_code[code] = entry
            for postcode in postcodes or []:
                self.by_postcode.setdefault(postcode, []).append(entry)

    def find(self, code: str | None, postcode: str | None, city: str | None) -> tuple | None:
        if code and code in self.by_code:
            return self.by_code[code]
        candidates = self.by_postcode.get(postcode or "", [])
        wanted = normalize_search(city or "")
        for entry in candidates:
            if entry[1] == wanted:
                return entry
        for entry in candidates:  # "Paris 11e", "St Denis": first commune sharing the postcode
            if wanted and (wanted.startswith(entry[1]) or entry[1].startswith(wanted)):
                return entry
        return candidates[0] if candidates else None


def _float(value: str) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _siret(line: int, value: str, flags: list[str], required: bool = True) -> str | None:
    digits = value.replace(" ", "")
    if not digits:
        if required:
            raise RowError("siret", "SIRET manquant")
        return None
    if len(digits) != 14 or not is_digits(digits):
        raise RowError("siret", f"« {value} » n'est pas un SIRET de 14 chiffres")
    if not is_valid_siret(digits):
        flags.append(f"ligne {line} : SIRET à vérifier ({digits})")
    return digits


def parse_siae_row(line: int, row: dict[str, str]) -> Row:
    flags: list[str] = []
    siret = _siret(line, row.get("siret", ""), flags)
    if row.get("coord_dans_departement", "").strip() == "0":
        flags.append(f"ligne {line} : point hors de son département dans la source, centre de la commune retenu")
    kind = row.get("type", "").upper()
    if kind not in KINDS:
        raise RowError("type", f"type « {row.get('type')} » inconnu (attendus : {', '.join(sorted(KINDS))})")
    if not row.get("raison_sociale"):
        raise RowError("raison_sociale", "raison sociale manquante")
    return Row(line=line, siret=siret, finess=[], name=row["raison_sociale"], brand=row.get("enseigne") or None,
               kinds={kind}, address=row.get("adresse") or None, postcode=row.get("code_postal") or None,
               city=row.get("ville") or None, commune_code=None, department_code=row.get("code_departement") or None,
               latitude=_float(row.get("latitude", "")), longitude=_float(row.get("longitude", "")),
               naf_code=(row.get("naf") or None), website=row.get("site_web") or None,
               description=row.get("description") or None, source=row.get("source") or "ASP",
               point_trusted=row.get("coord_dans_departement", "").strip() != "0", flags=flags)


def parse_esat_row(line: int, row: dict[str, str]) -> Row:
    flags: list[str] = []
    finess = row.get("finess_et", "")
    if not is_valid_finess(finess):
        raise RowError("finess_et", f"« {finess} » n'est pas un numéro FINESS de 9 caractères")
    siret = _siret(line, row.get("siret", ""), flags, required=False)
    if not row.get("raison_sociale"):
        raise RowError("raison_sociale", "raison sociale manquante")
    capacity = row.get("capacite_autorisee", "")
    return Row(line=line, siret=siret, finess=[finess], name=row["raison_sociale"], brand=None, kinds={"ESAT"},
               address=row.get("adresse") or None, postcode=row.get("code_postal") or None,
               city=row.get("commune") or None, commune_code=row.get("code_commune") or None,
               department_code=row.get("code_departement") or None,
               latitude=_float(row.get("latitude", "")), longitude=_float(row.get("longitude", "")),
               capacity=int(capacity) if is_digits(capacity) else None, source="FINESS", flags=flags)


def _apply(structure: Structure, row: Row, communes: CommuneIndex, sectors: dict[int, Sector]) -> bool:
    """Copy the source's fields; a claimed profile keeps what its owners edited.

    Returns whether the structure's sectors are deduced here (none declared): they follow the
    current tables at every import, until the structure declares its own."""
    commune = communes.find(row.commune_code, row.postcode, row.city)
    structure.kinds = sorted(set(structure.kinds or []) | row.kinds)
    if not set(row.finess) <= set(structure.finess_numbers or []):
        structure.finess_numbers = sorted(set(structure.finess_numbers or []) | set(row.finess))
    if structure.claimed:
        return False
    structure.siret = structure.siret or row.siret
    structure.siren = structure.siret[:9] if structure.siret else None
    structure.siret_status = (SiretStatus.MISSING if not structure.siret else
                              SiretStatus.OK if is_valid_siret(structure.siret) else SiretStatus.TO_CHECK)
    structure.name = row.name
    structure.brand = row.brand or structure.brand
    structure.address, structure.postcode, structure.city = row.address, row.postcode, row.city
    structure.commune_code = commune[0] if commune else None
    structure.department_code = (commune[2] if commune else None) or row.department_code
    structure.region_code = commune[3] if commune else None
    if row.latitude is not None and row.longitude is not None and row.point_trusted:
        structure.latitude, structure.longitude, structure.point_source = row.latitude, row.longitude, "source"
    elif commune and commune[4] is not None:  # no point, or one the source itself doubts: the commune's centre
        structure.latitude, structure.longitude, structure.point_source = commune[4], commune[5], "commune"
    elif not row.point_trusted:  # better no point than one in another department
        structure.latitude = structure.longitude = structure.point_source = None
    structure.naf_code = row.naf_code or structure.naf_code
    structure.website = row.website or structure.website
    structure.description = row.description or structure.description
    structure.capacity = row.capacity if row.capacity is not None else structure.capacity
    structure.source = structure.source or row.source
    if not structure.service_kinds:
        structure.service_kinds = services_for(structure.kinds)
    if structure.declared_sectors:
        return False
    deduced = inferred_sector_ids(structure.naf_code, structure.name, structure.brand, structure.description)
    structure.sectors = sorted((sectors[i] for i in deduced if i in sectors), key=lambda sector: sector.name)
    return True


def _snapshot(structure: Structure) -> tuple:
    return (tuple(structure.kinds or []), tuple(structure.finess_numbers or []), structure.name, structure.brand,
            tuple(s.id for s in structure.sectors), tuple(structure.service_kinds or []),
            structure.address, structure.commune_code, structure.latitude, structure.longitude, structure.naf_code,
            structure.website, structure.description, structure.capacity, structure.siret_status)


def merge_rows(rows: list[Row]) -> list[Row]:
    """One row per SIRET (or FINESS when there is none): the first row describes the structure,
    the others add their kinds and FINESS numbers (one SIRET may carry ACI + EI, or several ESAT sites)."""
    merged: dict[str, Row] = {}
    for row in rows:
        key = row.siret or f"finess:{row.finess[0]}"
        first = merged.get(key)
        if first is None:
            merged[key] = row
        else:
            first.kinds |= row.kinds
            first.finess = sorted(set(first.finess) | set(row.finess))
            first.flags += row.flags
    return list(merged.values())


def upsert(rows: list[Row], source_label: str, keep_claimed: bool = False) -> ImportReport:
    """Create or update one structure per SIRET (or per FINESS when there is no SIRET).

    `keep_claimed`: a claimed profile is left exactly as its owners keep it (not even a kind added),
    and the report says so."""
    report = ImportReport()
    communes = CommuneIndex()
    sectors = {sector.id: sector for sector in db.session.execute(select(Sector)).scalars()}
    existing = db.session.execute(select(Structure).options(selectinload(Structure.sectors),
                                                            selectinload(Structure.inferred_sectors))).scalars().all()
    by_siret = {s.siret: s for s in existing if s.siret}
    by_finess = {f: s for s in existing for f in s.finess_numbers or []}
    changed: list[Structure] = []
    deduced: list[Structure] = []
    with db.session.no_autoflush:  # one INSERT batch at the end, not a flush per lookup
        for row in merge_rows(rows):
            report.flagged.extend(row.flags)
            structure = (next((by_finess[f] for f in row.finess if f in by_finess), None)
                         or by_siret.get(row.siret or ""))
            if structure is None:
                structure = Structure(kinds=[], finess_numbers=[], source=row.source, siret=row.siret,
                                      area_kind=AreaKind.RADIUS, area_radius_km=DEFAULT_RADIUS_KM, area_refs=[])
                if _apply(structure, row, communes, sectors):
                    deduced.append(structure)
                refresh_derived(structure)
                db.session.add(structure)
                report.created += 1
                changed.append(structure)
            elif keep_claimed and structure.claimed:
                report.unchanged += 1
                report.flagged.append(f"ligne {row.line} : fiche revendiquée ({structure.siret}), laissée telle que "
                                      "ses gestionnaires la tiennent")
            else:
                before = _snapshot(structure)
                if _apply(structure, row, communes, sectors):
                    deduced.append(structure)
                if _snapshot(structure) != before:
                    refresh_derived(structure)
                    report.updated += 1
                    changed.append(structure)
                else:
                    report.unchanged += 1
            if structure.siret:
                by_siret[structure.siret] = structure
            for finess in structure.finess_numbers or []:
                by_finess[finess] = structure
    db.session.flush()
    mark_sector_origin(deduced, inferred=True)
    notify_changed([structure.id for structure in changed])
    audit.record(None, "structures.imported", source_label, created=report.created, updated=report.updated,
                 flagged=len(report.flagged))
    return report


def import_structures(path: Path, progress: Progress | None = None) -> ImportReport:
    return upsert(parse_all(read_csv(path), parse_siae_row, progress, count_lines(path)), f"import:{path.name}")


def import_esat(path: Path, progress: Progress | None = None) -> ImportReport:
    return upsert(parse_all(read_csv(path), parse_esat_row, progress, count_lines(path)), f"import:{path.name}")


# --- EA / EATT / EITI lists, in the columns the ministry of labour and the DREETS publish them -------------

#: the kinds this list brings (the SIAE and ESAT have their own lists and imports above)
LIST_KINDS = (StructureKind.EA, StructureKind.EATT, StructureKind.EITI)
#: how the lists write a kind: the code, or its name in full
KIND_NAMES = {folded(name): kind.value for kind in LIST_KINDS for name in (kind.value, kind.label)} | {
    folded("Entreprise adaptée de travail temporaire (EATT)"): "EATT",
    folded("EA de travail temporaire"): "EATT",
    folded("Entreprise adaptée (EA)"): "EA",
    folded("Entreprise d'insertion par le travail indépendant (EITI)"): "EITI",
}
#: what reading one list may cost (a national list has a few thousand lines)
LIST_LIMITS = SpreadsheetLimits(max_rows=100_000, max_columns=200, max_member_bytes=200 * 1024 * 1024,
                                max_total_bytes=400 * 1024 * 1024, seconds=120.0)
LIST_SOURCE = "LISTE_EA"


def _list_kind(value: str) -> str:
    kind = KIND_NAMES.get(folded(value))
    if kind is None:
        raise ValueError(f"type « {value} » inconnu : cette liste n'accepte que "
                         + ", ".join(f"{k.value} ({k.label})" for k in LIST_KINDS)
                         + " ; les SIAE et les ESAT ont leur propre import")
    return kind


def _postcode(value: str) -> str:
    digits = re.sub(r"\s", "", value)
    if len(digits) == 4 and is_digits(digits):  # a spreadsheet lost the leading zero (01000 → 1000)
        digits = "0" + digits
    if len(digits) != 5 or not (is_digits(digits) or re.fullmatch(r"2[AB][0-9]{3}", digits.upper())):
        raise ValueError(f"« {value} » n'est pas un code postal de 5 chiffres")
    return digits


LIST_COLUMNS = [
    # a wrong check digit is kept and flagged (as the other lists), not refused
    Column("siret", "SIRET", siret_digits, aliases=("N° SIRET", "Numéro SIRET", "SIRET de l'établissement",
                                                   "Siret établissement")),
    Column("name", "Raison sociale", aliases=("Dénomination", "Nom", "Nom de la structure", "Nom de l'entreprise",
                                              "Raison sociale de l'établissement")),
    Column("address", "Adresse", aliases=("Adresse postale", "Adresse de l'établissement", "Adresse 1"),
           required=False),
    Column("postcode", "Code postal", _postcode, aliases=("CP",)),
    Column("city", "Commune", aliases=("Ville", "Localité", "Libellé commune")),
    Column("kind", "Type", _list_kind, aliases=("Type de structure", "Catégorie", "Type d'entreprise",
                                                "Type de l'entreprise")),
    Column("brand", "Enseigne", required=False),
    Column("naf", "Code NAF", aliases=("NAF", "Code APE", "APE", "Activité principale"), required=False),
    Column("website", "Site internet", aliases=("Site web", "Site"), required=False),
]


def parse_list(data: bytes, progress: Progress | None = None) -> list[Row]:
    """The rows of an EA/EATT/EITI list (CSV or XLSX). All or nothing: every bad line and column is
    listed in one ImportRejected; an unreadable file is one too (line 1, « fichier »)."""
    try:
        table = read_table(data, LIST_LIMITS)
        lines = import_rows(table.rows, LIST_COLUMNS, progress)
    except FileRejected as error:
        raise ImportRejected([LineError(error.line or 1, "fichier", error.message)]) from None
    rows = []
    for line in lines:
        values = line.values
        flags = [] if is_valid_siret(values["siret"]) else [f"ligne {line.line} : SIRET à vérifier ({values['siret']})"]
        naf = re.sub(r"[\s.]", "", values["naf"] or "").upper() or None
        rows.append(Row(line=line.line, siret=values["siret"], finess=[], name=values["name"], brand=values["brand"],
                        kinds={values["kind"]}, address=values["address"], postcode=values["postcode"],
                        city=values["city"], commune_code=None, department_code=None, latitude=None,
                        longitude=None, naf_code=naf, website=values["website"], source=LIST_SOURCE, flags=flags))
    return rows


def import_list(path: Path, progress: Progress | None = None) -> ImportReport:
    """Import an EA/EATT/EITI list: one structure per SIRET, its point the commune's centre, sectors
    deduced as for the other lists; a claimed profile is never touched."""
    return upsert(parse_list(path.read_bytes(), progress), f"import:{path.name}", keep_claimed=True)


#: columns only our own copy of the SIAE/GEIQ/EA open data has (data/structures_siae_geiq_ea.csv)
REFERENCE_COLUMNS = {"id_fixture", "coord_dans_departement"}


def is_reference_file(path: Path) -> bool:
    """Our own CSV of the SIAE/GEIQ/EA open data, rather than a list in the ministry's columns."""
    with path.open("rb") as handle:
        first = handle.readline(65_536).decode("utf-8-sig", errors="replace")
    return REFERENCE_COLUMNS <= {cell.strip() for cell in first.split(",")}


def import_structure_file(path: Path, progress: Progress | None = None) -> ImportReport:
    """`flask marche import-structures`: our SIAE/GEIQ/EA CSV, or an EA/EATT/EITI list (CSV or XLSX)."""
    if is_reference_file(path):
        return import_structures(path, progress)
    return import_list(path, progress)


#: the sources of the public lists (structures created by users or generated for tests are not "imported")
IMPORTED_SOURCES = ("ASP", "GEIQ", "EA_EATT", "FINESS", LIST_SOURCE)


@dataclass(frozen=True)
class Coverage:
    """Imported structures with at least one sector: per kind (a structure counts in each of its kinds)."""

    by_kind: dict[str, tuple[int, int]]
    with_sector: int
    total: int

    @property
    def share(self) -> float:
        return self.with_sector / self.total if self.total else 0.0

    def lines(self) -> list[str]:
        def line(label: str, covered: int, total: int) -> str:
            share = f"{covered / total:.1%}".replace(".", ",").replace("%", " %") if total else "–"
            return f"{label} : {covered} / {total} avec au moins un secteur ({share})"
        return [line("Couverture sectorielle, toutes fiches importées", self.with_sector, self.total)] + [
            line(f"  {kind}", *counts) for kind, counts in sorted(self.by_kind.items())]


def sector_coverage() -> Coverage:
    """What share of the imported structures a search by sector can find (declared or deduced sectors)."""
    has_sector = select(structure_sector.c.structure_id).where(structure_sector.c.structure_id == Structure.id).exists()
    rows = db.session.execute(select(Structure.kinds, has_sector).where(Structure.source.in_(IMPORTED_SOURCES))).all()
    by_kind: dict[str, list[int]] = {}
    for kinds, covered in rows:
        for kind in kinds:
            counts = by_kind.setdefault(kind, [0, 0])
            counts[0] += covered
            counts[1] += 1
    return Coverage({kind: (c, t) for kind, (c, t) in by_kind.items()},
                    sum(1 for _, covered in rows if covered), len(rows))
