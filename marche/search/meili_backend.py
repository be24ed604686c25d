"""The Meilisearch backend: a StructureQuery as one search request (filter expression, facets, sort).

Filters mirror search.sql_backend clause for clause; tests run the same queries through both.
"""
from __future__ import annotations

import json
from typing import Any

from ..core import meili
from ..core.meili import index_name
from ..geo.services import parse_ref
from ..suppliers.models import RADIUS_CHOICES, AreaKind
from .indexer import INDEX
from .query import FACETS, SearchResult, StructureQuery, near_point, normalize_facets, place_of, with_distance

#: a search answers in milliseconds; past this the service falls back to SQL rather than keep a user waiting
SEARCH_TIMEOUT_S = 2


def _quote(value: Any) -> str:
    """A filter value: JSON strings are valid Meilisearch string literals (quotes and backslashes escaped)."""
    return json.dumps(str(value), ensure_ascii=False)


def _any_of(attribute: str, values) -> str:
    return f"{attribute} IN [{', '.join(_quote(v) for v in values)}]"


def _bool(attribute: str, value: bool) -> str:
    return f"{attribute} = {'true' if value else 'false'}"


def _geo_radius(point: tuple[float, float], km: float) -> str:
    return f"_geoRadius({point[0]}, {point[1]}, {int(km * 1000)})"


def _covers_commune(ref: str) -> str:
    """The area covers the commune: whole country, listed commune / department / region, or a radius.

    Radii are restricted to RADIUS_CHOICES, so one _geoRadius per choice is exact (the SQL backend
    ignores other radii the same way)."""
    place = place_of(ref)
    refs = [f"commune:{place.code}", f"dep:{place.department}", f"reg:{place.region}", "country:FR"]
    options = [f"area_kind = {_quote(AreaKind.COUNTRY)}", _any_of("area_refs", refs)]
    if place.point:
        options += [f"(area_kind = {_quote(AreaKind.RADIUS)} AND area_radius_km = {radius} AND "
                    f"{_geo_radius(place.point, radius)})" for radius in RADIUS_CHOICES]
    return "(" + " OR ".join(options) + ")"


def _territory(query: StructureQuery) -> str:
    kind, code = parse_ref(query.territory)
    if query.territory_mode == "located":
        attribute = {"commune": "commune", "dep": "department", "reg": "region"}[kind]
        return f"{attribute} = {_quote(code)}"
    if kind == "commune":
        return _covers_commune(query.territory)
    return f"{'area_departments' if kind == 'dep' else 'area_regions'} = {_quote(code)}"


def filters(query: StructureQuery, point: tuple[float, float] | None) -> list[str] | None:
    """The filter expressions, ANDed; None when nothing can match (a `near` commune without a centre)."""
    clauses: list[str] = []
    if not query.include_synthetic:
        clauses.append("is_synthetic = false")
    for attribute, values in (("kinds", query.kinds), ("sectors", query.sectors), ("env", query.env),
                              ("services", query.services), ("size_band", query.size_bands)):
        if values:
            clauses.append(_any_of(attribute, values))
    if query.territory:
        clauses.append(_territory(query))
    if query.near:
        if point is None:
            return None
        clauses.append(_geo_radius(point, query.radius_km or 0))
    for attribute, value in (("in_zrr", query.zrr), ("has_references", query.has_references),
                             ("claimed", query.claimed)):
        if value is not None:
            clauses.append(_bool(attribute, value))
    return clauses


def _sort(query: StructureQuery, point: tuple[float, float] | None) -> list[str] | None:
    if query.sort == "name":
        return ["display_name:asc"]
    if query.sort == "distance" and point:
        return [f"_geoPoint({point[0]}, {point[1]}):asc"]
    return None


def _params(query: StructureQuery, point: tuple[float, float] | None, clauses: list[str]) -> dict[str, Any]:
    # every word must match (with typos): counts then mean what the filters say
    params: dict[str, Any] = {"filter": clauses, "matchingStrategy": "all"}
    sort = _sort(query, point)
    if sort:
        params["sort"] = sort
    return params


def search(query: StructureQuery) -> SearchResult:
    point = near_point(query)
    clauses = filters(query, point)
    if clauses is None:
        return SearchResult(0, query.page, query.per_page, [], normalize_facets({}) if query.facets else {})
    # page/hitsPerPage (not offset/limit) make totalHits exact
    params = {**_params(query, point, clauses), "page": query.page, "hitsPerPage": query.per_page}
    if query.facets:
        params["facets"] = list(FACETS)
    answer = meili.search(index_name(INDEX), {"q": query.q, **params}, SEARCH_TIMEOUT_S)
    return SearchResult(
        count=answer["totalHits"],
        page=query.page,
        per_page=query.per_page,
        hits=[with_distance(hit, point) for hit in answer["hits"]],
        facets=normalize_facets(answer.get("facetDistribution")) if query.facets else {},
        backend="meilisearch",
    )


def search_ids(query: StructureQuery, limit: int) -> list[int]:
    """The ids of the first `limit` matches in the query's order (exports)."""
    point = near_point(query)
    clauses = filters(query, point)
    if clauses is None:
        return []
    params = {**_params(query, point, clauses), "offset": 0, "limit": limit, "attributesToRetrieve": ["id"]}
    return [hit["id"] for hit in meili.search(index_name(INDEX), {"q": query.q, **params}, SEARCH_TIMEOUT_S)["hits"]]
