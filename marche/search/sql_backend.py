"""The PostgreSQL backend, used when Meilisearch is unreachable: same query, same filters, same result type.

Text: every folded word must match a word of `structure.search_text` or of the structure's sector names
as Meilisearch would (search.typos: same typo budget, last word as a prefix). Distances: the same haversine as the Meilisearch backend,
with an `earth_box` prefilter so the GiST index on ll_to_earth(latitude, longitude) does the rough cut.
"""
from __future__ import annotations

from functools import lru_cache
import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text

from ..core.text import normalize_search
from ..core import dates
from ..extensions import db
from ..geo.coverage import Coverage, CoversCommune
from ..geo.services import EARTH_RADIUS_KM
from ..reference.models import Sector
from ..suppliers.models import AreaKind
from .indexer import ZRR_STATUSES, documents, load_structures
from .query import FACETS, Resolution, SearchResult, StructureQuery, normalize_facets, resolved
from .typos import word_pattern, word_pattern_sql

#: typos translated for the text of structures: a second typo multiplies the pattern by ~20 (500
#: alternatives for a 9-letter word, seconds per query), for the rare long word misspelt twice
MAX_SQL_TYPOS = 1
#: earth_box works on earthdistance's sphere (6 378 168 m), ours is the WGS84 mean radius: widen the box a
#: little so it never cuts a point the exact haversine keeps
BOX_MARGIN = 1.01

SIZE_BAND_SQL = ("CASE WHEN {c} IS NULL THEN NULL WHEN {c} < 10 THEN 'lt10' WHEN {c} < 50 THEN '10_49' "
                 "WHEN {c} < 250 THEN '50_249' ELSE 'gte250' END")
IN_ZRR_SQL = ("EXISTS (SELECT 1 FROM commune c WHERE c.code = {t}.commune_code "
              "AND c.zrr_status IN ('" + "', '".join(ZRR_STATUSES) + "'))")
HAS_REFERENCES_SQL = "EXISTS (SELECT 1 FROM client_reference r WHERE r.structure_id = {t}.id)"


def haversine_sql(lat: str, lng: str) -> str:
    """Great-circle km from the point bound as (:lat, :lng) to s.latitude/s.longitude (as geo.services)."""
    return (f"(2 * {EARTH_RADIUS_KM} * asin(least(1.0, sqrt("
            f"power(sin(radians(s.latitude - :{lat}) / 2), 2) + cos(radians(:{lat})) * cos(radians(s.latitude)) * "
            f"power(sin(radians(s.longitude - :{lng}) / 2), 2)))))")


