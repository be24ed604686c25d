"""The contract between the search engine and one document type, and the registry of types.

The engine (`indexer`, `meili_backend`, `sql_backend`, `service`, `tasks`) is written once against
`DocumentType`; each type (structures today, in `search.structures`; tenders next) is one subclass that
says how its rows become documents and how a resolved query of its own becomes a Meilisearch request and
an SQL statement. Its domain registers it in `init_app`; a query of a type nobody registered is refused.
"""
from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Protocol

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from .sql_backend import Where


class UnknownDocumentType(LookupError):
    """A document type (or a query class) no domain registered: refused rather than guessed."""


class SearchQuery(Protocol):
    """What the engine reads of any document type's query (the rest is the adapter's business)."""

    q: str
    page: int
    per_page: int
    #: compute the facets (counts by value over the whole result set)
    facets: bool

    @property
    def offset(self) -> int: ...


@dataclass
class SearchResult:
    count: int
    page: int
    per_page: int
    #: documents as built by the type's serializer (+ what `finish_hit` adds, e.g. "distance_km")
    hits: list[dict[str, Any]]
    #: facet -> {value: count}; values are strings ("true"/"false" for booleans)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    #: "meilisearch" or "sql"
    backend: str = "meilisearch"

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


@dataclass(frozen=True)
class GroupedFacet:
    """A facet counted by the SQL fallback with one grouped SELECT over `f`, the filtered rows: it yields
    (value as text, count) rows; `:today` is bound."""

    name: str
    sql: str
    #: the same counts over every row of the table, when that needs no pass over the table (a facet
    #: counted disjunctively with no other filter set); None: `sql` over every row
    every_row_sql: str | None = None


@dataclass(frozen=True)
class BooleanFacet:
    """A yes/no facet, counted in the same pass as the total: `condition` is an SQL condition on `f`."""

    name: str
    condition: str


