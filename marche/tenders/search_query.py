"""A tender search as a value: `TenderQuery`, read from GET arguments by `parse_tender_query`.

The same parser reads the search page, the API (`/api/v1/tenders/search`) and a saved search's stored
arguments (`tenders.watch`): a bad value is a `search.query.QueryError` naming the parameter (400 on the API,
a field error when a search is saved). `resolve_tender_query` looks up, once, what the engines need beyond
the fields: the territories the places must meet and the instant "not past its deadline" is measured at,
so Meilisearch and the SQL fallback translate the same thing (`tenders.search_documents`).

Places ("where I can work"). A tender's places are its own and its lots' (`commune:…`, `dep:…`, `reg:…`,
`country:FR`). `territory=<ref>` keeps a tender one of whose places lies within the territory, or contains
it (a tender over the whole Nord is work for a supplier of Lille). `structure=<id>` means "where this
structure can work": a place within one of the departments its area reaches (`area_departments`: a
commune place counts through its department), or containing one of them (its region, France); a structure
working in all France sees every tender. Territory and structure together must both hold.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping

from ..core.dates import PARIS
from ..core.identifiers import is_digits, parse_int
from ..search.query import (DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LENGTH, QueryError,
                            _choices, _int, _reject_control_characters, _sector_ids, _values)
from .models import TenderKind

#: a reservation asked for → the lot reservations that satisfy it (as `tenders.queries.RESERVATIONS`): a lot
#: reserved to both kinds together (L2113-14) is open to SIAE and to EA/ESAT
RESERVATIONS = {"siae": ("siae", "both"), "disability": ("disability", "both"), "both": ("both",)}
SORTS = ("deadline", "recent")
MAX_CPV = 20
#: a deadline stored as "none" (a published tender always has one; kept for robustness): never past
NO_DEADLINE_TS = 32_503_680_000  # 3000-01-01


def clause_codes() -> list[str]:
    from ..clauses.spec import CLAUSE_TYPES

    return list(CLAUSE_TYPES)


@dataclass(frozen=True)
class TenderQuery:
    q: str = ""
    #: CPV prefixes, digits only, 2 to 8 (« 45 »: every works code)
    cpv: tuple[str, ...] = ()
    sectors: tuple[int, ...] = ()
    #: a checked territory reference: the tender's places lie within it or contain it
    territory: str | None = None
    #: a structure id: where it can work (its area's departments)
    structure: int | None = None
    kinds: tuple[str, ...] = ()
    #: "siae" | "disability" | "both" (a lot's reservation, RESERVATIONS)
    reserved: tuple[str, ...] = ()
    clause_types: tuple[str, ...] = ()
    #: the buyer organisation's id
    buyer: int | None = None
    #: answers deadline on or after / on or before these days (Paris)
    deadline_after: date | None = None
    deadline_before: date | None = None
    published_after: date | None = None
    sort: str = "deadline"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    facets: bool = True
    #: restrict to these tender ids (the watch's digests: the new tenders only); never read from arguments
    ids: tuple[int, ...] | None = None
    #: what resolve_tender_query looked up (kept through `replace` when the place fields stay)
    resolved: "TenderResolution | None" = field(default=None, compare=False, repr=False)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def to_args(self) -> list[tuple[str, str]]:
        """The query as GET arguments: shareable URLs, pagination, saved searches."""
        args: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        args += [("cpv", c) for c in self.cpv] + [("sector", str(s)) for s in self.sectors]
        if self.territory:
            args.append(("territory", self.territory))
        if self.structure is not None:
            args.append(("structure", str(self.structure)))
        args += [("kind", k) for k in self.kinds] + [("reserved", r) for r in self.reserved]
        args += [("clause", c) for c in self.clause_types]
        if self.buyer is not None:
            args.append(("buyer", str(self.buyer)))
        for name in ("deadline_after", "deadline_before", "published_after"):
            value = getattr(self, name)
            if value is not None:
                args.append((name, value.isoformat()))
        if self.sort != "deadline":
            args.append(("sort", self.sort))
        return args


@dataclass(frozen=True)
class TenderResolution:
    #: the fields it was resolved for
    territory: str | None
    structure: int | None
    #: "now" as epoch seconds: a tender is found while its deadline is after it
    now_ts: int
    #: each place condition (territory, structure): (scope refs, contained refs); a tender matches one when
    #: a place lies within a scope ref (`place_scope`) or is one of the contained refs (`place_refs`)
    places: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    #: an unknown structure: nothing can match
    impossible: bool = False

    def fits(self, query: TenderQuery) -> bool:
        return (self.territory, self.structure) == (query.territory, query.structure)


def _date(args: Mapping, name: str) -> date | None:
    values = _values(args, name)
    if not values:
        return None
    try:
        return date.fromisoformat(values[0])
    except ValueError:
        raise QueryError(name, f"« {name} » attend une date AAAA-MM-JJ.") from None


def _cpv(args: Mapping) -> tuple[str, ...]:
    prefixes = []
    for value in _values(args, "cpv"):
        digits = value.split("-", 1)[0]
        if not is_digits(digits) or not 2 <= len(digits) <= 8:
            raise QueryError("cpv", f"« cpv » attend le début d'un code CPV, de 2 à 8 chiffres : {value[:20]}")
        prefixes.append(digits[:max(2, len(digits.rstrip("0")))])
    if len(prefixes) > MAX_CPV:
        raise QueryError("cpv", f"« cpv » : {MAX_CPV} codes au plus.")
    return tuple(dict.fromkeys(prefixes))


def _id(args: Mapping, name: str) -> int | None:
    values = _values(args, name)
    if not values:
        return None
    number = parse_int(values[0])
    if number is None or not 1 <= number <= 2_147_483_647:
        raise QueryError(name, f"« {name} » attend un identifiant (nombre entier positif).")
    return number


def parse_tender_query(args: Mapping, max_per_page: int = MAX_PER_PAGE) -> TenderQuery:
    """Validate every parameter (territories and the structure are checked against the database)."""
    from ..geo.services import TerritoryError, resolve

    _reject_control_characters(args)
    q = " ".join(_values(args, "q")) if "q" in args else ""
    if len(q) > MAX_QUERY_LENGTH:
        raise QueryError("q", f"La recherche est limitée à {MAX_QUERY_LENGTH} caractères.")
    sector_ids = _sector_ids()
    sectors = []
    for value in _values(args, "sector"):
        if not is_digits(value) or len(value) > 9 or int(value) not in sector_ids:
            raise QueryError("sector", f"Secteur inconnu : {value[:20]}")
        sectors.append(int(value))
    territory = None
    if _values(args, "territory"):
        try:
            territory = resolve(_values(args, "territory")[0]).ref
        except TerritoryError as error:
            raise QueryError("territory", str(error)) from None
    structure = _id(args, "structure")
    if structure is not None and _structure_area(structure) is None:
        raise QueryError("structure", f"Structure inconnue : {structure}")
    query = TenderQuery(
        q=q.strip(), cpv=_cpv(args), sectors=tuple(dict.fromkeys(sectors)), territory=territory, structure=structure,
        kinds=_choices(args, "kind", [k.value for k in TenderKind]),
        reserved=_choices(args, "reserved", list(RESERVATIONS)),
        clause_types=_choices(args, "clause", clause_codes()),
        buyer=_id(args, "buyer"),
        deadline_after=_date(args, "deadline_after"), deadline_before=_date(args, "deadline_before"),
        published_after=_date(args, "published_after"),
        sort=(_choices(args, "sort", list(SORTS)) or ("deadline",))[0],
        page=_int(args, "page", 1, 1, MAX_PAGE) or 1,
        per_page=_int(args, "per_page", DEFAULT_PER_PAGE, 1, max_per_page) or DEFAULT_PER_PAGE)
    return replace(query, resolved=resolve_tender_query(query))


def _structure_area(structure_id: int) -> tuple[str, list[str]] | None:
    """(area kind, departments) of a published structure; None when there is none."""
    from ..extensions import db
    from ..suppliers.models import Publication, Structure

    row = db.session.execute(db.select(Structure.area_kind, Structure.area_departments)
                             .where(Structure.id == structure_id,
                                    Structure.publication == Publication.PUBLISHED)).first()
    return None if row is None else (row.area_kind, list(row.area_departments or []))


def _place_condition(refs: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    from ..geo.coverage import enclosing_refs

    contained = sorted({ref for territory in refs for ref in enclosing_refs(territory)})
    return tuple(sorted(refs)), tuple(contained)


def resolve_tender_query(query: TenderQuery, now: datetime | None = None) -> TenderResolution:
    from ..suppliers.models import AreaKind

    now_ts = int((now or datetime.now(timezone.utc)).timestamp())
    places = []
    if query.territory:
        places.append(_place_condition([query.territory]))
    if query.structure is not None:
        area = _structure_area(query.structure)
        if area is None:
            return TenderResolution(query.territory, query.structure, now_ts, (), impossible=True)
        kind, departments = area
        if kind != AreaKind.COUNTRY:
            # a structure with no department at all can work nowhere we can place: nothing matches
            if not departments:
                return TenderResolution(query.territory, query.structure, now_ts, (), impossible=True)
            places.append(_place_condition([f"dep:{code}" for code in departments]))
    return TenderResolution(query.territory, query.structure, now_ts, tuple(places))


def tender_resolution(query: TenderQuery) -> TenderResolution:
    if query.resolved is not None and query.resolved.fits(query):
        return query.resolved
    return resolve_tender_query(query)


def day_start_ts(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=PARIS).timestamp())


def day_end_ts(day: date) -> int:
    """The last second of the day in Paris (a deadline « on or before » the day), summer time included."""
    return day_start_ts(day + timedelta(days=1)) - 1


def args_pairs(args: Any) -> list[tuple[str, str]]:
    """GET arguments (a MultiDict or a stored [[name, value], ...]) as pairs."""
    if hasattr(args, "items") and hasattr(args, "getlist"):
        return [(k, v) for k, v in args.items(multi=True)]
    return [(str(k), str(v)) for k, v in args]
