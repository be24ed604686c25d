"""The outbox: rows written with the change, processed after commit (inline or RQ), retried, then dead."""
import os

import pytest
from sqlalchemy import select, text

from marche import create_app
from marche.core import audit, outbox
from marche.core.models import AuditEntry, OutboxMessage
from marche.extensions import db
from tests.conftest import login

calls: list[dict] = []


@outbox.handler("test.record")
def record_call(session, payload):
    calls.append(payload)


@outbox.handler("test.fail")
def always_fail(session, payload):
    raise RuntimeError("panne simulée du destinataire")


@pytest.fixture(autouse=True)
def _reset_calls():
    calls.clear()


def test_inline_processing_after_commit(app_ctx):
    outbox.enqueue("test.record", {"n": 1})
    assert calls == []  # nothing runs before the commit
    db.session.commit()
    assert calls == [{"n": 1}]
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.status == "done" and message.attempts == 1


def test_rollback_drops_the_work(app_ctx):
    outbox.enqueue("test.record", {"n": 2})
    db.session.flush()
    db.session.rollback()
    assert calls == []
    assert db.session.scalar(select(db.func.count()).select_from(OutboxMessage)) == 0


def test_failures_back_off_then_die(app_ctx):
    app_ctx.config["OUTBOX_BACKOFF_SECONDS"] = 3600
    try:
        outbox.enqueue("test.fail", {})
        db.session.commit()
        message = db.session.execute(select(OutboxMessage)).scalar_one()
        assert message.status == "pending" and message.attempts == 1
        assert "panne simulée" in message.last_error
        assert message.next_attempt_at > message.created_at
        assert outbox.sweep() == 0  # not due yet: the backoff holds it
        for expected in range(2, 6):
            db.session.execute(text("update outbox_message set next_attempt_at = now()"))
            db.session.commit()
            assert outbox.sweep() == 1
            db.session.expire_all()
            assert db.session.get(OutboxMessage, message.id).attempts == expected
        assert db.session.get(OutboxMessage, message.id).status == "dead"
    finally:
        app_ctx.config["OUTBOX_BACKOFF_SECONDS"] = 0


def test_dead_messages_are_shown_to_platform_admins_only(app, client, make_user):
    with app.app_context():
        db.session.add(OutboxMessage(kind="test.fail", payload={}, status="dead", attempts=5, last_error="x"))
        db.session.commit()
    make_user("admin@example.fr", kind="platform", admin=True)
    make_user("buyer@example.fr")
    login(client, "buyer@example.fr")
    assert client.get("/admin/outbox").status_code == 404
    client.post("/deconnexion", data={})
    other = app.test_client()
    login(other, "admin@example.fr")
    page = other.get("/admin/outbox")
    assert page.status_code == 200 and "test.fail" in page.get_data(as_text=True)


def test_audit_log_is_append_only(app_ctx):
    entry = audit.record(None, "test.action", AuditEntry(id=1), detail="x")
    db.session.commit()
    with pytest.raises(Exception) as error:
        db.session.execute(text("update audit_entry set action = 'changed' where id = :id"), {"id": entry.id})
        db.session.flush()
    assert "append-only" in str(error.value)
    db.session.rollback()
    with pytest.raises(Exception):
        db.session.execute(text("delete from audit_entry"))
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.action)) == "test.action"


#: the suite runs against a real Redis (README, « Tests »): 127.0.0.1:6379 unless TEST_REDIS_URL says otherwise
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_rq_worker_processes_committed_rows(app_config):
    from redis import Redis

    assert Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping(), f"Redis ne répond pas sur {REDIS_URL}"

    app = create_app({**app_config, "REDIS_URL": REDIS_URL})
    queue_name = app.config["RQ_QUEUE"]
    Redis.from_url(REDIS_URL).delete(f"rq:queue:{queue_name}")
    with app.app_context():
        outbox.enqueue("test.record", {"via": "rq"})
        db.session.commit()
        assert calls == []  # handed to RQ, not run inline
        assert outbox.rq_queue(app).count == 1
        outbox.run_worker(app, burst=True)
        assert calls == [{"via": "rq"}]
        assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "done"
        client = app.test_client()
        assert client.get("/healthz").json["queue"] == "ok"
        db.session.remove()


def test_redis_down_keeps_rows_for_the_sweep(app_config):
    app = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    with app.app_context():
        outbox.enqueue("test.record", {"kept": True})
        db.session.commit()  # Redis unreachable: the write still succeeds
        assert calls == []
        assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "pending"
        outbox.run_worker(app, burst=True)
        assert calls == [{"kept": True}]
        db.session.remove()
