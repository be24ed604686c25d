"""The outbox: rows written with the change, processed after commit (inline or RQ), retried, then dead."""
import os

import pytest
from psycopg.errors import RaiseException
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

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


last_words: list[dict] = []


def failing_with_a_last_word(session, payload):
    raise RuntimeError("panne simulée, dernier mot attendu")


def last_word(session, payload):
    last_words.append(payload)
    audit.record(None, "test.last_word", "message:last", session=session)


def broken_last_word(session, payload):
    raise RuntimeError("le dernier mot échoue aussi")


outbox.register_handler("test.fail_last_word", failing_with_a_last_word, on_dead=last_word)
outbox.register_handler("test.fail_broken_last_word", failing_with_a_last_word, on_dead=broken_last_word)


@pytest.fixture(autouse=True)
def _reset_calls():
    last_words.clear()
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
    # the trigger's RAISE EXCEPTION (SQLSTATE P0001), not any error that happens to occur
    with pytest.raises(ProgrammingError, match="append-only") as error:
        db.session.execute(text("update audit_entry set action = 'changed' where id = :id"), {"id": entry.id})
        db.session.flush()
    assert isinstance(error.value.orig, RaiseException)
    db.session.rollback()
    with pytest.raises(ProgrammingError, match="append-only"):
        db.session.execute(text("delete from audit_entry"))
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.action)) == "test.action"


#: the suite runs against a real Redis (README, « Tests »): 127.0.0.1:6379 unless TEST_REDIS_URL says otherwise
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_rq_worker_processes_committed_rows(app, app_config):  # app: the migrated schema
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
        assert outbox.rq_queue(app).jobs[0].timeout == 300  # a stuck handler is stopped after five minutes
        outbox.run_worker(app, burst=True)
        assert calls == [{"via": "rq"}]
        assert outbox.rq_queue(app).count == 0  # run by the RQ worker, not only by the table's sweep
        assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "done"
        client = app.test_client()
        assert client.get("/healthz").json["queue"] == "ok"
        db.session.remove()


def test_redis_down_keeps_rows_for_the_sweep(app, app_config):  # app: the migrated schema
    app = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    with app.app_context():
        outbox.enqueue("test.record", {"kept": True})
        db.session.commit()  # Redis unreachable: the write still succeeds
        assert calls == []
        assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "pending"
        outbox.run_worker(app, burst=True)
        assert calls == [{"kept": True}]
        db.session.remove()


# --- the rules of retries, schedules and sweeps, on both sides of each boundary ---------------------

def test_backoff_doubles_from_the_configured_base(app_ctx):
    app_ctx.config["OUTBOX_BACKOFF_SECONDS"] = 10
    try:
        assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
        del app_ctx.config["OUTBOX_BACKOFF_SECONDS"]  # not configured: half a minute, as in production
        assert outbox.backoff(1).total_seconds() == 30
    finally:
        app_ctx.config["OUTBOX_BACKOFF_SECONDS"] = 0


def test_a_failure_is_retried_after_its_backoff_and_dies_at_the_last_attempt(app_ctx):
    from datetime import timedelta

    from marche.core.models import utcnow

    app_ctx.config["OUTBOX_BACKOFF_SECONDS"] = 600
    limit = app_ctx.config["OUTBOX_MAX_ATTEMPTS"]
    try:
        outbox.enqueue("test.fail", {})
        before = utcnow()
        db.session.commit()
        message = db.session.execute(select(OutboxMessage)).scalar_one()
        delay = message.next_attempt_at - before
        assert timedelta(seconds=600) <= delay < timedelta(seconds=660)
        for attempt in range(2, limit + 1):
            db.session.execute(text("update outbox_message set next_attempt_at = now()"))
            db.session.commit()
            outbox.sweep()
            db.session.expire_all()
            message = db.session.get(OutboxMessage, message.id)
            assert (message.attempts, message.status) == (attempt, "dead" if attempt == limit else "pending")
        assert outbox.process(message.id) is None  # a dead row is not run again
    finally:
        app_ctx.config["OUTBOX_BACKOFF_SECONDS"] = 0


def test_a_row_without_handler_fails_with_a_french_reason_and_long_errors_are_cut(app_ctx):
    @outbox.handler("test.long")
    def long_error(session, payload):
        raise RuntimeError("x" * 5000)

    db.session.add_all([OutboxMessage(kind="test.unknown-kind", payload={}, status="pending"),
                        OutboxMessage(kind="test.long", payload={}, status="pending")])
    db.session.commit()
    unknown, long = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert "aucun traitement pour « test.unknown-kind »" in unknown.last_error
    assert len(long.last_error) == 2000


def test_success_clears_the_last_error(app_ctx):
    db.session.add(OutboxMessage(kind="test.record", payload={"n": 3}, status="pending", attempts=2,
                                 last_error="ancienne panne"))
    db.session.commit()
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert (message.status, message.attempts, message.last_error) == ("done", 3, None)
    assert message.processed_at is not None


