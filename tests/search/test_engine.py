"""The search engine is written once: a second document type, defined here in a few lines over the
`sector` reference table, is indexed, kept in step by the outbox, searched with facets in Meilisearch
(this run's index prefix) and answered the same by the SQL fallback when Meilisearch is down.

Expected answers come from the reference table read with plain SQLAlchemy and Python, not from the engine.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from marche import create_app, search
from marche.core import outbox
from marche.core.text import normalize_search
from marche.extensions import db
from marche.reference.models import Sector
from marche.search import document_types, indexer, meili_backend, service, sql_backend
from marche.search.document_types import DocumentType, GroupedFacet, UnknownDocumentType
from marche.search.sql_backend import Where
from marche.search.structures import STRUCTURES
from marche.search.typos import word_pattern_sql

SECTORS_CHANGED = "test.sectors.changed"


@dataclass(frozen=True)
class SectorQuery:
    q: str = ""
    group: int | None = None
    page: int = 1
    per_page: int = 20
    facets: bool = True

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


class SectorDocuments(DocumentType):
    """The whole adapter a new document type needs: rows, documents, two translations, one facet."""

    name = "test-sectors"
    label = "secteurs"
    query_type = SectorQuery
    settings = {"searchableAttributes": ["name"], "filterableAttributes": ["group"], "typoTolerance": {"enabled": True}}
    facets = ("group",)
    version_field = "version"
    change_kind = SECTORS_CHANGED
    table = "sector"
    facet_columns = "s.id, s.group_id"
    sql_facets = (GroupedFacet("group", "SELECT f.group_id, count(*) FROM f GROUP BY f.group_id"),)

    def load(self, session, ids):
        return list(session.execute(select(Sector).where(Sector.id.in_(list(ids))).order_by(Sector.id)).scalars())

    def documents(self, session, rows, today: date) -> list[dict[str, Any]]:
        return [{"id": s.id, "name": s.name, "group": str(s.group_id), "version": s.name} for s in rows]

    def versions(self, session) -> dict[int, str | None]:
        return dict(session.execute(select(Sector.id, Sector.name)).all())

    def meili_filters(self, query: SectorQuery, resolution) -> list[str]:
        return [] if query.group is None else [f"group = {meili_backend.quote(query.group)}"]

    def sql_where(self, query: SectorQuery, resolution, today: date) -> Where:
        where = Where()
        words = normalize_search(query.q).split()
        for position, word in enumerate(words):
            pattern = word_pattern_sql(word, prefix=position == len(words) - 1, max_typos=1)
            where.add(f"lower(unaccent(s.name)) ~ :{where.param(pattern)}")
        if query.group is not None:
            where.add(f"s.group_id = :{where.param(query.group)}")
        return where


SECTORS = SectorDocuments()


@pytest.fixture(scope="module")
def sectors(app):
    """The type registered and its index built for the module; both gone afterwards."""
    search.register_document_type(SECTORS)
    with app.app_context():
        indexer.reindex(SECTORS)
    yield SECTORS
    with app.app_context():
        indexer.index_of(SECTORS).delete()
        indexer.forget_index_state()
    document_types.unregister(SECTORS)


def reference() -> list[Sector]:
    return list(db.session.execute(select(Sector).order_by(Sector.id)).scalars())


def named(word: str) -> set[int]:
    """Sectors with a word of their name starting with `word` (the independent answer)."""
    return {s.id for s in reference() if any(w.startswith(word) for w in re.findall(r"\w+", normalize_search(s.name)))}


def test_a_second_type_is_indexed_with_progress(app_ctx, sectors, monkeypatch):
    total = len(reference())
    monkeypatch.setattr(indexer, "BATCH_SIZE", 50)
    seen: list[tuple[int, int]] = []
    assert indexer.reindex(SECTORS, progress=lambda done, of: seen.append((done, of))) == total
    assert seen == [(0, total)] + [(min(done, total), total) for done in range(50, total + 50, 50)]
    assert indexer.index_of(SECTORS).get_stats().number_of_documents == total


def test_registry_finds_the_type_by_name_and_by_query(sectors):
    assert document_types.get("test-sectors") is SECTORS
    assert document_types.for_query(SectorQuery()) is SECTORS
    assert {t.name for t in document_types.registered()} >= {"structures", "test-sectors"}
    search.register_document_type(SECTORS)  # each app factory run registers again: harmless
    assert [t for t in document_types.registered() if t.name == "test-sectors"] == [SECTORS]


def test_an_unknown_document_type_is_refused(app_ctx, sectors):
    @dataclass(frozen=True)
    class ContractQuery:  # a type no domain registers (yet)
        q: str = ""

    with pytest.raises(UnknownDocumentType, match="ContractQuery"):
        service.search(ContractQuery())
    with pytest.raises(UnknownDocumentType, match="contracts"):
        document_types.get("contracts")
    with pytest.raises(ValueError, match="test-sectors"):
        document_types.register(SectorDocuments())  # another object may not take the name
    assert document_types.get("test-sectors") is SECTORS


@pytest.mark.parametrize("query", [SectorQuery(q="nettoyage"), SectorQuery(q="recyclage", per_page=100),
                                   SectorQuery(group=85, per_page=100), SectorQuery(per_page=5, page=2)],
                         ids=["word", "word-all", "group", "second-page"])
def test_both_backends_answer_the_independent_answer(app_ctx, sectors, query):
    rows = reference()
    expected = {s.id for s in rows if (not query.q or s.id in named(query.q))
                and (query.group is None or s.group_id == query.group)}
    groups = Counter(str(s.group_id) for s in rows if s.id in expected)
    assert expected
    for backend in (meili_backend, sql_backend):
        result = backend.search(query)
        assert result.count == len(expected), backend.__name__
        assert result.facets == {"group": dict(groups)}, backend.__name__
        assert set(backend.search_ids(query, 1000)) == expected, backend.__name__
        assert len(result.hits) == min(query.per_page, len(expected) - query.offset)
        assert all(hit["id"] in expected and hit["name"] for hit in result.hits)
    by_id = sorted(expected)[query.offset:query.offset + query.per_page]
    if not query.q:  # no text: both in the key's order
        assert [h["id"] for h in sql_backend.search(query).hits] == by_id


def test_fallback_on_outage_answers_the_same_for_the_second_type(app, app_config, sectors):
    query = SectorQuery(q="recyclage", per_page=100)
    with app.test_request_context():
        reference_result = service.search(query)
        assert reference_result.backend == "meilisearch"
    broken = create_app({**app_config, "MEILI_URL": "http://127.0.0.1:1"})
    with broken.test_request_context():
        result = service.search(query)
        assert result.backend == "sql"
        assert (result.count, result.facets) == (reference_result.count, reference_result.facets)
        assert {h["id"] for h in result.hits} == {h["id"] for h in reference_result.hits}
        assert set(service.search_all_ids(query)) == {h["id"] for h in result.hits}
        db.session.remove()


def test_the_outbox_and_reconciliation_keep_the_second_index_in_step(app_ctx, sectors):
    sector = reference()[0]
    indexer.index_of(SECTORS).delete_document(sector.id)
    indexer.wait_for_pending()
    assert indexer.stale(SECTORS) == ([sector.id], [])
    outbox.enqueue(SECTORS_CHANGED, {"ids": [sector.id]})
    db.session.commit()  # the handler runs inline after the commit in tests
    indexer.wait_for_pending()
    assert indexer.index_of(SECTORS).get_document(sector.id).name == sector.name
    # a document whose version differs from its row is sent again, an orphan removed
    indexer.index_of(SECTORS).add_documents(
        [{"id": sector.id, "name": "ancien nom", "group": "0", "version": "ancien nom"},
         {"id": 999_999, "name": "orphelin", "group": "0", "version": "x"}])
    indexer.wait_for_pending()
    assert indexer.stale(SECTORS) == ([sector.id], [999_999])
    assert indexer.reconcile(SECTORS) == (1, 1)
    assert indexer.stale(SECTORS) == ([], [])


def test_reindex_all_rebuilds_every_registered_type(app_ctx, sectors):
    structures = len(STRUCTURES.versions(db.session))
    assert indexer.reindex_all() == structures + len(reference())
