"""The PostgreSQL backend, used when Meilisearch is unreachable: same query, same filters, same result type.

Written once for every document type: the type's adapter translates the query into conditions on its
table (`Where`) and an order; this module counts the matches and every facet in one statement, picks the
page, and builds the hits with the type's serializer, as the index does.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text

from ..core import dates
from ..extensions import db
from . import document_types
from .document_types import BooleanFacet, DocumentType, GroupedFacet, SearchResult, complete_facets


@dataclass
class Where:
    """ANDed SQL conditions on the type's table aliased `s`, with their bound parameters (unique names)."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    #: position in `clauses` -> the facet whose filter that clause is (`DocumentType.facet_filters`)
    facet_of: dict[int, str] = field(default_factory=dict)
    #: a word of the text was matched by similarity (a typo), so rank by similarity
    fuzzy: bool = False
    _names: Any = field(default_factory=itertools.count)

    def param(self, value: Any) -> str:
        name = f"p{next(self._names)}"
        self.params[name] = value
        return name

    def add(self, clause: str, facet: str | None = None) -> None:
        """AND a condition; `facet` names the facet whose filter it is, left out of that facet's counts."""
        if facet is not None:
            self.facet_of[len(self.clauses)] = facet
        self.clauses.append(clause)

    def any_of(self, column: str, values, sql_type: str = "varchar") -> str:
        """The array column shares a value with these (uses the column's GIN index)."""
        return f"{column} && CAST(:{self.param(list(values))} AS {sql_type}[])"

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) or "true"

    def sql_without(self, facet: str) -> str:
        """Every condition but the facet's own filter (the rows its disjunctive counts are taken on)."""
        return " AND ".join(c for i, c in enumerate(self.clauses) if self.facet_of.get(i) != facet) or "true"


#: the totals row and the page's rows, among the facet rows (the others are numbered by facet)
_TOTALS, _PAGE = -1, -2


def _page_sql(order: str | None, source: str) -> str:
    """The page's ids in the query's order (the key's when None), from `source`, rows aliased `s`."""
    return f"SELECT s.id FROM {source} ORDER BY {order or 's.id'} LIMIT :limit OFFSET :offset"


def _rows_sql(document_type: DocumentType, condition: str) -> str:
    return (f"SELECT {document_type.facet_columns} FROM {document_type.table} s {document_type.facet_joins} "
            f"WHERE {condition}")


def _reads_only(order: str | None, columns: str) -> bool:
    """Does the ORDER BY read only columns that `f` carries (`s.<name>` in the type's `facet_columns`)?"""
    return order is None or set(re.findall(r"\bs\.(\w+)", order)) <= set(re.findall(r"\bs\.(\w+)", columns))


def facets_sql(document_type: DocumentType, where: Where, order: str | None, active: tuple[str, ...] = ()) -> str:
    """One statement for the total, every facet and the page: the filtered rows are computed once (a
    CTE, so a costly condition such as a text pattern or a distance runs once per row), the yes/no
    facets counted in the same pass as the total, each grouped facet in one more pass, and the page
    ranked among the filtered rows only. A facet of `active` (its own filter is set) is counted on the
    rows matching every other condition instead: its pass reads its own `f`, shadowing the outer one."""
    booleans = [f for f in document_type.sql_facets if isinstance(f, BooleanFacet)]
    padding = ", 0" * len(booleans)
    totals = "".join(f", count(*) FILTER (WHERE {facet.condition})" for facet in booleans)
    parts = [f"SELECT {_TOTALS} AS facet, '' AS value, count(*) AS n{totals} FROM f"]
    for position, facet in enumerate(document_type.sql_facets):
        rows = where.sql_without(facet.name) if facet.name in active else where.sql
        if isinstance(facet, GroupedFacet) and facet.every_row_sql and rows in ("true", document_type.visible_sql):
            counted = facet.every_row_sql
        elif facet.name not in active:
            if isinstance(facet, BooleanFacet):
                continue  # counted with the total
            counted = facet.sql
        else:
            counted = (facet.sql if isinstance(facet, GroupedFacet) else
                       f"SELECT ({facet.condition})::text, count(*) FROM f GROUP BY 1")
            counted = f"WITH f AS ({_rows_sql(document_type, rows)}) {counted}"
        parts.append(f"SELECT {position}, g.value::text, g.n{padding} FROM ({counted}) AS g(value, n)")
    # an order on f's own columns (the key, a distance) ranks f itself; another reads the table's columns,
    # for the filtered rows only. row_number() numbers the ranked page as it comes out of its ORDER BY ... LIMIT
    source = ("f AS s" if _reads_only(order, document_type.facet_columns) else
              f"{document_type.table} s WHERE s.id IN (SELECT id FROM f)")
    parts.append(f"SELECT {_PAGE}, p.id::text, p.position{padding} FROM (SELECT id, row_number() OVER () AS position "
                 f"FROM ({_page_sql(order, source)}) AS ranked) AS p")
    return (f"WITH f AS MATERIALIZED ({_rows_sql(document_type, where.sql)})\n" + "\nUNION ALL ".join(parts))


