"""The test directory: the real SIAE/GEIQ/EA and ESAT files, enriched by fixed rules, plus a snapshot
read back with plain SQL from which tests compute their expected answers without our search code.

The departments and regions an intervention area touches are not read from the columns the product
derives (`area_departments`, `area_regions`): the snapshot computes them here from the department
outlines of `data/departements.geojson` (shapely) and the region of each department in
`data/departements.csv`, with the rule the README states (whole country: every department; radius: the
departments whose outline meets the disc, plus the structure's own; listed territories: the listed
departments, the departments of the listed regions and communes)."""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from shapely import STRtree
from shapely.geometry import Polygon, shape

from sqlalchemy import text

from marche.cli import DATA_DIR
from marche.extensions import db
from marche.reference.models import Sector
from marche.suppliers.importer import import_esat, import_structures
from marche.suppliers.models import RADIUS_CHOICES, ClientReference, EnvCommitment, Structure
from marche.suppliers.services import refresh_derived

SIAE_CSV = DATA_DIR / "structures_siae_geiq_ea.csv"
ESAT_CSV = DATA_DIR / "esat_finess.csv"
#: radii used by the enrichment; every value is one of RADIUS_CHOICES
RADII = RADIUS_CHOICES
SERVICES = ("mise_a_disposition", "prestation", "fourniture", "sous_traitance", "co_traitance")
EMPLOYEES = (None, 4, 25, 120, 400)
#: the day in Paris (the product's "today"), computed here rather than read from marche.core.dates
TODAY = datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/Paris")).date()
DEPARTMENTS_GEOJSON = DATA_DIR / "departements.geojson"
DEPARTMENTS_CSV = DATA_DIR / "departements.csv"
#: mean Earth radius (km), as in haversine below
EARTH_KM = 6371.0088


def csv_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def haversine(lat1, lon1, lat2, lon2) -> float:
    """Written here again on purpose (mean Earth radius 6 371.0088 km), not imported from marche."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def disc(latitude: float, longitude: float, radius_km: float, segments: int = 64) -> Polygon:
    """The disc of `radius_km` around a point as a lon/lat polygon: each vertex is the point reached
    by going `radius_km` along a great circle in one of `segments` evenly spread bearings."""
    lat1, lon1, angle = math.radians(latitude), math.radians(longitude), radius_km / EARTH_KM
    vertices = []
    for step in range(segments):
        bearing = 2 * math.pi * step / segments
        lat2 = math.asin(math.sin(lat1) * math.cos(angle) + math.cos(lat1) * math.sin(angle) * math.cos(bearing))
        lon2 = lon1 + math.atan2(math.sin(bearing) * math.sin(angle) * math.cos(lat1),
                                 math.cos(angle) - math.sin(lat1) * math.sin(lat2))
        vertices.append((math.degrees(lon2), math.degrees(lat2)))
    return Polygon(vertices)


@lru_cache(maxsize=1)
def outlines() -> tuple[tuple[str, ...], STRtree, dict[str, str]]:
    """(codes of the departments with an outline, their STRtree, department -> region), from data/."""
    with open(DEPARTMENTS_GEOJSON, encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    codes = tuple(feature["properties"]["code"] for feature in features)
    tree = STRtree([shape(feature["geometry"]) for feature in features])
    region_of = {row["code"]: row["code_region"] for row in csv_rows(DEPARTMENTS_CSV)}
    return codes, tree, region_of


def touched_by(row: dict, communes: dict[str, dict]) -> tuple[set[str], set[str]]:
    """(departments, regions) a structure's area touches, computed from the outlines in data/."""
    codes, tree, region_of = outlines()
    departments: set[str] = set()
    regions: set[str] = set()
    if row["area_kind"] == "country":
        departments = set(region_of)
    elif row["area_kind"] == "radius" and row["latitude"] is not None and row["area_radius_km"]:
        around = disc(row["latitude"], row["longitude"], row["area_radius_km"])
        departments = {codes[i] for i in tree.query(around, predicate="intersects")}
    elif row["area_kind"] == "territories":
        for ref in row["area_refs"] or ():
            kind, _, code = ref.partition(":")
            if kind == "dep":
                departments.add(code)
            elif kind == "reg":
                departments |= {d for d, r in region_of.items() if r == code}
                regions.add(code)
            elif kind == "commune":
                departments.add(communes[code]["department_code"])
            elif kind == "country":
                departments = set(region_of)
    if row["area_kind"] != "territories" and row["department_code"]:
        departments.add(row["department_code"])
    regions |= {region_of[d] for d in departments if d in region_of}
    return departments, regions