def test_enqueue_refuses_a_kind_without_handler(app_ctx):
    with pytest.raises(ValueError, match="no outbox handler for 'test.nobody'"):
        outbox.enqueue("test.nobody")


def test_the_sweep_takes_due_rows_only_in_order_and_up_to_its_limit(app_ctx):
    from datetime import timedelta

    from marche.core.models import utcnow

    now = utcnow()
    db.session.add_all([OutboxMessage(kind="test.record", payload={"n": n}, status="pending",
                                      next_attempt_at=now + timedelta(seconds=seconds))
                        for n, seconds in ((1, -5), (2, -3), (3, -1), (4, 600))])
    db.session.flush()
    db.session.info.pop("outbox_ids", None)  # written by hand, as rows left by an outage: the sweep runs them
    db.session.commit()
    assert outbox.sweep(limit=2) == 2
    assert calls == [{"n": 1}, {"n": 2}]
    assert outbox.sweep() == 1
    assert calls == [{"n": 1}, {"n": 2}, {"n": 3}]  # the row due in ten minutes waits


def test_a_rolled_back_savepoint_keeps_the_transactions_work(app_ctx):
    outbox.enqueue("test.record", {"n": 5})
    db.session.flush()
    savepoint = db.session.begin_nested()
    savepoint.rollback()
    db.session.commit()
    assert calls == [{"n": 5}]


def test_periodic_work_runs_when_its_interval_has_passed(app_ctx):
    runs: list[str] = []
    outbox.register_periodic("test.tick", 10, lambda: runs.append("tick"))

    @outbox.periodic("test.broken", 10)
    def broken():
        raise RuntimeError("tâche en panne")

    try:
        last: dict[str, float] = {}
        assert {"test.tick", "test.broken"} <= set(outbox.run_periodic(last, 100.0))  # never ran: due
        assert runs == ["tick"] and last["test.broken"] == 100.0  # a failing task is not retried at once
        assert "test.tick" not in outbox.run_periodic(last, 109.5)
        assert "test.tick" in outbox.run_periodic(last, 110.0)
        assert runs == ["tick", "tick"]
    finally:
        outbox._periodic.pop("test.tick", None)
        outbox._periodic.pop("test.broken", None)


def test_the_admin_retries_a_dead_message(app, client, make_user):
    """Issue 23: the retry button was never pressed by a test."""
    from tests.conftest import submit

    with app.app_context():
        dead = OutboxMessage(kind="test.record", payload={"n": "retried"}, status="dead", attempts=5, last_error="x")
        done = OutboxMessage(kind="test.record", payload={"n": "done"}, status="done", attempts=1)
        db.session.add_all([dead, done])
        db.session.commit()
        dead_id, done_id = dead.id, done.id
    make_user("admin@example.fr", kind="platform", admin=True)
    login(client, "admin@example.fr")
    response = submit(client, f"/admin/outbox/{dead_id}/retry", {}, form_url="/admin/outbox")
    assert response.status_code == 302
    assert calls == [{"n": "retried"}]
    with app.app_context():
        message = db.session.get(OutboxMessage, dead_id)
        assert (message.status, message.attempts, message.last_error) == ("done", 1, None)
    # only a dead row can be retried
    assert submit(client, f"/admin/outbox/{done_id}/retry", {}, form_url="/admin/outbox").status_code == 404
    assert calls == [{"n": "retried"}]


def test_enqueue_without_payload_hands_an_empty_dict(app_ctx):
    outbox.enqueue("test.record")
    db.session.commit()
    assert calls == [{}]


def test_the_worker_backs_off_doubling_up_to_its_ceiling_and_burst_runs_raise(app_config, caplog):
    """A pass that fails waits interval × 2ⁿ, never more than WORKER_MAX_BACKOFF_SECONDS; the
    expected delays are computed here from that rule."""
    import logging
    import threading
    import time

    from sqlalchemy.exc import OperationalError

    interval, ceiling = 0.1, 0.8
    broken = create_app({**app_config, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing",
                         "WORKER_MAX_BACKOFF_SECONDS": ceiling})
    with broken.app_context():
        with pytest.raises(OperationalError) as refused:
            outbox.run_worker(broken, burst=True)  # a one-off run reports the failure instead of waiting
    first_line = str(refused.value).strip().splitlines()[0]
    caplog.set_level(logging.ERROR, logger="marche.core.outbox")
    stop = threading.Event()

    def work():
        with broken.app_context():
            outbox.run_worker(broken, interval=interval, stop=stop)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while len([r for r in caplog.records if "worker pass failed" in r.getMessage()]) < 4:
            assert time.monotonic() < deadline, "le worker n'a pas réessayé quatre fois"
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(timeout=10)
    failed = [r for r in caplog.records if "worker pass failed" in r.getMessage()]
    assert failed[0].args[:2] == ("OperationalError", first_line[:200])  # the error's first line, not its SQL
    logged = [r.args[-2:] for r in failed][:4]
    expected = [(n, min(interval * 2 ** n, ceiling)) for n in (1, 2, 3, 4)]
    assert [(n, round(delay, 3)) for n, delay in logged] == [(n, round(d, 3)) for n, d in expected]
    assert not worker.is_alive()


