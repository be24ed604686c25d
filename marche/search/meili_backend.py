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
    adapter looked up for the query (looked up now when not given). Its facets are counted on the whole
    filtered set: `facet_requests` adds the disjunctive ones."""
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
        body["facets"] = [name for name in document_type.facets if name not in document_type.active_facets(query)]
    return body


def facet_requests(query: Any, resolution: Any) -> dict[str, dict[str, Any]]:
    """facet -> the request that counts it, for each facet whose own filter the query sets: the same
    words and every other filter, no hits (disjunctive counts, `DocumentType.facet_filters`)."""
    document_type = document_types.for_query(query)
    if not query.facets:
        return {}
    requests = {}
    for name in document_type.active_facets(query):
        clauses = document_type.meili_filters(document_type.without_facet(query, name), resolution)
        if clauses is not None:  # without a facet's filter, what was impossible stays impossible
            requests[name] = {"q": query.q, "filter": clauses, "matchingStrategy": "all", "page": 1,
                              "hitsPerPage": 0, "facets": [name]}
    return requests


def http_request(query: Any, resolution: Any = _UNSET) -> tuple[str, dict[str, Any]] | None:
    """(route, body) of the one HTTP request a search sends: /indexes/<uid>/search, or /multi-search
    when some facets are counted disjunctively (the page and its facets, then one query per such
    facet). None when nothing can match."""
    document_type = document_types.for_query(query)
    if resolution is _UNSET:
        resolution = document_type.resolution(query)
    body = request_body(query, resolution)
    if body is None:
        return None
    uid = index_name(document_type.name)
    others = facet_requests(query, resolution)
    if not others:
        return f"/indexes/{uid}/search", body
    return "/multi-search", {"queries": [{"indexUid": uid, **body}] + [{"indexUid": uid, **request}
                                                                       for request in others.values()]}


def _tiered_hits(document_type: DocumentType, body: dict[str, Any], tiers: list[str], offset: int,
                 limit: int, first: tuple[int, list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """`limit` hits from `offset` when the matches are shown part after part (each part a filter, in the
    query's sort): an exact count of each part the window starts after, then its hits. `first`: the
    first part's count and its hits from `offset`, when they were asked already."""
    index = index_name(document_type.name)
    base = _without_page(body)
    hits: list[dict[str, Any]] = []
    for position, tier in enumerate(tiers):
        clauses = [*body["filter"], tier]
        if position == 0 and first is not None:
            count, first_hits = first
            if offset >= count:
                offset -= count
                continue
            hits += first_hits
            if len(hits) >= limit:
                break
            offset = 0
            continue
        if position < len(tiers) - 1:
            count = meili.search(index, {**base, "filter": clauses, "page": 1, "hitsPerPage": 0},
                                 SEARCH_TIMEOUT_S)["totalHits"]
            if offset >= count:  # the window starts after this part
                offset -= count
                continue
        answer = meili.search(index, {**base, "filter": clauses, "offset": offset, "limit": limit - len(hits)},
                              SEARCH_TIMEOUT_S)
        hits += answer["hits"]
        if len(hits) >= limit:
            break
        offset = 0
    return hits


def _without_page(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in {"page", "hitsPerPage", "facets", "indexUid"}}


def search(query: Any) -> SearchResult:
    document_type = document_types.for_query(query)
    resolution = document_type.resolution(query)
    request = http_request(query, resolution)
    if request is None:
        return SearchResult(0, query.page, query.per_page, [], complete_facets(document_type) if query.facets else {})
    _, body = request
    uid = index_name(document_type.name)
    # the page and its facets, then one query per facet counted disjunctively: sent side by side
    searches = [(uid, {key: value for key, value in part.items() if key != "indexUid"})
                for part in (body["queries"] if "queries" in body else [body])]
    main = searches[0][1]
    tiers = document_type.meili_tiers(query, resolution)
    facet_count = len(searches)
    if tiers:  # the total and the facets over every match; the page from its parts, the first one asked now
        searches[0] = (uid, {**main, "hitsPerPage": 0})
        first_part = {**_without_page(main), "filter": [*main["filter"], tiers[0]]}
        searches += [(uid, {**first_part, "page": 1, "hitsPerPage": 0}),
                     (uid, {**first_part, "offset": query.offset, "limit": query.per_page})]
    answers = meili.search_many(searches, SEARCH_TIMEOUT_S)
    answer, distribution = answers[0], dict(answers[0].get("facetDistribution") or {})
    for facet_answer in answers[1:facet_count]:
        distribution.update(facet_answer.get("facetDistribution") or {})
    if tiers:
        first = (answers[facet_count]["totalHits"], answers[facet_count + 1]["hits"])
        hits = _tiered_hits(document_type, main, tiers, query.offset, query.per_page, first)
    else:
        hits = answer["hits"]
    return SearchResult(
        count=answer["totalHits"],
        page=query.page,
        per_page=query.per_page,
        hits=[document_type.finish_hit(hit, resolution) for hit in hits],
        facets=complete_facets(document_type, distribution) if query.facets else {},
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
    tiers = document_type.meili_tiers(query, resolution)
    if tiers:
        return [hit["id"] for hit in _tiered_hits(document_type, {"q": query.q, **params}, tiers, 0, limit)]
    answer = meili.search(index_name(document_type.name), {"q": query.q, **params}, SEARCH_TIMEOUT_S)
    return [hit["id"] for hit in answer["hits"]]