@dataclass
class Where:
    """ANDed SQL conditions on `structure s` with their bound parameters (unique names)."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    #: a word of the text was matched by similarity (a typo), so rank by similarity
    fuzzy: bool = False
    _names: Any = field(default_factory=itertools.count)

    def param(self, value: Any) -> str:
        name = f"p{next(self._names)}"
        self.params[name] = value
        return name

    def add(self, clause: str) -> None:
        self.clauses.append(clause)

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) or "true"


def _any_of(where: Where, column: str, values, sql_type: str = "varchar") -> str:
    return f"{column} && CAST(:{where.param(list(values))} AS {sql_type}[])"


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


def _text(where: Where, q: str) -> None:
    """Every word must match, as Meilisearch matches it (search.typos): a word of the name, brand, city,
    SIRET or description, or of a sector's name, within the word's typo budget; the last word may also
    be the start of a word. A sector is pulled in only by a word of its own name, never by a resemblance.
    Each part is an id set read through its index (GIN trigram on search_text, structure_sector's keys)."""
    words = normalize_search(q).split()
    for position, word in enumerate(words):
        prefix = position == len(words) - 1
        parts = [f"SELECT id FROM structure WHERE search_text ~ :{where.param(word_pattern_sql(word, prefix, MAX_SQL_TYPOS))}"]
        sectors = _sectors_matching(word, prefix)
        if sectors:
            parts.append("SELECT structure_id FROM structure_sector "
                         f"WHERE sector_id = ANY(CAST(:{where.param(list(sectors))} AS int[]))")
        where.add("s.id IN (" + " UNION ".join(parts) + ")")
        if not where.fuzzy:
            like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            # a word found nowhere as written is a typo: rank by similarity rather than by position
            where.fuzzy = not _has_substring(like)


def _coverage(where: Where, rule: Coverage) -> None:
    """geo's coverage rule as SQL, mirror of meili_backend._coverage (radii outside the rule's choices
    are ignored in both)."""
    if not isinstance(rule, CoversCommune):
        column = "area_departments" if rule.kind == "dep" else "area_regions"
        where.add(f"s.{column} @> CAST(:{where.param([rule.code])} AS varchar[])")
        return
    options = [f"s.area_kind = '{AreaKind.COUNTRY}'", _any_of(where, "s.area_refs", rule.place.refs)]
    if rule.place.point:
        lat, lng = where.param(rule.place.point[0]), where.param(rule.place.point[1])
        options.append(f"(s.area_kind = '{AreaKind.RADIUS}' AND s.area_radius_km = ANY(CAST(:"
                       f"{where.param(list(rule.radii))} AS int[])) AND {haversine_sql(lat, lng)} <= s.area_radius_km)")
    where.add("(" + " OR ".join(options) + ")")


def _located(where: Where, kind: str, code: str) -> None:
    column = {"commune": "commune_code", "dep": "department_code", "reg": "region_code"}[kind]
    where.add(f"s.{column} = :{where.param(code)}")


def _near(where: Where, point: tuple[float, float], radius_km: int) -> tuple[str, str]:
    lat, lng = where.param(point[0]), where.param(point[1])
    box = where.param(radius_km * 1000 * BOX_MARGIN)
    where.add(f"earth_box(ll_to_earth(:{lat}, :{lng}), :{box}) @> ll_to_earth(s.latitude, s.longitude)")
    where.add(f"{haversine_sql(lat, lng)} <= :{where.param(radius_km)}")
    return lat, lng


def build_where(query: StructureQuery, resolution: Resolution, today: date) -> Where:
    where = Where()
    if query.q:
        _text(where, query.q)
    if query.kinds:
        where.add(_any_of(where, "s.kinds", query.kinds))
    if query.sectors:
        where.add("EXISTS (SELECT 1 FROM structure_sector ss WHERE ss.structure_id = s.id "
                  f"AND ss.sector_id = ANY(CAST(:{where.param(list(query.sectors))} AS int[])))")
    if query.env:
        where.add("EXISTS (SELECT 1 FROM env_commitment e WHERE e.structure_id = s.id "
                  f"AND e.label = ANY(CAST(:{where.param(list(query.env))} AS varchar[])) "
                  f"AND (e.expires_on IS NULL OR e.expires_on >= :{where.param(today)}))")
    if query.services:
        where.add(_any_of(where, "s.service_kinds", query.services))
    if query.size_bands:
        where.add(f"{SIZE_BAND_SQL.format(c='s.employees_count')} = ANY(CAST(:{where.param(list(query.size_bands))} "
                  "AS varchar[]))")
    if resolution.coverage:
        _coverage(where, resolution.coverage)
    if resolution.located:
        _located(where, *resolution.located)
    if resolution.point:
        _near(where, resolution.point, query.radius_km or 0)
    for sql, value in ((IN_ZRR_SQL, query.zrr), (HAS_REFERENCES_SQL, query.has_references)):
        if value is not None:
            where.add(("" if value else "NOT ") + sql.format(t="s"))
    if query.claimed is not None:
        where.add(f"s.owner_organisation_id IS {'NOT ' if query.claimed else ''}NULL")
    return where


def _order(where: Where, query: StructureQuery, point: tuple[float, float] | None) -> str:
    if query.sort == "name":
        return "lower(unaccent(coalesce(nullif(s.brand, ''), s.name))), s.id"
    if query.sort == "distance" and point:
        return f"{haversine_sql(where.param(point[0]), where.param(point[1]))}, s.id"
    if query.q:
        folded = normalize_search(query.q)
        # the structure whose name starts with the query comes first, then the earliest matches
        # (the name comes first in search_text); similarity is computed only for typo searches
        first = f"(s.search_text LIKE :{where.param(folded + '%')}) DESC"
        if where.fuzzy:
            return f"{first}, word_similarity(:{where.param(folded)}, s.search_text) DESC, s.id"
        # a structure matched through a sector name has no position (0): after the ones named so
        return f"{first}, nullif(position(:{where.param(folded.split()[0])} in s.search_text), 0) NULLS LAST, s.id"
    return "s.id"


FACETS_SQL = """
WITH f AS MATERIALIZED (SELECT s.id, s.kinds, s.service_kinds, s.employees_count, s.commune_code,
                               s.owner_organisation_id FROM structure s WHERE {where})
SELECT 'totals' AS facet, '' AS value, count(*) AS n, count(*) FILTER (WHERE {in_zrr}) AS zrr,
       count(*) FILTER (WHERE {has_references}) AS refs, count(*) FILTER (WHERE f.owner_organisation_id IS NOT NULL)
FROM f
UNION ALL SELECT 'kinds', k, count(*), 0, 0, 0 FROM f, unnest(f.kinds) AS k GROUP BY k
UNION ALL SELECT 'sectors', ss.sector_id::text, count(*), 0, 0, 0 FROM f JOIN structure_sector ss ON ss.structure_id = f.id
          GROUP BY ss.sector_id
UNION ALL SELECT 'env', e.label, count(DISTINCT f.id), 0, 0, 0 FROM f JOIN env_commitment e ON e.structure_id = f.id
          WHERE e.expires_on IS NULL OR e.expires_on >= :facet_today GROUP BY e.label
UNION ALL SELECT 'services', v, count(*), 0, 0, 0 FROM f, unnest(f.service_kinds) AS v GROUP BY v
UNION ALL SELECT 'size_band', b, count(*), 0, 0, 0 FROM (SELECT {size_band} AS b FROM f) AS sized WHERE b IS NOT NULL
          GROUP BY b
"""
#: boolean facets, counted in the "totals" row: facet name → column of that row
BOOLEAN_FACETS = {"in_zrr": 3, "has_references": 4, "claimed": 5}


def _count_and_facets(where: Where, with_facets: bool, today: date) -> tuple[int, dict[str, dict[str, int]]]:
    """One statement for the total and every facet: the filtered set is computed once (a CTE).

    Arrays hold each value once per structure, so plain counts are exact (no DISTINCT sorts);
    the yes/no facets are counted in the same pass as the total."""
    if not with_facets:
        return db.session.execute(text(f"SELECT count(*) FROM structure s WHERE {where.sql}"), where.params).scalar(), {}
    sql = FACETS_SQL.format(where=where.sql, size_band=SIZE_BAND_SQL.format(c="f.employees_count"),
                            in_zrr=IN_ZRR_SQL.format(t="f"), has_references=HAS_REFERENCES_SQL.format(t="f"))
    count, facets = 0, {name: {} for name in FACETS}
    for row in db.session.execute(text(sql), {**where.params, "facet_today": today}):
        if row[0] == "totals":
            count = row[2]
            for name, column in BOOLEAN_FACETS.items():
                yes = row[column]
                facets[name] = {key: n for key, n in (("true", yes), ("false", count - yes)) if n}
        else:
            facets[row[0]][row[1]] = row[2]
    return count, normalize_facets(facets)


def _hits(ids: list[int], resolution: Resolution, today: date) -> list[dict[str, Any]]:
    """The page's documents, built by the same serializer as the index, in the page's order."""
    structures = {s.id: s for s in load_structures(db.session, ids)}
    ordered = [structures[i] for i in ids if i in structures]
    return [resolution.with_distance(document) for document in documents(db.session, ordered, today)]


def _prepare(query: StructureQuery, resolution: Resolution, today: date) -> Where:
    # array binds on skewed columns (kinds, area_refs) get poor generic plans once psycopg prepares the
    # statement: ask for a plan per execution, for this transaction only
    db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    return build_where(query, resolution, today)


def _page_ids(where: Where, query: StructureQuery, point: tuple[float, float] | None, limit: int,
              offset: int) -> list[int]:
    order = _order(where, query, point)
    sql = f"SELECT s.id FROM structure s WHERE {where.sql} ORDER BY {order} LIMIT :limit OFFSET :offset"
    return list(db.session.execute(text(sql), {**where.params, "limit": limit, "offset": offset}).scalars())


def search(query: StructureQuery) -> SearchResult:
    today = dates.today()
    resolution = resolved(query)
    if resolution.impossible:  # a commune without a known centre: nothing can be near it
        return SearchResult(0, query.page, query.per_page, [], normalize_facets({}) if query.facets else {}, "sql")
    where = _prepare(query, resolution, today)
    count, facets = _count_and_facets(where, query.facets, today)
    ids = _page_ids(where, query, resolution.point, query.per_page, query.offset)
    return SearchResult(count=count, page=query.page, per_page=query.per_page, hits=_hits(ids, resolution, today),
                        facets=facets, backend="sql")


def search_ids(query: StructureQuery, limit: int) -> list[int]:
    """The ids of the first `limit` matches in the query's order (exports)."""
    today = dates.today()
    resolution = resolved(query)
    if resolution.impossible:
        return []
    return _page_ids(_prepare(query, resolution, today), query, resolution.point, limit, 0)