def test_an_rq_job_inside_an_application_uses_that_application(app_ctx):
    """RQ's entry point builds an application only when none is running (a bare `rq worker`)."""
    message = OutboxMessage(kind="test.record", payload={"n": "job"}, status="pending")
    db.session.add(message)
    db.session.flush()
    db.session.info.pop("outbox_ids", None)  # as if handed to RQ: not processed at commit
    db.session.commit()
    assert outbox.run_job(message.id) == "done"
    assert calls == [{"n": "job"}]


def test_a_row_another_worker_holds_is_skipped_not_waited_for(app_ctx):
    """Two workers never wait on each other: a locked row is left to the one that holds it."""
    import threading

    message = OutboxMessage(kind="test.record", payload={"n": "locked"}, status="pending")
    db.session.add(message)
    db.session.flush()
    db.session.info.pop("outbox_ids", None)
    db.session.commit()
    results: list = []
    with db.engine.connect() as other_worker:
        other_worker.execute(text("select id from outbox_message where id = :id for update"), {"id": message.id})

        def process():
            with app_ctx.app_context():
                results.append(outbox.process(message.id))

        thread = threading.Thread(target=process, daemon=True)
        thread.start()
        thread.join(timeout=10)
        finished = not thread.is_alive()
        other_worker.rollback()  # releases the lock (and a waiting thread, if any)
    thread.join(timeout=10)
    assert finished and results == [None] and calls == []


followed: list[tuple[str, dict]] = []


@outbox.handler("test.event")
def own_handler(session, payload):
    followed.append(("own", payload))
    session.add(AuditEntry(actor_id=None, action="test.own", object_type="test", object_id="1", details={}))


def first_follower(session, payload):
    followed.append(("first", payload))


def failing_follower(session, payload):
    followed.append(("failing", payload))
    if payload.get("fail"):
        raise RuntimeError("le domaine qui suit l'événement est en panne")


outbox.subscribe("test.event", first_follower)
outbox.subscribe("test.event", first_follower)  # registered once, whatever init_app runs twice
outbox.subscribe("test.event", failing_follower)
outbox.subscribe("test.followers_only", first_follower)


def test_followers_run_after_the_kinds_own_handler_in_its_transaction(app_ctx):
    followed.clear()
    outbox.enqueue("test.event", {"n": 1})
    db.session.commit()
    assert followed == [("own", {"n": 1}), ("first", {"n": 1}), ("failing", {"n": 1})]
    assert db.session.scalar(select(db.func.count()).select_from(AuditEntry).where(AuditEntry.action == "test.own")) == 1


def test_a_failing_follower_undoes_the_handlers_work_and_the_message_is_retried(app_ctx):
    followed.clear()
    outbox.enqueue("test.event", {"fail": True})
    db.session.commit()
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.status == "pending" and "en panne" in message.last_error
    # the own handler's row went with the savepoint: nothing half done
    assert db.session.scalar(select(db.func.count()).select_from(AuditEntry).where(AuditEntry.action == "test.own")) == 0


def test_an_event_with_followers_only_is_accepted_and_done(app_ctx):
    followed.clear()
    outbox.enqueue("test.followers_only", {"n": 2})
    db.session.commit()
    assert followed == [("first", {"n": 2})]
    assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "done"


@pytest.mark.parametrize("attempts", [1, 2, 3])
def test_a_kinds_last_word_runs_once_when_its_row_dies_and_not_before(app_ctx, attempts):
    """`on_dead` runs in the dead row's transaction, on the last attempt only; a last word that fails leaves the
    row dead all the same."""
    app_ctx.config["OUTBOX_MAX_ATTEMPTS"], saved = attempts, app_ctx.config["OUTBOX_MAX_ATTEMPTS"]
    try:
        outbox.enqueue("test.fail_last_word", {"n": attempts})
        outbox.enqueue("test.fail_broken_last_word", {"n": attempts})
        db.session.commit()
        for attempt in range(1, attempts + 1):
            db.session.expire_all()
            statuses = dict(db.session.execute(select(OutboxMessage.kind, OutboxMessage.status)).all())
            dead = attempt == attempts
            assert statuses == {"test.fail_last_word": "dead" if dead else "pending",
                                "test.fail_broken_last_word": "dead" if dead else "pending"}
            assert last_words == ([{"n": attempts}] if dead else [])
            if not dead:
                db.session.execute(text("update outbox_message set next_attempt_at = now()"))
                db.session.commit()
                outbox.sweep()
        assert db.session.scalar(select(db.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "test.last_word")) == 1
    finally:
        app_ctx.config["OUTBOX_MAX_ATTEMPTS"] = saved
