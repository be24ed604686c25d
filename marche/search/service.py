"""Search entry point, for a query of any registered document type: Meilisearch first, the SQL backend
when Meilisearch cannot answer.

The page shows a banner when `SearchResult.backend == "sql"` (results may be less relevant). After a
failure Meilisearch is left alone for a few seconds, so an outage costs one timeout, not one per search.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, TypeVar

import requests
from flask import current_app
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchTimeoutError

from ..core.meili import MeiliSearchFailed
from . import document_types, meili_backend, sql_backend
from .document_types import SearchResult

log = logging.getLogger(__name__)
#: seconds during which searches go straight to SQL after Meilisearch failed
COOL_DOWN_S = 10
#: errors meaning "Meilisearch cannot answer now" (down, slow, index missing or being rebuilt)
UNAVAILABLE = (MeiliSearchFailed, MeilisearchCommunicationError, MeilisearchTimeoutError, MeilisearchApiError,
               requests.exceptions.RequestException)
#: Meilisearch error codes that mean "no usable index right now", not a request we built wrong
OUTAGE_CODES = {"unreachable", "index_not_found"}
_STATE_KEY = "marche_meili_down_until"
T = TypeVar("T")


def _meili_resting() -> bool:
    return current_app.extensions.get(_STATE_KEY, 0.0) > time.monotonic()


def _meili_failed(error: Exception) -> None:
    if isinstance(error, (MeilisearchApiError, MeiliSearchFailed)) and error.code not in OUTAGE_CODES:
        # not an outage but a request we built wrong: answer from SQL, but make it visible
        log.error("Meilisearch refused a search: %s", error)
        return
    log.warning("Meilisearch unavailable, SQL search for %s s: %s", COOL_DOWN_S, error)
    current_app.extensions[_STATE_KEY] = time.monotonic() + COOL_DOWN_S


def _answer(query: Any, ask: Callable[[Any, Any], T]) -> T:
    """`ask(backend, query)` of Meilisearch, or of the SQL backend when Meilisearch cannot answer."""
    # looked up once: both backends translate the same resolution
    query = document_types.for_query(query).prepared(query)
    if not _meili_resting():
        try:
            return ask(meili_backend, query)
        except UNAVAILABLE as error:
            _meili_failed(error)
    return ask(sql_backend, query)


def search(query: Any) -> SearchResult:
    """One page of results, with the total and the facets."""
    return _answer(query, lambda backend, prepared: backend.search(prepared))


def search_all_ids(query: Any, limit: int = 5000) -> list[int]:
    """Ids of the first `limit` matches in the query's order, for exports (same fallback)."""
    return _answer(query, lambda backend, prepared: backend.search_ids(prepared, limit))


def meili_resting() -> bool:
    """Meilisearch failed a moment ago: searches go straight to SQL for now."""
    return _meili_resting()


def with_fallback(ask_meili: Callable[[], T], ask_sql: Callable[[], T]) -> T:
    """`ask_meili()`, or `ask_sql()` when Meilisearch cannot answer, with the same cool-down as the
    directory search (searches that are not a document type's: the need box's catalogue)."""
    if not _meili_resting():
        try:
            return ask_meili()
        except UNAVAILABLE as error:
            _meili_failed(error)
    return ask_sql()