def _count_facets_and_page(document_type: DocumentType, where: Where, order: str | None, limit: int, offset: int,
                           today: date, active: tuple[str, ...]) -> tuple[int, dict[str, dict[str, int]], list[int]]:
    booleans = [f for f in document_type.sql_facets if isinstance(f, BooleanFacet)]
    count, facets, page = 0, {}, []
    params = {**where.params, "today": today, "limit": limit, "offset": offset}
    for facet_position, value, n, *yes_counts in db.session.execute(
            text(facets_sql(document_type, where, order, active)), params):
        if facet_position == _TOTALS:
            count = n
            for facet, yes in zip(booleans, yes_counts):
                if facet.name not in active:
                    facets[facet.name] = {key: c for key, c in (("true", yes), ("false", n - yes)) if c}
        elif facet_position == _PAGE:
            page.append((n, int(value)))
        elif n:
            facets.setdefault(document_type.sql_facets[facet_position].name, {})[value] = n
    return count, complete_facets(document_type, facets), [id_ for _, id_ in sorted(page)]


def _hits(document_type: DocumentType, ids: list[int], resolution: Any, today: date) -> list[dict[str, Any]]:
    """The page's documents, built by the same serializer as the index, in the page's order."""
    rows = {row.id: row for row in document_type.load(db.session, ids)}
    ordered = [rows[i] for i in ids if i in rows]
    return [document_type.finish_hit(document, resolution)
            for document in document_type.documents(db.session, ordered, today)]


def _prepare(document_type: DocumentType, query: Any, resolution: Any, today: date) -> Where | None:
    # array binds on skewed columns (kinds, area_refs) get poor generic plans once psycopg prepares the
    # statement: ask for a plan per execution. No JIT: the facet statement's estimate passes
    # jit_above_cost on large sets, and compiling it costs more (~100 ms) than running it. No parallel
    # workers: the fallback serves several people at once on few cores, where a worker adds its start-up
    # and its own copy of each hash (EXPLAIN showed the ZRR communes hashed three times per search) for
    # no gain when the other cores are busy. All for this transaction only.
    db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    db.session.execute(text("SET LOCAL jit = off"))
    db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    return document_type.sql_where(query, resolution, today)


def _page_ids(document_type: DocumentType, where: Where, order: str | None, limit: int, offset: int) -> list[int]:
    """Without facets: in the key's order the primary key index walks the rows and stops after the
    page; in another, filter first (OFFSET 0 keeps the subquery whole) and rank only the matches —
    left free, the planner may rank every row of the table and filter afterwards."""
    source = (f"{document_type.table} s WHERE {where.sql}" if order is None else
              f"(SELECT * FROM {document_type.table} s WHERE {where.sql} OFFSET 0) AS s")
    params = {**where.params, "limit": limit, "offset": offset}
    return list(db.session.execute(text(_page_sql(order, source)), params).scalars())


def search(query: Any) -> SearchResult:
    document_type = document_types.for_query(query)
    today = dates.today()
    resolution = document_type.resolution(query)
    where = _prepare(document_type, query, resolution, today)
    if where is None:  # nothing can match (e.g. near a commune without a known centre)
        return SearchResult(0, query.page, query.per_page, [],
                            complete_facets(document_type) if query.facets else {}, "sql")
    order = document_type.sql_order(where, query, resolution)
    if query.facets:
        count, facets, ids = _count_facets_and_page(document_type, where, order, query.per_page, query.offset, today,
                                                    document_type.active_facets(query))
    else:
        sql = f"SELECT count(*) FROM {document_type.table} s WHERE {where.sql}"
        count, facets = db.session.execute(text(sql), where.params).scalar(), {}
        ids = _page_ids(document_type, where, order, query.per_page, query.offset)
    return SearchResult(count=count, page=query.page, per_page=query.per_page,
                        hits=_hits(document_type, ids, resolution, today), facets=facets, backend="sql")


def search_ids(query: Any, limit: int) -> list[int]:
    """The ids of the first `limit` matches in the query's order (exports)."""
    document_type = document_types.for_query(query)
    resolution = document_type.resolution(query)
    where = _prepare(document_type, query, resolution, dates.today())
    if where is None:
        return []
    return _page_ids(document_type, where, document_type.sql_order(where, query, resolution), limit, 0)
