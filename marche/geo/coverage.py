"""Intervention areas: which departments and regions an area touches, and the one rule saying whether it
covers a place.

An area is the whole country, a radius in km (one of AREA_RADII) around a point, or a set of territory
references. `coverage_of(ref)` states the rule for a place as data (`CoversCommune`, `TouchesTerritory`);
`covers(area, code)` evaluates it in Python, and each search backend translates the same object into its
filter language, so the directory, tender matching and a facilitator's territory all read one rule.
Shapes come from our department outlines, read once per process.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from shapely import STRtree
from shapely.geometry import Polygon, shape
from sqlalchemy import select

from ..extensions import db
from .models import Commune, Department
from .services import EARTH_RADIUS_KM, TerritoryError, haversine_km, parse_ref

COUNTRY = "country"
RADIUS = "radius"
TERRITORIES = "territories"
#: the radii an area may have, in km: few enough that a search engine filters one disc per radius (exact)
AREA_RADII = (10, 20, 30, 50, 100, 200)


@dataclass(frozen=True)
class Area:
    kind: str
    radius_km: int | None = None
    refs: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    #: the structure's own department, always touched (islands and COM have no polygon)
    home_department: str | None = None


@dataclass(frozen=True)
class _Departments:
    codes: tuple[str, ...]
    region_of: dict
    tree: STRtree
    shapes: tuple


@lru_cache(maxsize=1)
def _departments() -> _Departments:
    rows = db.session.execute(select(Department.code, Department.region_code, Department.geometry)).all()
    with_shape = [(code, shape(geometry)) for code, _, geometry in rows if geometry]
    return _Departments(
        codes=tuple(code for code, _ in with_shape),
        region_of={code: region for code, region, _ in rows},
        tree=STRtree([geometry for _, geometry in with_shape]),
        shapes=tuple(geometry for _, geometry in with_shape),
    )


def circle(latitude: float, longitude: float, radius_km: float, segments: int = 64) -> Polygon:
    """A geodesic circle as a lon/lat polygon (destination-point formula on the sphere)."""
    lat1, lon1 = math.radians(latitude), math.radians(longitude)
    angular = radius_km / EARTH_RADIUS_KM
    points = []
    for step in range(segments):
        bearing = 2 * math.pi * step / segments
        lat2 = math.asin(math.sin(lat1) * math.cos(angular) + math.cos(lat1) * math.sin(angular) * math.cos(bearing))
        lon2 = lon1 + math.atan2(math.sin(bearing) * math.sin(angular) * math.cos(lat1),
                                 math.cos(angular) - math.sin(lat1) * math.sin(lat2))
        points.append((math.degrees(lon2), math.degrees(lat2)))
    return Polygon(points)


def touched(area: Area) -> tuple[list[str], list[str]]:
    """(departments, regions) the area touches, sorted."""
    deps = _departments()
    departments: set[str] = set()
    if area.kind == COUNTRY:
        departments = set(deps.region_of)
    elif area.kind == RADIUS and area.latitude is not None and area.longitude is not None and area.radius_km:
        disc = circle(area.latitude, area.longitude, area.radius_km)
        departments = {deps.codes[i] for i in deps.tree.query(disc, predicate="intersects")}
    elif area.kind == TERRITORIES:
        communes = [code for kind, code in map(parse_ref, area.refs) if kind == "commune"]
        for kind, code in map(parse_ref, area.refs):
            if kind == "dep":
                departments.add(code)
            elif kind == "reg":
                departments |= {d for d, r in deps.region_of.items() if r == code}
            elif kind == "country":
                departments = set(deps.region_of)
        if communes:
            departments |= set(db.session.execute(
                select(Commune.department_code).where(Commune.code.in_(communes))).scalars())
    if area.home_department and area.kind != TERRITORIES:
        departments.add(area.home_department)
    regions = {deps.region_of[d] for d in departments if d in deps.region_of}
    if area.kind == TERRITORIES:
        regions |= {code for kind, code in map(parse_ref, area.refs) if kind == "reg"}
    return sorted(departments), sorted(regions)


# --- places and the coverage rule -------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """A commune as coverage reads it: its codes and its centre."""

    code: str
    department: str
    region: str
    latitude: float | None
    longitude: float | None

    @property
    def point(self) -> tuple[float, float] | None:
        """The centre; None for the 7 communes without a known one."""
        return None if self.latitude is None or self.longitude is None else (self.latitude, self.longitude)

    @property
    def refs(self) -> tuple[str, ...]:
        """Every territory reference that contains the commune, from itself up to France."""
        return (f"commune:{self.code}", f"dep:{self.department}", f"reg:{self.region}", "country:FR")


@lru_cache(maxsize=8192)  # communes are reference data, fixed while a process runs
def place(commune_code: str) -> Place:
    """The commune lookup: codes and centre of an INSEE code; TerritoryError when there is none."""
    return _place_in(db.session, commune_code)


def _place_in(session, commune_code: str) -> Place:
    row = session.execute(
        select(Commune.code, Commune.department_code, Commune.region_code, Commune.latitude, Commune.longitude)
        .where(Commune.code == commune_code.upper())).first()
    if row is None:
        raise TerritoryError(f"Territoire inconnu : commune:{commune_code}")
    return Place(row.code, row.department_code, row.region_code, row.latitude, row.longitude)


@dataclass(frozen=True)
class CoversCommune:
    """An area covers a commune when one of three holds (ORed): the area is the whole country; its
    references name the commune, its department, its region or France; or it is a radius of one of
    `radii` km around a point at most that far (great circle) from the commune's centre."""

    place: Place
    radii: tuple[int, ...] = AREA_RADII

    def holds(self, area: Area) -> bool:
        if area.kind == COUNTRY or set(self.place.refs) & set(area.refs):
            return True
        point = self.place.point
        if area.kind != RADIUS or point is None or area.latitude is None or area.longitude is None:
            return False
        return area.radius_km in self.radii and \
            haversine_km(area.latitude, area.longitude, point[0], point[1]) <= area.radius_km


