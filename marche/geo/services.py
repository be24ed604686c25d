"""Territory references ("commune:59350", "dep:59", "reg:32", "country:FR"), their search, shapes and distances."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, or_, select, type_coerce

from ..core.errors import DomainError
from ..core.identifiers import is_digits
from ..core.text import normalize_search
from ..extensions import db
from .models import Commune, Department, Region

KINDS = ("commune", "dep", "reg", "country")
#: what each kind's code looks like, so a typo is told apart from a code that does not exist
CODE_PATTERNS = {
    # [0-9], not \d: \d also matches « ５ » or « ٣ », which no INSEE code contains
    "commune": re.compile(r"([0-9]{5}|2[AB][0-9]{3})"),
    "dep": re.compile(r"([0-9]{2,3}|2[AB])"),
    "reg": re.compile(r"[0-9]{2,3}"),
    "country": re.compile(r"FR"),
}
MAX_QUERY_LENGTH = 100
#: WGS84 mean Earth radius (IUGG), in km
EARTH_RADIUS_KM = 6371.0088
REF_HELP = "attendu commune:<code INSEE>, dep:<code>, reg:<code> ou country:FR"


class TerritoryError(DomainError, ValueError):
    """A territory reference that does not exist or cannot be read; the message is French, `field`
    names the form field it belongs beside (views catch it as any other DomainError)."""


@dataclass(frozen=True)
class Territory:
    kind: str
    code: str
    name: str
    #: what a person reads: "Lille (59)", "Nord (59)", "Hauts-de-France", "France entière"
    label: str

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.code}"

    def as_hit(self) -> dict[str, str]:
        return {"id": self.ref, "label": self.label, "kind": self.kind}

    def as_dict(self) -> dict[str, str]:
        return {"id": self.ref, "kind": self.kind, "code": self.code, "name": self.name, "label": self.label}


FRANCE = Territory("country", "FR", "France", "France entière")


# --- references -------------------------------------------------------------------------------

def parse_ref(ref: str) -> tuple[str, str]:
    """("dep", "2A") from " DEP:2a "; raise TerritoryError when the reference cannot be read."""
    text = (ref or "").strip()
    kind, sep, code = text.partition(":")
    kind, code = kind.strip().lower(), code.strip().upper()
    if not sep or not code:
        raise TerritoryError(f"Référence de territoire invalide : « {text} » ({REF_HELP}).")
    if kind not in CODE_PATTERNS:
        raise TerritoryError(f"Type de territoire inconnu : « {text} » ({REF_HELP}).")
    if not CODE_PATTERNS[kind].fullmatch(code):
        raise TerritoryError(f"Territoire inconnu : {kind}:{code}")
    return kind, code


def _commune_territory(code: str, name: str, department_code: str) -> Territory:
    return Territory("commune", code, name, f"{name} ({department_code})")


def _department_territory(code: str, name: str) -> Territory:
    return Territory("dep", code, name, f"{name} ({code})")


def _region_territory(code: str, name: str) -> Territory:
    return Territory("reg", code, name, name)


@lru_cache(maxsize=8192)  # reference data: fixed while a process runs (restart after load-reference --force)
def _find(kind: str, code: str) -> Territory | None:
    if kind == "country":
        return FRANCE
    if kind == "commune":
        row = db.session.execute(select(Commune.name, Commune.department_code).where(Commune.code == code)).first()
        return _commune_territory(code, row.name, row.department_code) if row else None
    model, make = (Department, _department_territory) if kind == "dep" else (Region, _region_territory)
    name = db.session.scalar(select(model.name).where(model.code == code))
    return make(code, name) if name else None


def resolve(ref: str) -> Territory:
    """The territory a reference names, checked against the database."""
    kind, code = parse_ref(ref)
    territory = _find(kind, code)
    if territory is None:
        raise TerritoryError(f"Territoire inconnu : {kind}:{code}")
    return territory


def territory_label(ref: str) -> str:
    """What a person reads for a stored reference (« Nord (59) » for dep:59); the reference itself if
    it no longer names a territory."""
    try:
        return resolve(ref).label
    except TerritoryError:
        return ref


def parse_territory_list(text: str, field: str | None = None) -> list[str]:
    """Read comma-, semicolon- or space-separated references; each must exist. Normalized, deduplicated.
    A refusal names `field`, the form field the text came from."""
    refs: list[str] = []
    try:
        for part in re.split(r"[\s,;]+", text or ""):
            if part and (ref := resolve(part).ref) not in refs:
                refs.append(ref)
    except TerritoryError as error:
        raise TerritoryError(error.message, field) from None
    return refs


# --- search -----------------------------------------------------------------------------------

def _commune_hits(condition: Any, limit: int, order: list[Any] | None = None) -> list[Territory]:
    query = (select(Commune.code, Commune.name, Commune.department_code).where(condition)
             .order_by(*(order or []), Commune.population.desc().nulls_last(), Commune.code).limit(limit))
    return [_commune_territory(row.code, row.name, row.department_code) for row in db.session.execute(query)]


def _name_matches(column: Any, folded: str) -> Any:
    """The name starts with the query, or one of its words does ("france" → "Hauts-de-France")."""
    return or_(column.startswith(folded, autoescape=True), column.contains(" " + folded, autoescape=True))


def _areas_by_name(folded: str, kinds: set[str]) -> list[Territory]:
    """Regions, departments and France whose name matches; the tables are small enough to scan."""
    hits: list[Territory] = []
    if "country" in kinds and "france entiere".startswith(folded):
        hits.append(FRANCE)
    for kind, model, make in (("reg", Region, _region_territory), ("dep", Department, _department_territory)):
        if kind in kinds:
            query = (select(model.code, model.name).where(_name_matches(model.search_name, folded))
                     .order_by(model.search_name))
            hits += [make(row.code, row.name) for row in db.session.execute(query)]
    return hits


def _communes_by_name(folded: str, limit: int) -> list[Territory]:
    # the prefix match uses the text_pattern_ops index; word starts ("courcouronnes") the trigram one
    hits = _commune_hits(Commune.search_name.startswith(folded, autoescape=True), limit)
    if len(hits) < limit:
        hits += _commune_hits(Commune.search_name.contains(" " + folded, autoescape=True), limit)
    return hits


def _postcodes_start_with(prefix: str) -> Any:
    """A full postcode uses the GIN index; a shorter prefix scans the joined lists (35 000 rows, ~10 ms)."""
    if len(prefix) == 5:
        return Commune.postcodes.op("@>")(type_coerce([prefix], Commune.postcodes.type))
    joined = func.array_to_string(Commune.postcodes, " ")
    return or_(joined.startswith(prefix), joined.contains(" " + prefix))


def _by_code(code: str, kinds: set[str], limit: int) -> list[Territory]:
    """"59" → the Nord, then communes by postcode; "59350" → Lille by INSEE code; "2A004" → Ajaccio."""
    hits: list[Territory] = []
    if "dep" in kinds and len(code) <= 3:
        name = db.session.scalar(select(Department.name).where(Department.code == code))
        hits += [_department_territory(code, name)] if name else []
    if "commune" in kinds:
        if len(code) == 5:
            hits += _commune_hits(Commune.code == code, 1)
        if is_digits(code):
            hits += _commune_hits(_postcodes_start_with(code), limit)
    return hits


def _fuzzy(folded: str, kinds: set[str], limit: int) -> list[Territory]:
    """Typo tolerance ("Marseile") with pg_trgm similarity, most similar first."""
    hits: list[Territory] = []
    for kind, model, make in (("reg", Region, _region_territory), ("dep", Department, _department_territory)):
        if kind in kinds:
            score = func.similarity(model.search_name, folded)
            rows = db.session.execute(select(model.code, model.name).where(model.search_name.op("%")(folded))
                                      .order_by(score.desc()).limit(limit))
            hits += [make(row.code, row.name) for row in rows]
    if "commune" in kinds:
        score = func.similarity(Commune.search_name, folded)
        hits += _commune_hits(Commune.search_name.op("%")(folded), limit, order=[score.desc()])
    return hits


def _unique(hits: list[Territory], limit: int) -> list[Territory]:
    seen: dict[str, Territory] = {}
    for hit in hits:
        seen.setdefault(hit.ref, hit)
    return list(seen.values())[:limit]


def search_territories(q: str, limit: int = 10, kinds: set[str] | None = None) -> list[dict[str, str]]:
    """Autocomplete hits {"id", "label", "kind"}: areas whose name matches first, then communes."""
    folded = normalize_search((q or "")[:MAX_QUERY_LENGTH])
    kinds = set(kinds or KINDS)
    if not folded or limit <= 0:
        return []
    compact = folded.replace(" ", "").upper()
    if re.fullmatch(r"\d[\dAB]\d{0,3}", compact):
        hits = _by_code(compact, kinds, limit)
    else:
        hits = _areas_by_name(folded, kinds)
        if "commune" in kinds:
            hits += _communes_by_name(folded, limit)
        if len(_unique(hits, limit)) < limit:
            hits += _fuzzy(folded, kinds, limit)
    return [hit.as_hit() for hit in _unique(hits, limit)]


# --- shapes and distances ---------------------------------------------------------------------

@lru_cache(maxsize=256)
def _shape(kind: str, code: str) -> BaseGeometry | None:
    model = Department if kind == "dep" else Region
    row = db.session.execute(select(model.geometry).where(model.code == code)).first()
    if row is None:
        raise TerritoryError(f"Territoire inconnu : {kind}:{code}")
    return shape(row.geometry) if row.geometry else None


def shape_of(ref: str) -> BaseGeometry | None:
    """The polygon of a department or region (None for a commune, France, or a COM without polygon)."""
    kind, code = parse_ref(ref)
    return _shape(kind, code) if kind in {"dep", "reg"} else None


def point_of_commune(code: str) -> tuple[float, float] | None:
    """(latitude, longitude) of the commune's centre; None for the 7 communes without a known point."""
    row = db.session.execute(select(Commune.latitude, Commune.longitude).where(Commune.code == code.upper())).first()
    if row is None:
        raise TerritoryError(f"Territoire inconnu : commune:{code}")
    return None if row.latitude is None or row.longitude is None else (row.latitude, row.longitude)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the WGS84 mean radius."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


