"""The structure query shared by the page, the API, the structure adapter and the exports.

`parse_query(args)` reads request arguments (a MultiDict or a plain dict) into a `StructureQuery`,
raising `QueryError(param, message, allowed)` on a bad value, and keeps what it looked up (the territory's
coverage rule, the `near` commune) in `query.resolved`; `resolved(query)` gives that `Resolution` (looking
up only what a query built by hand lacks), and both backends translate it without lookups of their own
(search.structures). Unless `literal=1`, the text is read first (search.reading): a place typed among the
words becomes the "can work at" territory when none is chosen, and a SIRET typed with spaces its digits;
the `Reading` stays on the query so the page and the API can say what was understood.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Mapping

from ..core.identifiers import is_digits, parse_int
from ..reference.models import Sector
from ..suppliers.models import EnvLabel, ServiceKind, SizeBand, StructureKind

if TYPE_CHECKING:
    from ..geo.coverage import Coverage, Place
    from .reading import Reading

MAX_QUERY_LENGTH = 200
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_RADIUS_KM = 500
SORTS = ("relevance", "distance", "name")
TERRITORY_MODES = ("covers", "located")
#: facets computed on every search (counts over the filtered result set)
FACETS = ("kinds", "sectors", "env", "services", "size_band", "in_zrr", "has_references", "claimed")
#: deeper pages are refused (400) rather than asked of the engines
MAX_PAGE = 100_000
BOOL_VALUES = {"1": True, "true": True, "oui": True, "on": True, "0": False, "false": False, "non": False, "": None}


class QueryError(ValueError):
    """A bad search parameter: names the parameter and, where it helps, the allowed values."""

    def __init__(self, param: str, message: str, allowed: list[str] | None = None):
        super().__init__(message)
        self.param = param
        self.message = message
        self.allowed = allowed or []

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": "Paramètre invalide", "parameter": self.param, "message": self.message}
        if self.allowed:
            body["allowed"] = self.allowed
        return body


@dataclass(frozen=True)
class StructureQuery:
    q: str = ""
    kinds: tuple[str, ...] = ()
    #: sector ids
    sectors: tuple[int, ...] = ()
    #: "commune:59350" | "dep:59" | "reg:32"
    territory: str | None = None
    #: "covers": the structure can work there (its area covers it); "located": it is based there
    territory_mode: str = "covers"
    #: commune reference; with radius_km: structures located within that distance of its centre
    near: str | None = None
    radius_km: int | None = None
    env: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    size_bands: tuple[str, ...] = ()
    #: located in a ZRR (or FRR) commune
    zrr: bool | None = None
    has_references: bool | None = None
    claimed: bool | None = None
    sort: str = "relevance"
    #: the sort was not asked: "distance" because a place is set (not repeated in URLs)
    default_sort: bool = False
    #: search the words as typed, with no place or identifier read in them
    literal: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    facets: bool = True
    #: what parse_query looked up (kept through `replace`, checked against the fields by `resolved()`)
    resolved: "Resolution | None" = field(default=None, compare=False, repr=False)
    #: what was read in the typed text (None for a literal search or a query built by hand)
    reading: "Reading | None" = field(default=None, compare=False, repr=False)

    @property
    def read_territory(self) -> bool:
        """The territory was read in the text rather than chosen."""
        return bool(self.reading and self.reading.territory and self.reading.territory.ref == self.territory)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def with_page(self, page: int, per_page: int | None = None) -> "StructureQuery":
        return replace(self, page=page, per_page=per_page or self.per_page)

    def to_args(self) -> list[tuple[str, str]]:
        """The query as GET arguments (for shareable URLs and pagination links)."""
        args: list[tuple[str, str]] = []
        typed = self.reading.typed if self.reading else self.q
        if typed:  # the text as typed: read again, it gives the same place
            args.append(("q", typed))
        if self.literal:
            args.append(("literal", "1"))
        args += [("kind", k) for k in self.kinds] + [("sector", str(s)) for s in self.sectors]
        if self.territory and not self.read_territory:
            args += [("territory", self.territory), ("territory_mode", self.territory_mode)]
        if self.near:
            args.append(("near", self.near))
            if self.radius_km:
                args.append(("radius_km", str(self.radius_km)))
        args += [("env", e) for e in self.env] + [("service", s) for s in self.services]
        args += [("size", s) for s in self.size_bands]
        for name in ("zrr", "has_references", "claimed"):
            value = getattr(self, name)
            if value is not None:
                args.append((name, "1" if value else "0"))
        if self.sort != "relevance" and not self.default_sort:
            args.append(("sort", self.sort))
        return args


def _values(args: Mapping, name: str) -> list[str]:
    """Repeated parameters and comma-separated lists are both accepted: kind=EI&kind=ACI or kind=EI,ACI."""
    raw = args.getlist(name) if hasattr(args, "getlist") else ([args[name]] if name in args else [])
    if raw and isinstance(raw[0], (list, tuple)):
        raw = list(raw[0])
    return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]


def _choices(args: Mapping, name: str, allowed: list[str]) -> tuple[str, ...]:
    values = _values(args, name)
    for value in values:
        if value not in allowed:
            raise QueryError(name, f"Valeur inconnue pour « {name} » : {value}", allowed)
    return tuple(dict.fromkeys(values))


def _int(args: Mapping, name: str, default: int | None, low: int, high: int) -> int | None:
    values = _values(args, name)
    if not values:
        return default
    number = parse_int(values[0])
    if number is None:
        raise QueryError(name, f"« {name} » doit être un nombre entier écrit en chiffres (0-9).")
    if not low <= number <= high:
        raise QueryError(name, f"« {name} » doit être compris entre {low} et {high}.")
    return number


def _bool(args: Mapping, name: str) -> bool | None:
    values = _values(args, name)
    if not values:
        return None
    if values[0].lower() not in BOOL_VALUES:
        raise QueryError(name, f"« {name} » attend 1 ou 0.", ["1", "0"])
    return BOOL_VALUES[values[0].lower()]


@lru_cache(maxsize=1)  # the sector taxonomy is reference data, fixed while a process runs
def _sector_ids() -> frozenset[int]:
    from ..extensions import db

    return frozenset(db.session.execute(db.select(Sector.id)).scalars())


def _reject_control_characters(args: Mapping) -> None:
    """NUL and other control characters never reach PostgreSQL or Meilisearch: a 400 naming the parameter."""
    items = args.items(multi=True) if hasattr(args, "getlist") else args.items()
    for name, value in items:
        if isinstance(value, str) and any(ord(char) < 32 and char != "\t" for char in value):
            raise QueryError(name, f"« {name} » contient des caractères non autorisés.")


def parse_query(args: Mapping, sector_ids: set[int] | None = None, max_per_page: int = MAX_PER_PAGE) -> StructureQuery:
    """Validate every parameter; territory references are checked against the database."""
    from ..geo.services import TerritoryError, resolve
    from .reading import read

    _reject_control_characters(args)
    q = " ".join(_values(args, "q")) if "q" in args else ""
    if len(q) > MAX_QUERY_LENGTH:
        raise QueryError("q", f"La recherche est limitée à {MAX_QUERY_LENGTH} caractères.")
    literal = bool(_bool(args, "literal"))
    if sector_ids is None:
        sector_ids = _sector_ids()
    sectors: list[int] = []
    for value in _values(args, "sector"):
        if not is_digits(value) or len(value) > 9 or int(value) not in sector_ids:
            raise QueryError("sector", f"Secteur inconnu : {value}", [str(s) for s in sorted(sector_ids)])
        sectors.append(int(value))

    def territory_ref(name: str, kinds: set[str]) -> str | None:
        values = _values(args, name)
        if not values:
            return None
        try:
            territory = resolve(values[0])
        except TerritoryError as error:
            raise QueryError(name, str(error)) from None
        if territory.kind not in kinds:
            raise QueryError(name, f"« {name} » attend une référence de type {', '.join(sorted(kinds))}.")
        return territory.ref

    territory = territory_ref("territory", {"commune", "dep", "reg"})
    near = territory_ref("near", {"commune"})
    mode = (_choices(args, "territory_mode", list(TERRITORY_MODES)) or ("covers",))[0]
    radius = _int(args, "radius_km", 30 if near else None, 1, MAX_RADIUS_KM)
    reading = None if literal or not q.strip() else read(q, places=not (territory or near))
    if reading and reading.territory:
        territory, mode = reading.territory.ref, "covers"
    asked = _choices(args, "sort", list(SORTS))
    # a place set and no sort asked: the nearest first
    sort = asked[0] if asked else ("distance" if territory or near else "relevance")
    if sort == "distance" and not (near or territory):
        raise QueryError("sort", "Le tri par distance demande un lieu : une commune de référence (paramètre "
                                 "« near ») ou un territoire (paramètre « territory »).")
    query = StructureQuery(
        q=reading.words.strip() if reading else q.strip(),
        literal=literal,
        reading=reading,
        default_sort=not asked,
        kinds=_choices(args, "kind", [k.value for k in StructureKind]),
        sectors=tuple(dict.fromkeys(sectors)),
        territory=territory,
        territory_mode=mode,
        near=near,
        radius_km=radius if near else None,
        env=_choices(args, "env", [e.value for e in EnvLabel]),
        services=_choices(args, "service", [s.value for s in ServiceKind]),
        size_bands=_choices(args, "size", [s.value for s in SizeBand]),
        zrr=_bool(args, "zrr"),
        has_references=_bool(args, "has_references"),
        claimed=_bool(args, "claimed"),
        sort=sort,
        page=_int(args, "page", 1, 1, MAX_PAGE) or 1,
        per_page=_int(args, "per_page", DEFAULT_PER_PAGE, 1, max_per_page) or DEFAULT_PER_PAGE,
    )
    return replace(query, resolved=resolve_query(query))


@dataclass(frozen=True)
class Resolution:
    """Everything a query's translation needs that is not in its own fields: looked up once, in geo."""

    #: the fields it was resolved for: a `replace` that changes them makes it stale
    territory: str | None
    territory_mode: str
    near: str | None
    #: "covers" mode: the geo rule the area must satisfy
    coverage: "Coverage | None" = None
    #: "located" mode: (kind, code) of the territory the structure must be based in
    located: tuple[str, str] | None = None
    #: the `near` commune
    near_place: "Place | None" = None
    #: the territory's centre, the distance order's origin without `near` (geo.places.centre)
    territory_centre: tuple[float, float] | None = None
    #: "covers" a department or region: (kind, code) of it, the structures based there are ranked first
    based_first: tuple[str, str] | None = None

    def fits(self, query: StructureQuery) -> bool:
        return (self.territory, self.territory_mode, self.near) == (query.territory, query.territory_mode, query.near)

    @property
    def point(self) -> tuple[float, float] | None:
        """The centre of the `near` commune (None without `near`, or for a commune without a known centre)."""
        return self.near_place.point if self.near_place else None

    @property
    def sort_point(self) -> tuple[float, float] | None:
        """Where "distance" counts from: the `near` commune, else the territory's centre."""
        return self.point if self.near_place else self.territory_centre

    @property
    def distance_point(self) -> tuple[float, float] | None:
        """Where the distance shown on a hit counts from: the `near` commune, else a commune territory."""
        if self.near_place:
            return self.point
        return self.territory_centre if self.territory and self.territory.startswith("commune:") else None

    @property
    def impossible(self) -> bool:
        """Near a commune without a known centre: nothing can match."""
        return self.near_place is not None and self.near_place.point is None

    def with_distance(self, hit: dict[str, Any]) -> dict[str, Any]:
        """Add "distance_km" from the query's point: the same haversine for both backends, rounded to 0.1 km."""
        from ..geo.services import haversine_km

        point = self.distance_point
        hit.pop("_geoDistance", None)
        if point and hit.get("latitude") is not None and hit.get("longitude") is not None:
            hit["distance_km"] = round(haversine_km(point[0], point[1], hit["latitude"], hit["longitude"]), 1)
        return hit


def resolve_query(query: StructureQuery) -> Resolution:
    """Look up the territory's coverage rule (or where "located" points) and the `near` commune."""
    from ..geo.coverage import coverage_of, place
    from ..geo.places import centre
    from ..geo.services import parse_ref

    coverage = located = near_place = centre_point = based_first = None
    if query.territory:
        centre_point = centre(query.territory)
        if query.territory_mode == "located":
            located = parse_ref(query.territory)
        else:
            coverage = coverage_of(query.territory)
            if parse_ref(query.territory)[0] in {"dep", "reg"}:
                based_first = parse_ref(query.territory)
    if query.near:
        near_place = place(parse_ref(query.near)[1])
    return Resolution(query.territory, query.territory_mode, query.near, coverage, located, near_place,
                      centre_point, based_first)


def resolved(query: StructureQuery) -> Resolution:
    """The query's resolution: the one parse_query kept when it still fits, else looked up now."""
    if query.resolved is not None and query.resolved.fits(query):
        return query.resolved
    return resolve_query(query)


def with_resolution(query: StructureQuery) -> StructureQuery:
    """The same query carrying its resolution, so every backend it is handed to reads the same one."""
    resolution = resolved(query)
    return query if resolution is query.resolved else replace(query, resolved=resolution)