@dataclass(frozen=True)
class TouchesTerritory:
    """An area covers a department or a region when it touches it (see `touched`)."""

    kind: str
    code: str

    def holds(self, area: Area) -> bool:
        departments, regions = touched(area)
        return self.code in (departments if self.kind == "dep" else regions)


Coverage = CoversCommune | TouchesTerritory


def coverage_of(ref: str) -> Coverage:
    """The rule "an area covers this territory" for a commune, department or region reference."""
    kind, code = parse_ref(ref)
    if kind == "commune":
        return CoversCommune(place(code))
    if kind in {"dep", "reg"}:
        return TouchesTerritory(kind, code)
    raise TerritoryError(f"« {ref} » : la couverture se lit pour une commune, un département ou une région.")


def covers(area: Area, commune_code: str) -> bool:
    """Does the area cover this commune?"""
    return CoversCommune(place(commune_code)).holds(area)


@lru_cache(maxsize=512)  # reference data, fixed while a process runs
def _region_of(department_code: str) -> str | None:
    return db.session.scalar(select(Department.region_code).where(Department.code == department_code))


def enclosing_refs(ref: str, session=None) -> tuple[str, ...]:
    """Every territory reference that contains the place `ref` names, itself included, up to France:
    ("commune:59350", "dep:59", "reg:32", "country:FR") for Lille. A set of territories (a facilitator's)
    covers the place when it names one of them. TerritoryError for a reference that names nothing. An outbox
    handler passes its own `session` (the lookups then skip the per-process caches)."""
    kind, code = parse_ref(ref)
    if kind == "commune":
        return (place(code) if session is None else _place_in(session, code)).refs
    if kind == "dep":
        region = _region_of(code) if session is None else session.scalar(
            select(Department.region_code).where(Department.code == code))
        if region is None:
            raise TerritoryError(f"Territoire inconnu : dep:{code}")
        return (f"dep:{code}", f"reg:{region}", "country:FR")
    if kind == "reg":
        return (f"reg:{code}", "country:FR")
    return ("country:FR",)
