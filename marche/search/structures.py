"""The structure adapter: how inclusive structures are indexed, filtered, faceted and sorted, in
Meilisearch and in SQL, for the engine (`indexer`, `meili_backend`, `sql_backend`, `service`).

A pure translator of a resolved `StructureQuery`: the territory's coverage rule and the `near` point
come resolved (search.query.resolved, looked up in geo); the Meilisearch filters mirror the SQL
conditions clause for clause, and tests run the same queries through both.

Text in SQL: every folded word must match a word of `structure.search_text` or of the structure's sector
names as Meilisearch would (search.typos: same typo budget, last word as a prefix). Distances: the same
haversine in both, with an `earth_box` prefilter in SQL so the GiST index on ll_to_earth(latitude,
longitude) does the rough cut.
"""
from __future__ import annotations

import math
from datetime import date
from functools import lru_cache
from typing import Any, Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from ..core.text import normalize_search
from ..extensions import db
from ..geo.coverage import Coverage, CoversCommune
from ..geo.models import Commune
from ..geo.services import EARTH_RADIUS_KM
from ..reference.models import Sector
from ..suppliers.models import AreaKind, Publication, Structure
from ..suppliers.services import STRUCTURES_CHANGED
from . import indexer, service
from .document_types import BooleanFacet, DocumentType, GroupedFacet, SearchResult
from .documents import structure_document, version_of
from .meili_backend import any_of, is_true, quote
from .query import FACETS, Resolution, StructureQuery, resolved, with_resolution
from .sql_backend import Where
from .typos import vocabulary_pattern_sql, word_pattern, word_pattern_sql

INDEX = "structures"
ZRR_STATUSES = ("C", "PC")

SETTINGS = {
    # order matters: a match in the name ranks above one in the description
    "searchableAttributes": ["display_name", "name", "brand", "sector_names", "city", "description", "siret"],
    "filterableAttributes": ["kinds", "sectors", "env", "services", "size_band", "in_zrr", "has_references",
                             "claimed", "commune", "department", "region", "area_kind", "area_radius_km",
                             "area_refs", "area_departments", "area_regions", "_geo"],
    "sortableAttributes": ["display_name", "_geo", "sector_rank"],
    "typoTolerance": {"enabled": True},
    # an asked sort comes first, relevance orders what it leaves tied (as the SQL fallback's ORDER BY):
    # "by distance" means nearest first, not nearest among the best-matching words
    "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
    # exact counts for every filtered search (the default stops counting at 1 000)
    "pagination": {"maxTotalHits": 200_000},
    # the 154 sectors must all come back as facet values
    "faceting": {"maxValuesPerFacet": 200},
}

#: typos translated for the text of structures: a second typo multiplies the pattern by ~20 (500
#: alternatives for a 9-letter word, seconds per query), for the rare long word misspelt twice
MAX_SQL_TYPOS = 1
#: earth_box works on earthdistance's sphere (6 378 168 m), ours is the WGS84 mean radius: widen the box a
#: little so it never cuts a point the exact haversine keeps
BOX_MARGIN = 1.01
#: degrees of latitude per km along a meridian (the shortest way to change latitude), with the same margin
DEGREES_PER_KM = 180 / (math.pi * EARTH_RADIUS_KM) * BOX_MARGIN
#: Meilisearch's boxes around a distance are a tenth larger again: they only spare it exact distances, so
#: room costs nothing, and it covers any other radius of the Earth the engine may measure with
GEO_BOX_MARGIN = 1.1

SIZE_BAND_SQL = ("CASE WHEN {c} IS NULL THEN NULL WHEN {c} < 10 THEN 'lt10' WHEN {c} < 50 THEN '10_49' "
                 "WHEN {c} < 250 THEN '50_249' ELSE 'gte250' END")
ZRR_STATUSES_SQL = "('" + "', '".join(ZRR_STATUSES) + "')"
IN_ZRR_SQL = "EXISTS (SELECT 1 FROM commune c WHERE c.code = {t}.commune_code AND c.zrr_status IN " + ZRR_STATUSES_SQL + ")"
#: the words of structure.search_text as the regular expressions' word boundaries (\m, \M) cut them, read
#: through the GIN index ix_structure_search_words (the same expression); structure_word is their vocabulary
WORDS_SQL = r"regexp_split_to_array({t}.search_text, '\W+')"
HAS_REFERENCES_SQL = "EXISTS (SELECT 1 FROM client_reference r WHERE r.structure_id = {t}.id)"