# --- containment of references (a place within a territory) ----------------------------------

def refs_containing(ref: str) -> list[str]:
    """Every reference that contains the territory, itself included, up to France: commune:59350 →
    [commune:59350, dep:59, reg:32, country:FR]; an arrondissement municipal is also inside its commune."""
    territory = resolve(ref)
    if territory.kind == "country":
        return [FRANCE.ref]
    if territory.kind == "reg":
        return [territory.ref, FRANCE.ref]
    if territory.kind == "dep":
        region = db.session.scalar(select(Department.region_code).where(Department.code == territory.code))
        return [territory.ref, f"reg:{region}", FRANCE.ref]
    row = db.session.execute(select(Commune.department_code, Commune.region_code, Commune.parent_code)
                             .where(Commune.code == territory.code)).one()
    parent = [f"commune:{row.parent_code}"] if row.parent_code else []
    return [territory.ref, *parent, f"dep:{row.department_code}", f"reg:{row.region_code}", FRANCE.ref]


@lru_cache(maxsize=1)  # the 45 arrondissements of Paris, Lyon and Marseille: reference data, fixed per process
def _arrondissements() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for code, parent in db.session.execute(select(Commune.code, Commune.parent_code)
                                           .where(Commune.parent_code.is_not(None)).order_by(Commune.code)):
        found[parent] = found.get(parent, ()) + (code,)
    return found


def inside(column: Any, ref: str) -> Any:
    """A SQL condition: the reference held in `column` (a place such as a tender's) names a territory lying
    within `ref`, itself included — a commune of the department, a department of the region, an arrondissement
    of the commune; anything placed for country:FR. The subqueries read the commune table's indexes."""
    territory = resolve(ref)
    if territory.kind == "country":
        return column.is_not(None)
    if territory.kind == "commune":
        return column.in_([territory.ref, *(f"commune:{code}" for code in _arrondissements().get(territory.code, ()))])
    communes = select(func.concat("commune:", Commune.code))
    if territory.kind == "dep":
        return or_(column == territory.ref, column.in_(communes.where(Commune.department_code == territory.code)))
    departments = select(func.concat("dep:", Department.code)).where(Department.region_code == territory.code)
    return or_(column == territory.ref, column.in_(departments),
               column.in_(communes.where(Commune.region_code == territory.code)))
