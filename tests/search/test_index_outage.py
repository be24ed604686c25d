"""The index survives a Meilisearch outage longer than the outbox's retry window: dead index jobs are
re-driven by the worker once the engine answers again, and `reindex --if-needed` (run by
`flask marche prepare`) compares each document's version (`updated_at`) with the database, not counts."""
from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select, text

from marche import create_app
from marche.core import outbox
from marche.core.embedded import MeiliProcess
from marche.core.models import OutboxMessage
from marche.extensions import db
from marche.search.documents import version_of
from marche.search.indexer import reindex_all, wait_for_pending
from marche.search.structures import structures_index
from marche.suppliers.models import Structure
from marche.suppliers.services import notify_changed
from tests.conftest import RUN_ID, truncate_tables
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def _clean_tables(app):
    """Unlike the other search modules (which share one imported directory), each test here starts
    from empty tables: they count rows and outbox jobs."""
    yield
    truncate_tables(app)


@pytest.fixture
def engine(tmp_path):
    """A Meilisearch of this test's own, to stop and start again."""
    process = MeiliProcess(tmp_path / "meili", secrets.token_hex(16)).start()
    yield process
    process.stop()


@pytest.fixture
def engine_app(app, app_config, engine):  # app: the migrated schema
    return create_app({**app_config, "MEILI_URL": engine.url, "MEILI_MASTER_KEY": engine.master_key,
                       "MEILI_INDEX_PREFIX": f"outage{RUN_ID}{secrets.token_hex(2)}"})


def indexed(structure_id: int) -> dict:
    wait_for_pending()
    return dict(structures_index().get_document(str(structure_id)))


def test_update_made_during_a_long_outage_reaches_the_index_without_a_manual_step(engine_app, engine,
                                                                                   make_structure):
    structure_id = make_structure(siret="75187049400026", name="Atelier avant la panne")
    with engine_app.test_request_context():
        reindex_all()
        assert indexed(structure_id)["name"] == "Atelier avant la panne"
        engine.stop()
        structure = db.session.get(Structure, structure_id)
        structure.name = "Atelier pendant la panne"
        notify_changed([structure_id])
        db.session.commit()  # the inline attempt fails: Meilisearch is down
        max_attempts = engine_app.config["OUTBOX_MAX_ATTEMPTS"]
        for _ in range(max_attempts):  # the worker runs past the retry window (backoff 0 in tests)
            outbox.run_worker(engine_app, burst=True)
        message = db.session.execute(select(OutboxMessage)).scalar_one()
        assert (message.status, message.attempts) == ("dead", max_attempts)
        engine.start()  # same data, same port
        outbox.run_worker(engine_app, burst=True)  # its periodic pass sees the engine back
        db.session.expire_all()
        assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "done"
        document = indexed(structure_id)
        assert document["name"] == "Atelier pendant la panne"
        assert document["updated_at"] == version_of(db.session.get(Structure, structure_id).updated_at)
        db.session.remove()


def test_dead_index_jobs_stay_dead_while_the_engine_is_down(engine_app, engine, make_structure):
    structure_id = make_structure(siret="75187049400034", name="Atelier hors ligne")
    with engine_app.test_request_context():
        engine.stop()
        notify_changed([structure_id])
        db.session.commit()
        for _ in range(engine_app.config["OUTBOX_MAX_ATTEMPTS"] + 2):  # more passes: no re-drive yet
            outbox.run_worker(engine_app, burst=True)
        assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "dead"
        db.session.remove()
    engine.start()


def test_reindex_if_needed_compares_versions_not_counts(engine_app, make_structure):
    kept = make_structure(siret="75187049400042", name="Recyclerie d'origine")
    gone = make_structure(siret="75187049400059", name="Structure fermée")
    runner = engine_app.test_cli_runner()
    with engine_app.app_context():
        reindex_all()
        assert "Index à jour (2 structures)" in runner.invoke(args=["marche", "reindex", "--if-needed"]).output
        # an update that never reached the index (its job lost): same count, older version
        db.session.execute(text("update structure set name = 'Recyclerie renommée', updated_at = now() "
                                "where id = :id"), {"id": kept})
        db.session.commit()
        result = runner.invoke(args=["marche", "reindex", "--if-needed"])
        assert "Index rattrapé : 1 fiches renvoyées, 0 retirées." in result.output, result.output
        assert indexed(kept)["name"] == "Recyclerie renommée"
        # a row removed behind the index's back
        db.session.execute(text("delete from structure where id = :id"), {"id": gone})
        db.session.commit()
        result = runner.invoke(args=["marche", "reindex", "--if-needed"])
        assert "Index rattrapé : 0 fiches renvoyées, 1 retirées." in result.output, result.output
        wait_for_pending()
        assert structures_index().get_stats().number_of_documents == 1
        assert "Index à jour (1 structures)" in runner.invoke(args=["marche", "reindex", "--if-needed"]).output
        db.session.remove()


def test_reindex_if_needed_rebuilds_an_index_whose_facets_changed(engine_app, make_structure):
    """Documents written before a new facet lack its field, with their versions unchanged: `--if-needed` sees the
    index's filterable attributes differ from the type's and builds it again (which restores them)."""
    from marche.search.indexer import _wait, index_of
    from marche.search.structures import STRUCTURES

    make_structure(siret="75187049400042", name="Recyclerie d'origine")
    runner = engine_app.test_cli_runner()
    with engine_app.app_context():
        reindex_all()
        wanted = sorted(STRUCTURES.settings["filterableAttributes"])
        _wait(index_of(STRUCTURES).update_filterable_attributes(wanted[:-1]).task_uid)  # as before a new facet
        result = runner.invoke(args=["marche", "reindex", "--if-needed"])
        assert "à reconstruire : ses attributs filtrables ont changé" in result.output, result.output
        wait_for_pending()
        assert sorted(index_of(STRUCTURES).get_filterable_attributes()) == wanted
        assert "Index à jour (1 structures)" in runner.invoke(args=["marche", "reindex", "--if-needed"]).output
        db.session.remove()