# --- rows and documents -----------------------------------------------------------------------------

def load_structures(session: Session, ids: Iterable[int]) -> list[Structure]:
    return list(session.execute(
        # a profile waiting for verification (or refused) is not in the directory: never indexed
        select(Structure).where(Structure.id.in_(list(ids)), Structure.publication == Publication.PUBLISHED)
        .order_by(Structure.id)
        .options(selectinload(Structure.sectors), selectinload(Structure.inferred_sectors),
                 selectinload(Structure.env_commitments),
                 selectinload(Structure.references))).scalars())


def zrr_communes(session: Session, codes: Iterable[str | None]) -> set[str]:
    """Which of these communes are (even partly) in a ZRR."""
    wanted = {code for code in codes if code}
    if not wanted:
        return set()
    return set(session.execute(select(Commune.code).where(Commune.code.in_(wanted),
                                                          Commune.zrr_status.in_(ZRR_STATUSES))).scalars())


# --- Meilisearch translation ------------------------------------------------------------------------

def _geo_radius(point: tuple[float, float], km: float) -> str:
    return f"_geoRadius({point[0]}, {point[1]}, {int(km * 1000)})"


def _geo_box(point: tuple[float, float], km: float) -> str | None:
    """A box holding every point within `km` of `point`, with room to spare: a superset that Meilisearch
    reads from its latitude and longitude facets (~0.1 ms, where a _geoRadius costs ~2.5 ms whatever it
    finds). None near a pole or across the antimeridian, where a box would be wrong."""
    latitude, longitude = point
    half_height = km * DEGREES_PER_KM * GEO_BOX_MARGIN
    top, bottom = latitude + half_height, latitude - half_height
    if top >= 85 or bottom <= -85:
        return None
    # a parallel shrinks towards the poles: the box is widest where it is furthest from the equator
    half_width = half_height / math.cos(math.radians(max(abs(top), abs(bottom))))
    if longitude + half_width >= 180 or longitude - half_width <= -180:
        return None
    return f"_geoBoundingBox([{top:.6f}, {longitude + half_width:.6f}], [{bottom:.6f}, {longitude - half_width:.6f}])"


def _near_clauses(point: tuple[float, float], km: float) -> list[str]:
    """Within `km` of `point`: the cheap box first, so that Meilisearch, which stops an AND as soon as what
    it holds is empty, skips the costly exact distance when nothing else matches in the box."""
    box = _geo_box(point, km)
    return ([box] if box else []) + [_geo_radius(point, km)]


def _meili_coverage(rule: Coverage, others: list[str]) -> str:
    """geo's coverage rule as a filter. A commune: whole country, listed commune / department / region,
    or a radius — radii are restricted to the rule's choices, so one _geoRadius per choice is exact.

    Each radius option repeats `others`, the query's other (cheap) filters, before its box and its
    distance: Meilisearch evaluates a _geoRadius over the whole index whatever precedes it, unless the
    AND it sits in is already empty. A selective search (a kind and a sector, say) then computes no
    distance at all, and the answer is unchanged (A AND (B OR (A AND C)) is A AND (B OR C))."""
    if not isinstance(rule, CoversCommune):
        return f"{'area_departments' if rule.kind == 'dep' else 'area_regions'} = {quote(rule.code)}"
    options = [f"area_kind = {quote(AreaKind.COUNTRY)}", any_of("area_refs", rule.place.refs)]
    if rule.place.point:
        options += ["(" + " AND ".join([*others, f"area_kind = {quote(AreaKind.RADIUS)}", f"area_radius_km = {radius}",
                                        *_near_clauses(rule.place.point, radius)]) + ")"
                    for radius in rule.radii]
    return "(" + " OR ".join(options) + ")"


def _meili_located(kind: str, code: str) -> str:
    attribute = {"commune": "commune", "dep": "department", "reg": "region"}[kind]
    return f"{attribute} = {quote(code)}"


