"""Keeping the index in step (outbox, full rebuild) and the fallback to SQL when Meilisearch cannot answer.

Built on the real ESAT file only (1 500 rows): enough to exercise the paths, quick to import.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from marche import create_app
from marche.extensions import db
from marche.search import indexer, meili_backend, service, sql_backend
from marche.search.query import StructureQuery
from marche.suppliers.importer import import_esat
from marche.suppliers.models import EnvCommitment, Structure
from marche.suppliers.services import notify_changed, refresh_derived

from .directory import ESAT_CSV, csv_rows


@pytest.fixture(scope="module")
def esat(app):
    with app.app_context():
        import_esat(ESAT_CSV)
        db.session.commit()  # the import's outbox row indexes them, inline in tests
        indexer.wait_for_pending()
        count = db.session.execute(text("SELECT count(*) FROM structure")).scalar()
        db.session.remove()
    return count


def _meili_ids(query: StructureQuery) -> set[int]:
    return set(meili_backend.search_ids(query, limit=10_000))


def _structure(name_like: str) -> Structure:
    return db.session.execute(db.select(Structure).where(Structure.name.like(name_like))
                              .order_by(Structure.id)).scalars().first()


def test_import_commit_indexes_through_the_outbox(app_ctx, esat):
    rows = csv_rows(ESAT_CSV)
    assert esat == len({r["siret"] for r in rows if r["siret"]}) + sum(1 for r in rows if not r["siret"])
    result = meili_backend.search(StructureQuery(per_page=1))
    assert result.count == esat and result.facets["kinds"] == {"ESAT": esat}


def test_a_change_becomes_searchable_after_commit(app_ctx, esat):
    structure = _structure("ESAT LA FRETA")
    assert structure is not None
    structure.brand = "Zyglomatik Atelier"
    refresh_derived(structure)
    notify_changed([structure.id])
    db.session.commit()
    indexer.wait_for_pending()
    hits = meili_backend.search(StructureQuery(q="zyglomatik")).hits
    assert [h["id"] for h in hits] == [structure.id] and hits[0]["display_name"] == "Zyglomatik Atelier"
    assert [h["id"] for h in sql_backend.search(StructureQuery(q="zyglomatik")).hits] == [structure.id]


def test_commitments_added_later_count_until_they_expire(app_ctx, esat):
    structure = _structure("ESAT ENVOL TRANSITION")
    structure.env_commitments += [EnvCommitment(label="rge", expires_on=date.today() + timedelta(days=30)),
                                  EnvCommitment(label="esus", expires_on=date.today() - timedelta(days=3))]
    notify_changed([structure.id])
    db.session.commit()
    indexer.wait_for_pending()
    for backend in (meili_backend, sql_backend):
        assert [h["id"] for h in backend.search(StructureQuery(env=("rge",))).hits] == [structure.id]
        result = backend.search(StructureQuery(env=("esus",)))
        assert result.count == 0
        assert backend.search(StructureQuery()).facets["env"] == {"rge": 1}


def test_a_deleted_structure_leaves_the_index(app_ctx, esat):
    structure = _structure("ESAT%")
    structure_id = structure.id
    db.session.delete(structure)
    notify_changed([structure_id])
    db.session.commit()
    indexer.wait_for_pending()
    assert structure_id not in _meili_ids(StructureQuery())
    assert meili_backend.search(StructureQuery()).count == esat - 1


def test_full_rebuild_drops_rows_deleted_behind_the_outbox(app_ctx, esat):
    victim = db.session.execute(text("SELECT max(id) FROM structure")).scalar()
    db.session.execute(text("DELETE FROM structure WHERE id = :id"), {"id": victim})
    db.session.commit()  # no notification: the index still has it
    assert victim in _meili_ids(StructureQuery())
    seen: list[tuple[int, int]] = []
    total = indexer.reindex_all(progress=lambda done, total: seen.append((done, total)))
    in_db = db.session.execute(text("SELECT count(*) FROM structure")).scalar()
    # progress is reported type by type (structures, then tenders: none here)
    assert total == in_db and (in_db, in_db) in seen and seen[-1] == (0, 0)
    assert victim not in _meili_ids(StructureQuery())
    assert meili_backend.search(StructureQuery()).count == in_db


def test_service_uses_meilisearch_when_it_answers(app_ctx, esat):
    result = service.search(StructureQuery(territory="dep:01", territory_mode="located"))
    assert result.backend == "meilisearch" and result.count > 0


@pytest.mark.parametrize("override", [{"MEILI_URL": "http://127.0.0.1:1"}, {"MEILI_INDEX_PREFIX": "absent"}],
                         ids=["meilisearch-down", "index-missing"])
def test_fallback_to_sql_answers_the_same(app, app_config, esat, override):
    queries = [StructureQuery(territory="dep:01", territory_mode="located", per_page=100),
               StructureQuery(near="commune:69123", radius_km=25, sort="distance", per_page=100),
               StructureQuery(q="esat", territory="reg:84", per_page=1000)]
    with app.test_request_context():
        expected = [meili_backend.search(q) for q in queries]
        expected_ids = [set(meili_backend.search_ids(q, 5000)) for q in queries[:2]]
    broken = create_app({**app_config, **override})
    with broken.test_request_context():
        for query, reference in zip(queries, expected):
            result = service.search(query)
            assert result.backend == "sql"
            assert result.count == reference.count > 0
            if query.q:  # relevance order differs; the sets of a full page compare
                assert {h["id"] for h in result.hits} == {h["id"] for h in reference.hits}
            else:
                assert [h["id"] for h in result.hits] == [h["id"] for h in reference.hits]
            assert result.facets == reference.facets
        for query, ids in zip(queries, expected_ids):
            assert set(service.search_all_ids(query)) == ids
        db.session.remove()


def test_expired_commitment_leaves_the_index_through_the_worker(app_ctx, esat):
    """Meilisearch computes commitments when indexing: the worker's hourly pass re-sends the expired ones."""
    from datetime import date, timedelta

    from marche.core.outbox import run_periodic
    from marche.search.indexer import wait_for_pending
    from marche.search.structures import index_structures, structures_index
    from marche.suppliers.models import EnvCommitment, Structure

    structure = db.session.execute(db.select(Structure).order_by(Structure.id)).scalars().first()
    commitment = EnvCommitment(structure=structure, label="b_corp", expires_on=date.today() + timedelta(days=1))
    db.session.add(commitment)
    db.session.commit()
    index_structures(db.session, [structure.id], wait=True)
    assert "b_corp" in structures_index().get_document(structure.id).env
    # The day after expiry: the document still says b_corp until the worker's pass.
    commitment.expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert "b_corp" in structures_index().get_document(structure.id).env
    ran = run_periodic({}, now=0.0)
    assert "suppliers.expired_commitments" in ran
    wait_for_pending()
    assert "b_corp" not in structures_index().get_document(structure.id).env
    assert db.session.get(EnvCommitment, commitment.id).expiry_processed
    db.session.delete(db.session.get(EnvCommitment, commitment.id))
    db.session.commit()
