"""The Meilisearch backend: a query of any registered document type as one search request.

The type's adapter translates the query (filters, sort) from what it resolved, with no lookups of its
own; this module adds the page, the facets and the words' matching strategy, and reads the answer.
The filter helpers below are the expression syntax every adapter writes with.
"""
from __future__ import annotations

import json
from typing import Any

from ..core import meili
from ..core.meili import index_name
from . import document_types
from .document_types import DocumentType, SearchResult, complete_facets

#: a search answers in milliseconds; past this the service falls back to SQL rather than keep a user waiting
SEARCH_TIMEOUT_S = 2
_UNSET = object()


def quote(value: Any) -> str:
    """A filter value: JSON strings are valid Meilisearch string literals (quotes and backslashes escaped)."""
    return json.dumps(str(value), ensure_ascii=False)


def any_of(attribute: str, values) -> str:
    return f"{attribute} IN [{', '.join(quote(v) for v in values)}]"


def is_true(attribute: str, value: bool) -> str:
    return f"{attribute} = {'true' if value else 'false'}"


def _params(document_type: DocumentType, query: Any, resolution: Any, clauses: list[str]) -> dict[str, Any]:
    # every word must match (with typos): counts then mean what the filters say
    params: dict[str, Any] = {"filter": clauses, "matchingStrategy": "all"}
    sort = document_type.meili_sort(query, resolution)
    if sort:
        params["sort"] = sort
    return params


def request_body(query: Any, resolution: Any = _UNSET) -> dict[str, Any] | None:
    """The search request for one page (None when nothing can match); `resolution` is what the type's
    adapter looked up for the query (looked up now when not given)."""
    document_type = document_types.for_query(query)
    if resolution is _UNSET:
        resolution = document_type.resolution(query)
    clauses = document_type.meili_filters(query, resolution)
    if clauses is None:
        return None
    # page/hitsPerPage (not offset/limit) make totalHits exact
    body = {"q": query.q, **_params(document_type, query, resolution, clauses), "page": query.page,
            "hitsPerPage": query.per_page}
    if query.facets:
        body["facets"] = list(document_type.facets)
    return body


def search(query: Any) -> SearchResult:
    document_type = document_types.for_query(query)
    resolution = document_type.resolution(query)
    body = request_body(query, resolution)
    if body is None:
        return SearchResult(0, query.page, query.per_page, [], complete_facets(document_type) if query.facets else {})
    answer = meili.search(index_name(document_type.name), body, SEARCH_TIMEOUT_S)
    return SearchResult(
        count=answer["totalHits"],
        page=query.page,
        per_page=query.per_page,
        hits=[document_type.finish_hit(hit, resolution) for hit in answer["hits"]],
        facets=complete_facets(document_type, answer.get("facetDistribution")) if query.facets else {},
        backend="meilisearch",
    )


def search_ids(query: Any, limit: int) -> list[int]:
    """The ids of the first `limit` matches in the query's order (exports)."""
    document_type = document_types.for_query(query)
    resolution = document_type.resolution(query)
    clauses = document_type.meili_filters(query, resolution)
    if clauses is None:
        return []
    params = {**_params(document_type, query, resolution, clauses), "offset": 0, "limit": limit,
              "attributesToRetrieve": ["id"]}
    answer = meili.search(index_name(document_type.name), {"q": query.q, **params}, SEARCH_TIMEOUT_S)
    return [hit["id"] for hit in answer["hits"]]