def meili_filters(query: StructureQuery, resolution: Resolution) -> list[str] | None:
    """The filter expressions, ANDed; None when nothing can match (a `near` commune without a centre)."""
    if resolution.impossible:
        return None
    clauses: list[str] = []
    for attribute, values in (("kinds", query.kinds), ("sectors", query.sectors), ("env", query.env),
                              ("services", query.services), ("size_band", query.size_bands)):
        if values:
            clauses.append(any_of(attribute, values))
    if resolution.located:
        clauses.append(_meili_located(*resolution.located))
    for attribute, value in (("in_zrr", query.zrr), ("has_references", query.has_references),
                             ("claimed", query.claimed)):
        if value is not None:
            clauses.append(is_true(attribute, value))
    near = _near_clauses(resolution.point, query.radius_km or 0) if resolution.point else []
    if resolution.coverage:
        # the cheap filters (and the `near` box, not its distance) gate each of the coverage's distances
        clauses.append(_meili_coverage(resolution.coverage, clauses + near[:-1]))
    return clauses + near


def tiered(query: StructureQuery, resolution: Resolution) -> bool:
    """Ordered by distance to a department or region it "can work at": those based there come first."""
    return query.sort == "distance" and not resolution.near_place and resolution.based_first is not None


def meili_tiers(query: StructureQuery, resolution: Resolution) -> list[str] | None:
    """Filters splitting the matches into parts shown one after the other (each in the query's sort)."""
    if not tiered(query, resolution):
        return None
    kind, code = resolution.based_first
    attribute = "department" if kind == "dep" else "region"
    return [f"{attribute} = {quote(code)}", f"NOT {attribute} = {quote(code)}"]


def meili_sort(query: StructureQuery, resolution: Resolution) -> list[str] | None:
    """The sort comes before the words' relevance (SETTINGS' rankingRules), as in SQL."""
    if query.sort == "name":
        return ["display_name:asc"]
    declared = ["sector_rank:desc"] if query.sectors else []  # declared sectors before deduced ones
    point = resolution.sort_point
    if query.sort == "distance" and point:
        return [f"_geoPoint({point[0]}, {point[1]}):asc"] + declared
    return declared or None


# --- SQL translation --------------------------------------------------------------------------------

def haversine_sql(lat: str, lng: str) -> str:
    """Great-circle km from the point bound as (:lat, :lng) to s.latitude/s.longitude (as geo.services)."""
    return (f"(2 * {EARTH_RADIUS_KM} * asin(least(1.0, sqrt("
            f"power(sin(radians(s.latitude - :{lat}) / 2), 2) + cos(radians(:{lat})) * cos(radians(s.latitude)) * "
            f"power(sin(radians(s.longitude - :{lng}) / 2), 2)))))")


@lru_cache(maxsize=1)  # sectors are reference data, fixed while a process runs
def _folded_sectors() -> tuple[tuple[int, str], ...]:
    return tuple((sector_id, normalize_search(name))
                 for sector_id, name in db.session.execute(db.select(Sector.id, Sector.name).order_by(Sector.id)))


@lru_cache(maxsize=1024)
def _sectors_matching(word: str, prefix: bool) -> tuple[int, ...]:
    """Sectors with a word of their name that Meilisearch would match (154 rows: done in Python)."""
    pattern = word_pattern(word, prefix)
    return tuple(sector_id for sector_id, name in _folded_sectors() if pattern.search(name))


def _has_substring(pattern: str) -> bool:
    return bool(db.session.execute(text("SELECT EXISTS (SELECT 1 FROM structure WHERE search_text LIKE :p)"),
                                   {"p": pattern}).scalar())


def _holds_word(table: str, pattern: str) -> str:
    """The table's search text holds a word of the vocabulary that the bound regular expression matches."""
    return f"{WORDS_SQL.format(t=table)} && ARRAY(SELECT word FROM structure_word WHERE word ~ :{pattern})"


