"""Meilisearch stopped: the tender search answers from SQL (backend « sql », the page's banner), a tender
published meanwhile is found there at once, and the index catches up from the outbox when the engine is back
(dead index jobs re-driven by the worker), without a manual step."""
from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from marche import create_app
from marche.core import outbox
from marche.core.embedded import MeiliProcess
from marche.core.models import OutboxMessage
from marche.extensions import db
from marche.search import meili_backend, service
from marche.search.indexer import wait_for_pending
from marche.tenders.models import Tender
from marche.tenders.search_documents import TENDERS, TENDERS_CHANGED
from marche.tenders.search_query import parse_tender_query
from tests.conftest import RUN_ID, page_text
from tests.tenders.public_tenders import NOW
from tests.tenders.tender_search_data import build_tenders


@pytest.fixture
def engine(tmp_path):
    process = MeiliProcess(tmp_path / "meili", secrets.token_hex(16)).start()
    yield process
    process.stop()


@pytest.fixture
def engine_app(app, app_config, engine):  # app: the migrated schema
    return create_app({**app_config, "MEILI_URL": engine.url, "MEILI_MASTER_KEY": engine.master_key,
                       "MEILI_INDEX_PREFIX": f"toutage{RUN_ID}{secrets.token_hex(2)}"})


def query(**args):
    return TENDERS.prepared(parse_tender_query(MultiDict(args)))


def test_outage_sql_answers_then_the_index_catches_up(engine_app, engine):
    from datetime import timedelta

    with engine_app.test_request_context():
        ids = build_tenders()
        wait_for_pending()
        assert meili_backend.search(query(q="brouillon")).count == 0
        engine.stop()
        tender = db.session.get(Tender, ids["draft"])
        tender.status, tender.published_at, tender.answers_deadline = "published", NOW, NOW + timedelta(days=3)
        db.session.commit()  # the inline index attempt fails: Meilisearch is down
        result = service.search(query(q="brouillon"))
        assert result.backend == "sql" and [h["id"] for h in result.hits] == [ids["draft"]]
        for _ in range(engine_app.config["OUTBOX_MAX_ATTEMPTS"]):
            outbox.run_worker(engine_app, burst=True)
        last = db.session.execute(select(OutboxMessage.status).where(OutboxMessage.kind == TENDERS_CHANGED)
                                  .order_by(OutboxMessage.id.desc())).scalars().first()
        assert last == "dead"
        db.session.remove()
    client = engine_app.test_client()
    page = page_text(client.get("/consultations/recherche?q=brouillon"))
    assert "momentanément indisponible" in page and "Nettoyage en brouillon" in page
    engine.start()
    with engine_app.test_request_context():
        engine_app.extensions.pop(service._STATE_KEY, None)  # the cool-down after the failure is over
        outbox.run_worker(engine_app, burst=True)  # its periodic pass sees the engine back: jobs re-driven
        wait_for_pending()
        assert [h["id"] for h in meili_backend.search(query(q="brouillon")).hits] == [ids["draft"]]
        assert not db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == TENDERS_CHANGED,
                                                                  OutboxMessage.status != "done")).first()
        db.session.remove()
