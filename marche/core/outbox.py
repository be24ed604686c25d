"""The outbox: work recorded in the same transaction as the change, run after the commit.

`enqueue(kind, payload)` adds a row to the current session. Once that session commits, the row
is handed to RQ (when `REDIS_URL` is set) or processed inline. `flask marche worker` also sweeps
rows that are due (Redis down, retries after a failure). A failing handler is retried with an
exponential backoff, then the row is marked dead and shown to platform admins.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from datetime import timedelta
from typing import Any, Callable

from flask import Flask, current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ..extensions import db
from .models import OutboxMessage, OutboxStatus, utcnow

Handler = Callable[[Session, dict[str, Any]], None]
_handlers: dict[str, Handler] = {}
#: a kind's last word when its row is given up (an import marked failed, so that its page stops waiting)
_last_words: dict[str, Handler] = {}
#: further handlers of a kind, run after its own in the same transaction (another domain following an event)
_subscribers: dict[str, list[Handler]] = {}
#: work the worker runs on a schedule: name -> (interval in seconds, function of no argument)
_periodic: dict[str, tuple[float, Callable[[], Any]]] = {}
log = logging.getLogger(__name__)


def register_handler(kind: str, func: Handler, on_dead: Handler | None = None) -> None:
    """The function that processes outbox rows of this kind (called by a domain's `init_app`), and the one that
    runs once, in the same transaction, when a row of it is given up after its last attempt."""
    _handlers[kind] = func
    if on_dead is not None:
        _last_words[kind] = on_dead


def subscribe(kind: str, func: Handler) -> None:
    """Another domain's handler of an event kind (`tenders.lot_awarded` is followed by groupings): it runs after
    the kind's own handler (an event may have none, only followers), in the same transaction, so that the
    message is done only when all of them are."""
    followers = _subscribers.setdefault(kind, [])
    if func not in followers:
        followers.append(func)


def register_periodic(name: str, every_seconds: float, func: Callable[[], Any]) -> None:
    """Work that `flask marche worker` runs at start, then every `every_seconds` (from `init_app`)."""
    _periodic[name] = (every_seconds, func)


def handler(kind: str):
    """Decorator form of `register_handler`, for tests and one-off handlers."""

    def register(func: Handler) -> Handler:
        register_handler(kind, func)
        return func

    return register


def periodic(name: str, every_seconds: float):
    """Decorator form of `register_periodic`."""

    def register(func: Callable[[], Any]) -> Callable[[], Any]:
        register_periodic(name, every_seconds, func)
        return func

    return register


def run_periodic(last_runs: dict[str, float], now: float) -> list[str]:
    """Run the scheduled work that is due; return the names that ran."""
    ran = []
    for name, (interval, func) in _periodic.items():
        if now - last_runs.get(name, float("-inf")) >= interval:
            try:
                func()
            except Exception:  # noqa: BLE001 - a failing task must not stop the worker
                log.exception("periodic task %s failed", name)
                _forget_session()
            last_runs[name] = now
            ran.append(name)
    return ran


def enqueue(kind: str, payload: dict[str, Any] | None = None, session: Session | None = None) -> OutboxMessage:
    """`session`: a handler's own session, when one outbox job queues the next ones (default: the request's)."""
    if kind not in _handlers and not _subscribers.get(kind):
        raise ValueError(f"no outbox handler for {kind!r}")
    message = OutboxMessage(kind=kind, payload=payload or {}, status=OutboxStatus.PENDING)
    (session or db.session).add(message)
    return message


def _collect_new(session, flush_context) -> None:
    ids = session.info.setdefault("outbox_ids", [])
    ids.extend(obj.id for obj in session.new if isinstance(obj, OutboxMessage))


def _after_commit(session) -> None:
    if session.in_nested_transaction():
        # SQLAlchemy also signals the release of a SAVEPOINT (a handler's `begin_nested`): its rows are not
        # committed yet, they leave with the outer transaction
        return
    ids = session.info.pop("outbox_ids", [])
    if ids:
        dispatch(ids)


def _after_rollback(session) -> None:
    session.info.pop("outbox_ids", None)


def dispatch(ids: list[int]) -> None:
    """Hand committed rows to RQ, or process them now when no Redis is configured."""
    app = current_app._get_current_object()
    queue = rq_queue(app)
    if queue is None:
        for message_id in ids:
            process(message_id)
        return
    try:
        for message_id in ids:
            queue.enqueue("marche.core.outbox.run_job", message_id, job_timeout=300)
    except Exception:  # Redis unreachable: the rows stay pending and the worker's sweep runs them
        log.warning("queue unreachable, outbox rows %s left for the sweep", ids)


def rq_queue(app: Flask):
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis
    from rq import Queue

    connection = app.extensions.get("marche_redis")
    if connection is None:
        # short timeouts: a dead or frozen Redis costs a write or /healthz about a second, not a hang
        connection = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        app.extensions["marche_redis"] = connection
    return Queue(app.config["RQ_QUEUE"], connection=connection)


def backoff(attempts: int) -> timedelta:
    base = current_app.config.get("OUTBOX_BACKOFF_SECONDS", 30)
    return timedelta(seconds=base * (2 ** (attempts - 1)))


def process(message_id: int) -> str | None:
    """Run one row's handler in its own session; return its new status (None if not due)."""
    with Session(db.engine) as session:
        message = session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if message is None:
            return None
        message.attempts += 1
        try:
            with session.begin_nested():
                func = _handlers.get(message.kind)
                followers = _subscribers.get(message.kind, [])
                if func is None and not followers:
                    raise LookupError(f"aucun traitement pour « {message.kind} »")
                for step in ([func] if func else []) + followers:
                    step(session, dict(message.payload))
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            message.last_error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
            if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
                message.status = OutboxStatus.DEAD
                _last_word(session, message)
            else:
                message.next_attempt_at = utcnow() + backoff(message.attempts)
            log.warning("outbox %s (%s) failed: %s", message.id, message.kind, message.last_error)
        else:
            message.status = OutboxStatus.DONE
            message.processed_at = utcnow()
            message.last_error = None
        session.commit()
        return message.status