def _text(where: Where, q: str) -> None:
    """Every word must match, as Meilisearch matches it (search.typos): a word of the name, brand, city,
    SIRET or description, or of a sector's name, within the word's typo budget; the last word may also
    be the start of a word. A sector is pulled in only by a word of its own name, never by a resemblance.
    Each part is an id set read through its index (GIN on the words of search_text, structure_sector's keys)."""
    words = normalize_search(q).split()
    for position, word in enumerate(words):
        prefix = position == len(words) - 1
        pattern = None
        if word.isascii() and word.isalnum():
            # the words of the vocabulary that match, then the structures holding one (both through an
            # index): a regular expression over ~20 000 short words rather than over thousands of texts
            pattern = where.param(vocabulary_pattern_sql(word, prefix, MAX_SQL_TYPOS))
            parts = [f"SELECT id FROM structure WHERE {_holds_word('structure', pattern)}"]
        else:  # a word with a dot or a comma in it spans words of the text: matched in the text itself
            parts = [f"SELECT id FROM structure WHERE search_text ~ "
                     f":{where.param(word_pattern_sql(word, prefix, MAX_SQL_TYPOS))}"]
        sectors = _sectors_matching(word, prefix)
        if sectors:
            parts.append("SELECT structure_id FROM structure_sector "
                         f"WHERE sector_id = ANY(CAST(:{where.param(list(sectors))} AS int[]))")
            # IN, not = ANY(ARRAY(...)): combined with another indexed filter, the array would be searched
            # row by row (measured: 2 to 4 times slower on text + type + territory)
            where.add("s.id IN (" + " UNION ".join(parts) + ")")
        elif pattern:  # the words alone: read through the index on `s` itself, no second visit of the rows
            where.add(_holds_word("s", pattern))
        else:
            where.add("s.id IN (" + parts[0] + ")")
        if not where.fuzzy:
            like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            # a word found nowhere as written is a typo: rank by similarity rather than by position
            where.fuzzy = not _has_substring(like)


def _sql_coverage(where: Where, rule: Coverage) -> None:
    """geo's coverage rule as SQL, mirror of _meili_coverage (radii outside the rule's choices are
    ignored in both)."""
    if not isinstance(rule, CoversCommune):
        column = "area_departments" if rule.kind == "dep" else "area_regions"
        where.add(f"s.{column} @> CAST(:{where.param([rule.code])} AS varchar[])")
        return
    options = [f"s.area_kind = '{AreaKind.COUNTRY}'", where.any_of("s.area_refs", rule.place.refs)]
    if rule.place.point:
        lat, lng = where.param(rule.place.point[0]), where.param(rule.place.point[1])
        # no point further than its radius in latitude alone is within it: a subtraction spares most
        # structures of the country the distance's trigonometry
        near_latitude = f"abs(s.latitude - :{lat}) <= s.area_radius_km * :{where.param(DEGREES_PER_KM)}"
        options.append(f"(s.area_kind = '{AreaKind.RADIUS}' AND s.area_radius_km = ANY(CAST(:"
                       f"{where.param(list(rule.radii))} AS int[])) AND {near_latitude} "
                       f"AND {haversine_sql(lat, lng)} <= s.area_radius_km)")
    where.add("(" + " OR ".join(options) + ")")


def _sql_located(where: Where, kind: str, code: str) -> None:
    column = {"commune": "commune_code", "dep": "department_code", "reg": "region_code"}[kind]
    where.add(f"s.{column} = :{where.param(code)}")


def _near(where: Where, point: tuple[float, float], radius_km: int) -> None:
    lat, lng = where.param(point[0]), where.param(point[1])
    box = where.param(radius_km * 1000 * BOX_MARGIN)
    where.add(f"earth_box(ll_to_earth(:{lat}, :{lng}), :{box}) @> ll_to_earth(s.latitude, s.longitude)")
    where.add(f"{haversine_sql(lat, lng)} <= :{where.param(radius_km)}")


#: the condition every search carries: only published profiles are found (as only they are indexed)
VISIBLE_SQL = f"s.publication = '{Publication.PUBLISHED}'"


