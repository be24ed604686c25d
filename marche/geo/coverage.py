"""Intervention areas: which departments and regions an area touches, and whether it covers a commune.

An area is the whole country, a radius in km around a point, or a set of territory references.
Radius: great-circle distance to the commune's centre; sets: membership (commune, its department
or its region listed). Shapes come from our department outlines, read once per process.
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


def covers(area: Area, commune_code: str) -> bool:
    """Does the area cover this commune?"""
    if area.kind == COUNTRY:
        return True
    commune = db.session.execute(
        select(Commune.code, Commune.department_code, Commune.region_code, Commune.latitude, Commune.longitude)
        .where(Commune.code == commune_code)).first()
    if commune is None:
        raise TerritoryError(f"Territoire inconnu : commune:{commune_code}")
    if area.kind == TERRITORIES:
        wanted = {f"commune:{commune.code}", f"dep:{commune.department_code}", f"reg:{commune.region_code}", "country:FR"}
        return bool(wanted & set(area.refs))
    if area.kind == RADIUS:
        if None in (area.latitude, area.longitude, commune.latitude, commune.longitude) or not area.radius_km:
            return False
        return haversine_km(area.latitude, area.longitude, commune.latitude, commune.longitude) <= area.radius_km
    return False