@dataclass
class Snapshot:
    rows: dict[int, dict]
    sectors: dict[int, set[int]]
    env_current: dict[int, set[str]]
    with_references: set[int]
    communes: dict[str, dict]
    sector_ids: list[int] = field(default_factory=list)

    def ids(self, predicate) -> set[int]:
        return {i for i, r in self.rows.items() if predicate(r)}


def _enrich(structures: list[Structure], sectors: list[Sector], organisation_id: int) -> None:
    """Deterministic variety for every filter: sectors, services, sizes, areas, references, claims, labels."""
    for structure in structures:
        i = structure.id
        chosen = {sectors[i % 12].id: sectors[i % 12]}
        if i % 3 == 0:
            chosen.setdefault(sectors[(i * 7) % len(sectors)].id, sectors[(i * 7) % len(sectors)])
        structure.sectors = list(chosen.values())
        structure.service_kinds = [SERVICES[i % 5]] + ([SERVICES[(i + 2) % 5]] if i % 4 == 0 else [])
        structure.employees_count = EMPLOYEES[i % 5]
        if i % 9 == 0:
            structure.area_kind = "country"
        elif i % 9 == 1 and structure.commune_code:
            structure.area_kind = "territories"
            structure.area_refs = [f"dep:{structure.department_code}"] if i % 2 else (
                [f"commune:{structure.commune_code}"] if i % 4 == 0 else [f"reg:{structure.region_code}"])
        else:
            structure.area_kind = "radius"
            structure.area_radius_km = RADII[i % len(RADII)]
        if i % 11 == 0:
            structure.references.append(ClientReference(client_name="Ville de Test", year=2024))
        if i % 23 == 0:
            structure.owner_organisation_id = organisation_id
        if i % 13 == 0:
            structure.env_commitments.append(EnvCommitment(label="iso14001", expires_on=TODAY + timedelta(days=300)))
        if i % 17 == 0:  # expired: must count nowhere
            structure.env_commitments.append(EnvCommitment(label="emas", expires_on=TODAY - timedelta(days=1)))
        if i % 19 == 0:
            structure.env_commitments.append(EnvCommitment(label="b_corp", expires_on=None))
        refresh_derived(structure)


def build_directory() -> None:
    from marche.accounts.models import Organisation

    import_structures(SIAE_CSV)
    import_esat(ESAT_CSV)
    db.session.commit()
    organisation = Organisation(name="Collecterie gestionnaire", kind="inclusive_structure", siret="75187049400026")
    db.session.add(organisation)
    db.session.flush()
    sectors = list(db.session.execute(db.select(Sector).order_by(Sector.id)).scalars())
    structures = list(db.session.execute(db.select(Structure).order_by(Structure.id)).scalars())
    with db.session.no_autoflush:
        _enrich(structures, sectors, organisation.id)
    db.session.commit()


def snapshot() -> Snapshot:
    """What is in the database, read with plain SQL; the departments and regions each area touches
    (`area_departments`, `area_regions`) are computed here from the outlines, not read."""
    rows = {r["id"]: dict(r) for r in db.session.execute(text(
        "SELECT id, name, brand, kinds, commune_code, department_code, region_code, latitude, longitude, "
        "area_kind, area_radius_km, area_refs, employees_count, service_kinds, "
        "owner_organisation_id IS NOT NULL AS claimed, city FROM structure")).mappings()}
    sectors: dict[int, set[int]] = {i: set() for i in rows}
    for sid, sector in db.session.execute(text("SELECT structure_id, sector_id FROM structure_sector")):
        sectors[sid].add(sector)
    env: dict[int, set[str]] = {i: set() for i in rows}
    for sid, label, expires in db.session.execute(text("SELECT structure_id, label, expires_on FROM env_commitment")):
        if expires is None or expires >= TODAY:
            env[sid].add(label)
    refs = set(db.session.execute(text("SELECT DISTINCT structure_id FROM client_reference")).scalars())
    communes = {r["code"]: dict(r) for r in db.session.execute(text(
        "SELECT code, department_code, region_code, latitude, longitude, zrr_status FROM commune")).mappings()}
    sector_ids = sorted(db.session.execute(text("SELECT id FROM sector")).scalars())
    for row in rows.values():
        row["area_departments"], row["area_regions"] = touched_by(row, communes)
    return Snapshot(rows, sectors, env, refs, communes, sector_ids)