def sql_where(query: StructureQuery, resolution: Resolution, today: date) -> Where | None:
    """The conditions on `structure s`; None when nothing can match (a `near` commune without a centre)."""
    if resolution.impossible:
        return None
    where = Where()
    where.add(VISIBLE_SQL)  # as the index, which holds published profiles only
    if query.q:
        _text(where, query.q)
    if query.kinds:
        where.add(where.any_of("s.kinds", query.kinds), facet="kinds")
    if query.sectors:
        where.add("EXISTS (SELECT 1 FROM structure_sector ss WHERE ss.structure_id = s.id "
                  f"AND ss.sector_id = ANY(CAST(:{where.param(list(query.sectors))} AS int[])))", facet="sectors")
    if query.env:
        where.add("EXISTS (SELECT 1 FROM env_commitment e WHERE e.structure_id = s.id "
                  f"AND e.label = ANY(CAST(:{where.param(list(query.env))} AS varchar[])) "
                  f"AND (e.expires_on IS NULL OR e.expires_on >= :{where.param(today)}))", facet="env")
    if query.services:
        where.add(where.any_of("s.service_kinds", query.services), facet="services")
    if query.size_bands:
        where.add(f"{SIZE_BAND_SQL.format(c='s.employees_count')} = ANY(CAST(:{where.param(list(query.size_bands))} "
                  "AS varchar[]))", facet="size_band")
    if resolution.coverage:
        _sql_coverage(where, resolution.coverage)
    if resolution.located:
        _sql_located(where, *resolution.located)
    if resolution.point:
        _near(where, resolution.point, query.radius_km or 0)
    for facet, sql, value in (("in_zrr", IN_ZRR_SQL, query.zrr), ("has_references", HAS_REFERENCES_SQL,
                                                                   query.has_references)):
        if value is not None:
            where.add(("" if value else "NOT ") + sql.format(t="s"), facet=facet)
    if query.claimed is not None:
        where.add(f"s.owner_organisation_id IS {'NOT ' if query.claimed else ''}NULL", facet="claimed")
    return where


#: the document's `sector_rank`: has the structure declared its sectors (rather than had them deduced)
#: (a scalar subquery, read through the key for each ranked row: as EXISTS the planner may hash all of
#: structure_sector, ~90 000 rows, to rank a few hundred)
DECLARED_SQL = ("coalesce((SELECT bool_or(NOT d.inferred) FROM structure_sector d WHERE d.structure_id = s.id), "
                "false)")


def _relevance(where: Where, query: StructureQuery) -> list[str]:
    # a search by sector shows the structures that declared their sectors before those deduced (as
    # Meilisearch, where the sort comes first: SETTINGS' rankingRules)
    order = [f"{DECLARED_SQL} DESC"] if query.sectors else []
    if query.q:
        folded = normalize_search(query.q)
        # the structure whose name starts with the query comes first, then the earliest matches
        # (the name comes first in search_text); similarity is computed only for typo searches
        order.append(f"(s.search_text LIKE :{where.param(folded + '%')}) DESC")
        if where.fuzzy:
            order.append(f"word_similarity(:{where.param(folded)}, s.search_text) DESC")
        else:
            # a structure matched through a sector name has no position (0): after the ones named so
            order.append(f"nullif(position(:{where.param(folded.split()[0])} in s.search_text), 0) NULLS LAST")
    return order


def _based_first_sql(where: Where, kind: str, code: str) -> str:
    column = "department_code" if kind == "dep" else "region_code"
    return f"(s.{column} = :{where.param(code)}) IS TRUE DESC"


def sql_order(where: Where, query: StructureQuery, resolution: Resolution) -> str | None:
    if query.sort == "name":
        return "lower(unaccent(coalesce(nullif(s.brand, ''), s.name))), s.id"
    point = resolution.sort_point
    if query.sort == "distance" and point:
        # "can work in the Nord": those based in the Nord first, each part nearest first, then by relevance
        tiers = [_based_first_sql(where, *resolution.based_first)] if tiered(query, resolution) else []
        distance = f"{haversine_sql(where.param(point[0]), where.param(point[1]))} NULLS LAST"
        return ", ".join(tiers + [distance] + _relevance(where, query) + ["s.id"])
    relevance = _relevance(where, query)
    return ", ".join(relevance + ["s.id"]) if relevance else None


