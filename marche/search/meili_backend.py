"""The Meilisearch backend: a StructureQuery as one search request (filter expression, facets, sort).

A pure translator: the territory's coverage rule and the `near` point come resolved (search.query.resolved,
looked up in geo); filters mirror search.sql_backend clause for clause; tests run the same queries through both.
"""
from __future__ import annotations

import json
from typing import Any

from ..core import meili
from ..core.meili import index_name
from ..geo.coverage import Coverage, CoversCommune
from ..suppliers.models import AreaKind
from .indexer import INDEX
from .query import FACETS, Resolution, SearchResult, StructureQuery, normalize_facets, resolved

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


def _coverage(rule: Coverage) -> str:
    """geo's coverage rule as a filter. A commune: whole country, listed commune / department / region,
    or a radius — radii are restricted to the rule's choices, so one _geoRadius per choice is exact."""
    if not isinstance(rule, CoversCommune):
        return f"{'area_departments' if rule.kind == 'dep' else 'area_regions'} = {_quote(rule.code)}"
    options = [f"area_kind = {_quote(AreaKind.COUNTRY)}", _any_of("area_refs", rule.place.refs)]
    if rule.place.point:
        options += [f"(area_kind = {_quote(AreaKind.RADIUS)} AND area_radius_km = {radius} AND "
                    f"{_geo_radius(rule.place.point, radius)})" for radius in rule.radii]
    return "(" + " OR ".join(options) + ")"


def _located(kind: str, code: str) -> str:
    attribute = {"commune": "commune", "dep": "department", "reg": "region"}[kind]
    return f"{attribute} = {_quote(code)}"


def filters(query: StructureQuery, resolution: Resolution) -> list[str] | None:
    """The filter expressions, ANDed; None when nothing can match (a `near` commune without a centre)."""
    if resolution.impossible:
        return None
    clauses: list[str] = []
    for attribute, values in (("kinds", query.kinds), ("sectors", query.sectors), ("env", query.env),
                              ("services", query.services), ("size_band", query.size_bands)):
        if values:
            clauses.append(_any_of(attribute, values))
    if resolution.coverage:
        clauses.append(_coverage(resolution.coverage))
    if resolution.located:
        clauses.append(_located(*resolution.located))
    if resolution.point:
        clauses.append(_geo_radius(resolution.point, query.radius_km or 0))
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


def request_body(query: StructureQuery, resolution: Resolution) -> dict[str, Any] | None:
    """The search request for one page (None when nothing can match)."""
    clauses = filters(query, resolution)
    if clauses is None:
        return None
    # page/hitsPerPage (not offset/limit) make totalHits exact
    body = {"q": query.q, **_params(query, resolution.point, clauses), "page": query.page,
            "hitsPerPage": query.per_page}
    if query.facets:
        body["facets"] = list(FACETS)
    return body


def search(query: StructureQuery) -> SearchResult:
    resolution = resolved(query)
    body = request_body(query, resolution)
    if body is None:
        return SearchResult(0, query.page, query.per_page, [], normalize_facets({}) if query.facets else {})
    answer = meili.search(index_name(INDEX), body, SEARCH_TIMEOUT_S)
    return SearchResult(
        count=answer["totalHits"],
        page=query.page,
        per_page=query.per_page,
        hits=[resolution.with_distance(hit) for hit in answer["hits"]],
        facets=normalize_facets(answer.get("facetDistribution")) if query.facets else {},
        backend="meilisearch",
    )


def search_ids(query: StructureQuery, limit: int) -> list[int]:
    """The ids of the first `limit` matches in the query's order (exports)."""
    resolution = resolved(query)
    clauses = filters(query, resolution)
    if clauses is None:
        return []
    params = {**_params(query, resolution.point, clauses), "offset": 0, "limit": limit, "attributesToRetrieve": ["id"]}
    return [hit["id"] for hit in meili.search(index_name(INDEX), {"q": query.q, **params}, SEARCH_TIMEOUT_S)["hits"]]