class DocumentType:
    """One searchable document type. Subclass it, fill the class attributes, implement the methods."""

    #: registry key and index name (prefixed by MEILI_INDEX_PREFIX)
    name: ClassVar[str]
    #: French plural, for messages ("structures")
    label: ClassVar[str]
    #: the query class this type answers (a frozen dataclass following `SearchQuery`)
    query_type: ClassVar[type]
    #: Meilisearch index settings (searchable, filterable, sortable attributes...)
    settings: ClassVar[dict[str, Any]]
    #: facets every search computes, in this order
    facets: ClassVar[tuple[str, ...]] = ()
    #: the document field that carries the row's version (compared by `indexer.reconcile`)
    version_field: ClassVar[str] = "updated_at"
    #: outbox message kind whose payload {"ids": [...]} lists changed rows (None: no live updates)
    change_kind: ClassVar[str | None] = None
    #: the SQL table searched by the fallback, aliased `s`, keyed by an integer `id`
    table: ClassVar[str]
    #: the columns the SQL facets read from `f` (the filtered rows of `s`, with `facet_joins`)
    facet_columns: ClassVar[str] = "s.id"
    #: joins that bring a facet's column beside each filtered row (at most one row each: no duplicate)
    facet_joins: ClassVar[str] = ""
    #: how the SQL fallback counts each facet of `facets`
    sql_facets: ClassVar[tuple[GroupedFacet | BooleanFacet, ...]] = ()
    #: facet -> the query field that filters on it (a dataclass field whose default means "no filter").
    #: A facet listed here is counted disjunctively: with every active filter except its own, so that
    #: ticking one value still shows how many the group's other values would add. The SQL translation
    #: tags that filter's conditions with the facet's name (`Where.add(..., facet=name)`).
    facet_filters: ClassVar[dict[str, str]] = {}
    #: the SQL condition every search of this type carries (rows the public may find); "true": none
    visible_sql: ClassVar[str] = "true"

    # --- rows and documents -------------------------------------------------------------------------
    def load(self, session: Session, ids: Iterable[int]) -> list[Any]:
        """The rows with these ids, each with an `id` (missing ones left out), ready for `documents`."""
        raise NotImplementedError

    def documents(self, session: Session, rows: list[Any], today: date) -> list[dict[str, Any]]:
        """The rows as documents, by the type's one serializer (the index and the fallback both use it)."""
        raise NotImplementedError

    def versions(self, session: Session) -> dict[int, str | None]:
        """id → version of every row: what a document must carry to be up to date (reconciliation)."""
        raise NotImplementedError

    # --- a query --------------------------------------------------------------------------------------
    def prepared(self, query: Any) -> Any:
        """The query with whatever it needs looked up, once, so both backends translate the same thing."""
        return query

    def resolution(self, query: Any) -> Any:
        """What `prepared` looked up for this query (None for a type that looks nothing up)."""
        return None

    def active_facets(self, query: Any) -> tuple[str, ...]:
        """The facets (in `facets` order) whose own filter the query sets: each is counted without it."""
        return tuple(name for name in self.facets if name in self.facet_filters
                     and getattr(query, self.facet_filters[name]) != _default(query, self.facet_filters[name]))

    def without_facet(self, query: Any, name: str) -> Any:
        """The query with the facet's own filter removed (what its disjunctive counts are computed on)."""
        attribute = self.facet_filters[name]
        return replace(query, **{attribute: _default(query, attribute)})

    def finish_hit(self, hit: dict[str, Any], resolution: Any) -> dict[str, Any]:
        """A hit as both backends return it (e.g. a distance from the query's point)."""
        return hit

    # --- Meilisearch translation ----------------------------------------------------------------------
    def meili_filters(self, query: Any, resolution: Any) -> list[str] | None:
        """Filter expressions, ANDed; None when nothing can match."""
        return []

    def meili_sort(self, query: Any, resolution: Any) -> list[str] | None:
        """Sort rules; None for relevance."""
        return None

    def meili_tiers(self, query: Any, resolution: Any) -> list[str] | None:
        """Filters splitting the matches into parts shown one after the other (the SQL order's first key);
        None when the sort alone orders them."""
        return None

    # --- SQL translation ------------------------------------------------------------------------------
    def sql_where(self, query: Any, resolution: Any, today: date) -> "Where | None":
        """The conditions on `s`, the same as `meili_filters` clause for clause; None when nothing can match."""
        raise NotImplementedError

    def sql_order(self, where: "Where", query: Any, resolution: Any) -> str | None:
        """ORDER BY on `s` (ending with a unique key); None for the key order, which needs no sort."""
        return None


def _default(query: Any, attribute: str) -> Any:
    """The query class's default for a field: its "no filter" value."""
    for item in fields(query):
        if item.name == attribute:
            if item.default is not MISSING:
                return item.default
            if item.default_factory is not MISSING:
                return item.default_factory()
    raise AttributeError(f"{type(query).__name__} has no field {attribute} with a default")


_types: dict[str, DocumentType] = {}


def register(document_type: DocumentType) -> DocumentType:
    """Make a type searchable (idempotent: each app factory run registers the same object again)."""
    known = _types.get(document_type.name)
    if known is not None and known is not document_type:
        raise ValueError(f"Type de document déjà enregistré : {document_type.name}")
    _types[document_type.name] = document_type
    return document_type


def unregister(document_type: DocumentType) -> None:
    """Forget a type (tests that define their own)."""
    if _types.get(document_type.name) is document_type:
        del _types[document_type.name]


def registered() -> list[DocumentType]:
    return list(_types.values())


def get(name: str) -> DocumentType:
    try:
        return _types[name]
    except KeyError:
        raise UnknownDocumentType(f"Type de document inconnu : {name}") from None


def for_query(query: Any) -> DocumentType:
    """The type that answers this query, by the query's class."""
    for document_type in _types.values():
        if isinstance(query, document_type.query_type):
            return document_type
    raise UnknownDocumentType(f"Aucun type de document ne répond à {type(query).__name__}")


def complete_facets(document_type: DocumentType, distribution: dict[str, dict[str, int]] | None = None
                    ) -> dict[str, dict[str, int]]:
    """Every facet of the type present (empty when no document of the set carries a value)."""
    distribution = distribution or {}
    return {name: dict(distribution.get(name) or {}) for name in document_type.facets}