#: how the SQL fallback counts each facet of FACETS over `f`, the filtered structures (arrays hold each
#: value once per structure, so plain counts are exact, with no DISTINCT sort)
SQL_FACETS = (
    GroupedFacet("kinds", "SELECT k, count(*) FROM f, unnest(f.kinds) AS k GROUP BY k"),
    GroupedFacet("sectors", "SELECT ss.sector_id, count(*) FROM f JOIN structure_sector ss ON ss.structure_id = f.id "
                            "GROUP BY ss.sector_id",
                 # every structure_sector row belongs to a structure (foreign key): no pass over structure,
                 # only the few unpublished ones left out (partial index ix_structure_unpublished)
                 every_row_sql="SELECT sector_id, count(*) FROM structure_sector WHERE structure_id NOT IN "
                               f"(SELECT id FROM structure WHERE publication <> '{Publication.PUBLISHED}') "
                               "GROUP BY sector_id"),
    GroupedFacet("env", "SELECT e.label, count(DISTINCT f.id) FROM f JOIN env_commitment e ON e.structure_id = f.id "
                        "WHERE e.expires_on IS NULL OR e.expires_on >= :today GROUP BY e.label"),
    GroupedFacet("services", "SELECT v, count(*) FROM f, unnest(f.service_kinds) AS v GROUP BY v"),
    GroupedFacet("size_band", f"SELECT b, count(*) FROM (SELECT {SIZE_BAND_SQL.format(c='f.employees_count')} AS b "
                              "FROM f) AS sized WHERE b IS NOT NULL GROUP BY b"),
    BooleanFacet("in_zrr", "f.in_zrr"),
    BooleanFacet("has_references", HAS_REFERENCES_SQL.format(t="f")),
    BooleanFacet("claimed", "f.owner_organisation_id IS NOT NULL"),
)


#: facet -> the StructureQuery field that filters on it: every facet is counted disjunctively
FACET_FILTERS = {"kinds": "kinds", "sectors": "sectors", "env": "env", "services": "services",
                 "size_band": "size_bands", "in_zrr": "zrr", "has_references": "has_references", "claimed": "claimed"}


# --- the adapter --------------------------------------------------------------------------------------

class StructureDocuments(DocumentType):
    name = INDEX
    label = "structures"
    query_type = StructureQuery
    settings = SETTINGS
    facets = FACETS
    change_kind = STRUCTURES_CHANGED
    table = "structure"
    #: with the point, so that the distance order ranks the filtered rows without reading the table again
    facet_columns = ("s.id, s.kinds, s.service_kinds, s.employees_count, s.owner_organisation_id, "
                     "zrr.code IS NOT NULL AS in_zrr, s.latitude, s.longitude")
    #: a join rather than a lookup per row: on a large set the planner hashes the ZRR communes once
    facet_joins = f"LEFT JOIN commune zrr ON zrr.code = s.commune_code AND zrr.zrr_status IN {ZRR_STATUSES_SQL}"
    sql_facets = SQL_FACETS
    facet_filters = FACET_FILTERS
    visible_sql = VISIBLE_SQL

    def load(self, session: Session, ids: Iterable[int]) -> list[Structure]:
        return load_structures(session, ids)

    def documents(self, session: Session, rows: list[Structure], today: date) -> list[dict[str, Any]]:
        """Only commitments still valid `today` count (structure_document)."""
        in_zrr = zrr_communes(session, (s.commune_code for s in rows))
        return [structure_document(s, today, s.commune_code in in_zrr) for s in rows]

    def versions(self, session: Session) -> dict[int, str | None]:
        return {id_: version_of(updated_at) for id_, updated_at in session.execute(
            select(Structure.id, Structure.updated_at).where(Structure.publication == Publication.PUBLISHED))}

    def prepared(self, query: StructureQuery) -> StructureQuery:
        return with_resolution(query)

    def resolution(self, query: StructureQuery) -> Resolution:
        return resolved(query)

    def finish_hit(self, hit: dict[str, Any], resolution: Resolution) -> dict[str, Any]:
        return resolution.with_distance(hit)

    meili_filters = staticmethod(meili_filters)
    meili_sort = staticmethod(meili_sort)
    meili_tiers = staticmethod(meili_tiers)
    sql_where = staticmethod(sql_where)
    sql_order = staticmethod(sql_order)


STRUCTURES = StructureDocuments()


# --- thin names for the rest of the application --------------------------------------------------------

def structures_index():
    """The Meilisearch index of structures (tests, scripts, the reindex command)."""
    return indexer.index_of(STRUCTURES)


def index_structures(session: Session, ids: list[int], wait: bool = False) -> list[int]:
    """Send the current state of these structures; ids that no longer exist leave the index."""
    return indexer.index_ids(STRUCTURES, session, ids, wait)


def search_structures(query: StructureQuery) -> SearchResult:
    return service.search(query)
