"""The filter translation of structure search (search.structures: `meili_filters` and `sql_where`),
both backends, on a small directory written here with every boundary on both sides: sizes 9/10,
49/50, 249/250; commitments expiring yesterday, today (Paris), tomorrow or never; radius areas and
`near` points 5 m inside and outside 10 km of Montreuil's centre; areas listing a commune, a
department, a region or the country; ZRR or not, references or not, claimed or not.

Every expected answer is computed here, in Python, from the rows this test wrote (the departments an
area touches from the outlines in data/, tests.search.directory), never from columns the product
derives; both backends must return exactly that set. This is the test `make mutants` runs against
the translation (scripts/mutants.py, target `search.filters`): kept small so it runs in seconds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import text

from marche.extensions import db
from marche.search import meili_backend, sql_backend
from marche.search.indexer import reindex_all
from marche.search.query import StructureQuery
from marche.suppliers.models import ClientReference, EnvCommitment, Structure
from marche.suppliers.services import refresh_derived

from .directory import TODAY, haversine, touched_by

BACKENDS = (meili_backend, sql_backend)
MONTREUIL, LILLE = "93048", "59350"
#: a commune without a centre: a `near` search around it cannot match anything
NO_CENTRE = "15031"
RADIUS = 10
#: km per degree of latitude on the mean sphere (tests.search.directory.haversine's radius)
KM_PER_DEGREE = 6371.0088 * math.pi / 180


def siret(n: int) -> str:
    """A 14-digit SIRET with a right check digit (Luhn, computed here)."""
    body = f"{751870494:09d}{n:04d}"
    for check in "0123456789":
        digits = [int(c) for c in body + check]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
        if total % 10 == 0:
            return body + check
    raise AssertionError(n)


@dataclass
class Spec:
    name: str
    commune: str = MONTREUIL
    kinds: tuple[str, ...] = ("ACI",)
    #: km due north of the commune's centre
    north_km: float = 0.0
    #: km due east of it (along the parallel, measured with the haversine)
    east_km: float = 0.0
    area_kind: str = "radius"
    area_radius_km: int | None = 30
    area_refs: tuple[str, ...] = ()
    employees: int | None = None
    services: tuple[str, ...] = ()
    sectors: tuple[int, ...] = ()
    #: label -> days from today to its expiry (None: never expires)
    env: dict[str, int | None] = field(default_factory=dict)
    references: bool = False
    claimed: bool = False


def east_of(latitude: float, longitude: float, km: float) -> float:
    """The longitude `km` east along the parallel, by bisection on the haversine written in the tests."""
    low, high = longitude, longitude + 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if haversine(latitude, longitude, latitude, middle) < km else (low, middle)
    return low


@dataclass
class Directory:
    rows: dict[int, dict]
    communes: dict[str, dict]
    sectors: tuple[int, int]
    zrr_commune: str

    def ids(self, predicate) -> set[int]:
        return {i for i, row in self.rows.items() if predicate(row)}


def specs(sectors: tuple[int, int], zrr_commune: str) -> list[Spec]:
    first, second = sectors
    return [
        Spec("Menuiserie du Plateau", kinds=("EI",), employees=9, services=("prestation",), sectors=(first,),
             env={"iso14001": 0}, references=True),
        Spec("Menuiserie des Ruisseaux", kinds=("EI", "ACI"), employees=10, services=("fourniture",),
             sectors=(first, second), env={"iso14001": -1}, claimed=True),
        Spec("Atelier Bois Solidaire", kinds=("AI",), employees=49, services=("prestation", "sous_traitance"),
             sectors=(second,), env={"iso14001": 1, "b_corp": None}),
        Spec("Jardins du Coteau", kinds=("ETTI",), employees=50, env={"emas": -1}),
        Spec("Recyclerie de l'Est", kinds=("EA",), employees=249, references=True),
        Spec("Blanchisserie Nord", commune=LILLE, kinds=("ESAT",), employees=250, claimed=True),
        Spec("Voisin du centre", north_km=0.5, kinds=("EI",)),
        Spec("Rayon dedans", north_km=RADIUS - 0.005, area_radius_km=RADIUS),
        Spec("Rayon dehors", north_km=RADIUS + 0.005, area_radius_km=RADIUS),
        # due east, the offset lies along one axis of the earth's cube: the SQL prefilter's box is tight there
        Spec("Est dedans", east_km=RADIUS - 0.005, area_radius_km=RADIUS),
        Spec("Pays entier", commune=LILLE, area_kind="country", area_radius_km=None),
        Spec("Liste commune", commune=LILLE, area_kind="territories", area_radius_km=None,
             area_refs=(f"commune:{MONTREUIL}",)),
        Spec("Liste departement", commune=LILLE, area_kind="territories", area_radius_km=None, area_refs=("dep:93",)),
        Spec("Liste region", commune=LILLE, area_kind="territories", area_radius_km=None, area_refs=("reg:11",)),
        Spec("Liste ailleurs", area_kind="territories", area_radius_km=None, area_refs=("dep:59", "reg:84")),
        Spec("Zone rurale", commune=zrr_commune, kinds=("GEIQ",), area_radius_km=20, services=("co_traitance",)),
    ]


@pytest.fixture(scope="module")
def directory(app) -> Directory:
    with app.app_context():
        communes = {r["code"]: dict(r) for r in db.session.execute(text(
            "SELECT code, department_code, region_code, latitude, longitude, zrr_status FROM commune")).mappings()}
        zrr_commune = min(code for code, c in communes.items()
                          if c["zrr_status"] == "C" and c["latitude"] is not None and c["department_code"] not in ("59", "93"))
        sectors = tuple(db.session.execute(text("SELECT id FROM sector ORDER BY id LIMIT 2")).scalars())
        organisation_id = db.session.execute(text(
            "INSERT INTO organisation (name, kind, siret, created_at) VALUES ('Gestionnaire', 'inclusive_structure', "
            "'75187049400026', now()) RETURNING id")).scalar_one()
        rows: dict[int, dict] = {}
        for number, spec in enumerate(specs(sectors, zrr_commune), start=1):
            commune = communes[spec.commune]
            latitude = commune["latitude"] + spec.north_km / KM_PER_DEGREE
            longitude = east_of(latitude, commune["longitude"], spec.east_km)
            structure = Structure(
                siret=siret(number), siren=siret(number)[:9], name=spec.name, kinds=list(spec.kinds), city="Ville", commune_code=spec.commune,
                department_code=commune["department_code"], region_code=commune["region_code"],
                latitude=latitude, longitude=longitude, source="test", area_kind=spec.area_kind,
                area_radius_km=spec.area_radius_km, area_refs=list(spec.area_refs), employees_count=spec.employees,
                service_kinds=list(spec.services), owner_organisation_id=organisation_id if spec.claimed else None)
            db.session.add(structure)
            db.session.flush()
            db.session.execute(text("INSERT INTO structure_sector (structure_id, sector_id, inferred) "
                                    "SELECT :s, unnest(CAST(:ids AS int[])), false"),
                               {"s": structure.id, "ids": list(spec.sectors)})
            for label, days in spec.env.items():
                structure.env_commitments.append(EnvCommitment(
                    label=label, expires_on=None if days is None else TODAY + timedelta(days=days)))
            if spec.references:
                structure.references.append(ClientReference(client_name="Ville de Test", year=2024))
            refresh_derived(structure)
            row = {"id": structure.id, "spec": spec, "commune_code": spec.commune, "latitude": latitude,
                   "longitude": longitude, "department_code": commune["department_code"],
                   "region_code": commune["region_code"], "area_kind": spec.area_kind,
                   "area_radius_km": spec.area_radius_km, "area_refs": list(spec.area_refs)}
            row["departments"], row["regions"] = touched_by(row, communes)
            rows[structure.id] = row
        db.session.commit()
        db.session.expire_all()
        assert reindex_all() == len(rows)
        db.session.remove()
    return Directory(rows, communes, sectors, zrr_commune)


# --- the independent answers ------------------------------------------------------------------------

def distance(directory: Directory, row: dict, commune: str) -> float:
    centre = directory.communes[commune]
    return haversine(centre["latitude"], centre["longitude"], row["latitude"], row["longitude"])


def covers_commune(directory: Directory, row: dict, commune: str) -> bool:
    place = directory.communes[commune]
    if row["area_kind"] == "country":
        return True
    if row["area_kind"] == "territories":
        return bool({f"commune:{commune}", f"dep:{place['department_code']}", f"reg:{place['region_code']}"}
                    & set(row["area_refs"]))
    return distance(directory, row, commune) <= row["area_radius_km"]


def size_band(employees: int | None) -> str | None:
    if employees is None:
        return None
    return "lt10" if employees < 10 else "10_49" if employees < 50 else "50_249" if employees < 250 else "gte250"


def current_env(row: dict) -> set[str]:
    return {label for label, days in row["spec"].env.items() if days is None or days >= 0}


def in_zrr(directory: Directory, row: dict) -> bool:
    return directory.communes[row["commune_code"]]["zrr_status"] in ("C", "PC")


def cases(d: Directory) -> list[tuple[str, StructureQuery, set[int]]]:
    first, second = d.sectors
    spec = lambda row: row["spec"]  # noqa: E731
    return [
        ("everything", StructureQuery(), set(d.rows)),
        ("kinds", StructureQuery(kinds=("EI", "AI")), d.ids(lambda r: bool({"EI", "AI"} & set(spec(r).kinds)))),
        ("sector", StructureQuery(sectors=(second,)), d.ids(lambda r: second in spec(r).sectors)),
        ("env current today, tomorrow", StructureQuery(env=("iso14001",)),
         d.ids(lambda r: "iso14001" in current_env(r))),
        ("env never expires", StructureQuery(env=("b_corp", "emas")),
         d.ids(lambda r: bool({"b_corp", "emas"} & current_env(r)))),
        ("services", StructureQuery(services=("sous_traitance", "co_traitance")),
         d.ids(lambda r: bool({"sous_traitance", "co_traitance"} & set(spec(r).services)))),
        ("sizes lt10 gte250", StructureQuery(size_bands=("lt10", "gte250")),
         d.ids(lambda r: size_band(spec(r).employees) in {"lt10", "gte250"})),
        ("sizes 10_49 50_249", StructureQuery(size_bands=("10_49", "50_249")),
         d.ids(lambda r: size_band(spec(r).employees) in {"10_49", "50_249"})),
        ("covers Montreuil", StructureQuery(territory=f"commune:{MONTREUIL}"),
         d.ids(lambda r: covers_commune(d, r, MONTREUIL))),
        ("covers Lille", StructureQuery(territory=f"commune:{LILLE}"), d.ids(lambda r: covers_commune(d, r, LILLE))),
        ("covers dep 93", StructureQuery(territory="dep:93"), d.ids(lambda r: "93" in r["departments"])),
        ("covers dep 59", StructureQuery(territory="dep:59"), d.ids(lambda r: "59" in r["departments"])),
        ("covers reg 11", StructureQuery(territory="reg:11"), d.ids(lambda r: "11" in r["regions"])),
        ("covers reg 84", StructureQuery(territory="reg:84"), d.ids(lambda r: "84" in r["regions"])),
        ("located commune", StructureQuery(territory=f"commune:{LILLE}", territory_mode="located"),
         d.ids(lambda r: r["commune_code"] == LILLE)),
        ("located dep", StructureQuery(territory="dep:93", territory_mode="located"),
         d.ids(lambda r: r["department_code"] == "93")),
        ("located reg", StructureQuery(territory="reg:32", territory_mode="located"),
         d.ids(lambda r: r["region_code"] == "32")),
        ("near Montreuil 10 km", StructureQuery(near=f"commune:{MONTREUIL}", radius_km=RADIUS),
         d.ids(lambda r: distance(d, r, MONTREUIL) <= RADIUS)),
        # a query built without a radius (the form always sends one): the centre itself only
        ("near Montreuil, no radius", StructureQuery(near=f"commune:{MONTREUIL}"),
         d.ids(lambda r: distance(d, r, MONTREUIL) == 0)),
        ("near a commune without centre", StructureQuery(near=f"commune:{NO_CENTRE}", radius_km=RADIUS), set()),
        ("zrr", StructureQuery(zrr=True), d.ids(lambda r: in_zrr(d, r))),
        ("not zrr", StructureQuery(zrr=False), d.ids(lambda r: not in_zrr(d, r))),
        ("references", StructureQuery(has_references=True), d.ids(lambda r: spec(r).references)),
        ("no references", StructureQuery(has_references=False), d.ids(lambda r: not spec(r).references)),
        ("claimed", StructureQuery(claimed=True), d.ids(lambda r: spec(r).claimed)),
        ("not claimed", StructureQuery(claimed=False), d.ids(lambda r: not spec(r).claimed)),
        ("words", StructureQuery(q="menuiserie"), d.ids(lambda r: "Menuiserie" in spec(r).name)),
        ("words, kind and size", StructureQuery(q="menuiserie", kinds=("ACI",), size_bands=("10_49",)),
         d.ids(lambda r: "Menuiserie" in spec(r).name and "ACI" in spec(r).kinds
               and size_band(spec(r).employees) == "10_49")),
        ("covers Montreuil, not claimed, references",
         StructureQuery(territory=f"commune:{MONTREUIL}", claimed=False, has_references=True),
         d.ids(lambda r: covers_commune(d, r, MONTREUIL) and not spec(r).claimed and spec(r).references)),
    ]


def test_the_directory_has_both_sides_of_each_boundary(directory):
    """The answers below would prove little if the rows did not straddle each boundary."""
    d = directory
    by_name = {row["spec"].name: row for row in d.rows.values()}
    assert distance(d, by_name["Rayon dedans"], MONTREUIL) < RADIUS < distance(d, by_name["Rayon dehors"], MONTREUIL)
    assert {size_band(row["spec"].employees) for row in d.rows.values()} == {None, "lt10", "10_49", "50_249",
                                                                            "gte250"}
    assert in_zrr(d, by_name["Zone rurale"]) and not in_zrr(d, by_name["Rayon dedans"])
    for name, query, expected in cases(d):
        assert 0 < len(expected) < len(d.rows) or name in ("everything", "near a commune without centre"), name


@pytest.mark.parametrize("backend", BACKENDS, ids=["meilisearch", "sql"])
def test_each_filter_gives_the_answer_computed_from_the_rows(app_ctx, directory, backend):
    wrong = []
    for name, query, expected in cases(directory):
        found = set(backend.search_ids(query, limit=100))
        count = backend.search(query).count
        if found != expected or count != len(expected):
            names = lambda ids: sorted(directory.rows[i]["spec"].name for i in ids)  # noqa: E731
            wrong.append(f"{name}: manquent {names(expected - found)}, en trop {names(found - expected)}, "
                         f"compte {count} au lieu de {len(expected)}")
    assert not wrong, "\n".join(wrong)