def _last_word(session: Session, message: OutboxMessage) -> None:
    """The kind's `on_dead`, in its own savepoint: when it fails too, the row is still marked dead."""
    last_word = _last_words.get(message.kind)
    if last_word is None:
        return
    try:
        with session.begin_nested():
            last_word(session, dict(message.payload))
    except Exception as exc:  # noqa: BLE001 - the row is dead either way; its last word's failure is logged
        log.error("outbox %s (%s): on_dead failed: %s", message.id, message.kind, exc)


def sweep(limit: int = 200) -> int:
    """Process the pending rows that are due; return how many were processed."""
    due = db.session.execute(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).scalars().all()
    db.session.rollback()
    return sum(1 for message_id in due if process(message_id) is not None)


def dead_messages(limit: int = 200) -> list[OutboxMessage]:
    """The most recent rows given up after their last attempt (the platform admin's page)."""
    return list(db.session.execute(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD)
                                   .order_by(OutboxMessage.id.desc()).limit(limit)).scalars())


def pending_count() -> int:
    return db.session.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)) or 0


def dead_message(message_id: int) -> OutboxMessage | None:
    message = db.session.get(OutboxMessage, message_id)
    return message if message is not None and message.status == OutboxStatus.DEAD else None


def retry_dead(message: OutboxMessage) -> None:
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()


def run_job(message_id: int) -> str | None:
    """RQ entry point: runs inside the worker's application context."""
    from flask import has_app_context

    if has_app_context():
        return process(message_id)
    # a bare `rq worker` process: build the application named in the configuration (core never
    # imports the factory, which imports every domain)
    from werkzeug.utils import import_string

    from ..config import APP_FACTORY

    with import_string(APP_FACTORY)().app_context():
        return process(message_id)


def run_worker(app: Flask, burst: bool = False, interval: float = 1.0, stop: threading.Event | None = None) -> None:
    """`flask marche worker`: RQ jobs when Redis is set, plus a sweep of due rows.

    A pass that fails (database restarting, network cut) is logged and retried after a backoff
    that doubles up to `WORKER_MAX_BACKOFF_SECONDS`: the worker outlives the outage and picks the
    pending rows up when the database is back. `stop` ends the loop (tests, signal handlers)."""
    last_runs: dict[str, float] = {}
    failures = 0
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            worker_pass(app, last_runs)
        except Exception as exc:  # noqa: BLE001 - an outage must not end the worker
            if burst:
                raise
            failures += 1
            delay = min(interval * 2 ** failures, app.config.get("WORKER_MAX_BACKOFF_SECONDS", 30))
            log.error("worker pass failed (%s: %s); retry %d in %.1f s", type(exc).__name__,
                      str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "", failures, delay)
            _forget_session()
            stop.wait(delay)
            continue
        if failures:
            log.warning("worker back to normal after %d failed passes", failures)
            failures = 0
        if burst:
            return
        stop.wait(interval)


def worker_pass(app: Flask, last_runs: dict[str, float]) -> None:
    """One turn of the worker: scheduled work, the RQ queue, then the due rows of the table."""
    run_periodic(last_runs, time.monotonic())
    queue = rq_queue(app)
    if queue is not None:
        try:
            from rq import SimpleWorker

            SimpleWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")
        except Exception:  # noqa: BLE001 - Redis down: the sweep still runs the rows
            log.warning("RQ unreachable, sweeping the outbox table only")
    sweep()


def _forget_session() -> None:
    """Drop the session and its connection: after an outage, its state means nothing."""
    try:
        db.session.remove()
    except Exception:  # noqa: BLE001 - closing a dead connection can fail too
        log.debug("session removal failed", exc_info=True)


def init_app(app: Flask) -> None:
    if not getattr(init_app, "_listening", False):
        event.listen(Session, "after_flush", _collect_new)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda s, t: _after_rollback(s) if t.parent is None else None)
        init_app._listening = True
