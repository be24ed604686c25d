"""The outbox worker's loop through outages, with its production defaults: every wait it makes is
recorded by a `stop` event that never sleeps, so the expected delays (computed here from the rule
« interval × 2ⁿ, at most the ceiling, back to the interval once a pass succeeds ») are compared
exactly, without timing anything on a loaded machine. The outage is real: a TCP proxy to PostgreSQL
cut and restored (tests/netfaults.py)."""
from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from marche import create_app
from marche.core import outbox
from marche.core.models import OutboxMessage, utcnow
from marche.extensions import db
from tests.netfaults import TcpProxy, silent_server

#: run_worker's defaults as the README states them: a pass per second, waits never over 30 s
DEFAULT_INTERVAL, DEFAULT_CEILING = 1.0, 30
swept: list[int] = []


@outbox.handler("test.worker.record")
def record(session, payload):
    swept.append(payload["n"])


class ScriptedStop(threading.Event):
    """A stop event whose `wait` records its delay, runs the next scripted step (cut or restore the
    database) instead of sleeping, and ends the loop once the script is done."""

    def __init__(self, *steps):
        super().__init__()
        self.waits: list[float] = []
        self.steps = list(steps)

    def wait(self, timeout=None):
        self.waits.append(timeout)
        if self.steps:
            self.steps.pop(0)()
        if not self.steps:
            self.set()
        return self.is_set()


def nothing():
    pass


def expected_delay(failures: int, interval: float = DEFAULT_INTERVAL, ceiling: float = DEFAULT_CEILING) -> float:
    return min(interval * 2 ** failures, ceiling)


def test_a_healthy_worker_passes_once_a_second_by_default(app):
    stop = ScriptedStop(nothing, nothing, nothing)
    with app.app_context():
        outbox.run_worker(app, stop=stop)
        db.session.remove()
    assert stop.waits == [DEFAULT_INTERVAL] * 3


def test_outage_recovery_outage_backs_off_to_the_ceiling_then_starts_again_from_the_interval(
        app, app_config, database_url, caplog):
    """Six failed passes (2, 4, 8, 16, then the 30 s ceiling twice), recovery (one second), a second
    outage: its first wait is 2 s again, not the 7th step of the first outage."""
    proxy = TcpProxy(database_url).start()
    worker_app = create_app({**app_config, "DATABASE_URL": proxy.url()})
    assert "WORKER_MAX_BACKOFF_SECONDS" not in worker_app.config  # the production default is under test
    first_outage = 6
    stop = ScriptedStop(*[nothing] * (first_outage - 1), proxy.restore, proxy.cut, nothing)
    caplog.set_level(logging.WARNING, logger="marche.core.outbox")
    try:
        proxy.cut()
        with worker_app.app_context():
            outbox.run_worker(worker_app, stop=stop)
            db.session.remove()
            db.engine.dispose()
    finally:
        proxy.cut()
    expected = [expected_delay(n) for n in range(1, first_outage + 1)] + [DEFAULT_INTERVAL, expected_delay(1)]
    assert expected[4:6] == [DEFAULT_CEILING, DEFAULT_CEILING]  # the script does reach the ceiling
    assert stop.waits == expected
    failed = [r for r in caplog.records if "worker pass failed" in r.getMessage()]
    assert [r.args[2:] for r in failed] == [(n, expected_delay(n)) for n in range(1, first_outage + 1)] + [(1, 2.0)]
    recovered = [r.getMessage() for r in caplog.records if "back to normal" in r.getMessage()]
    assert recovered == [f"worker back to normal after {first_outage} failed passes"]


def test_a_long_error_is_logged_by_its_first_line_cut_at_200_characters(app_config, tmp_path, caplog):
    """libpq names the socket it could not reach: a long folder makes the first line longer than 200."""
    folder = tmp_path / ("d" * (96 - len(str(tmp_path))))
    folder.mkdir()
    broken = create_app({**app_config, "DATABASE_URL": f"postgresql://postgres@/marche?host={folder}"})
    with broken.app_context():
        with pytest.raises(OperationalError) as refused:
            outbox.run_worker(broken, burst=True)
        first_line = str(refused.value).strip().splitlines()[0]
        assert str(folder) in first_line and len(first_line) > 201
        caplog.set_level(logging.ERROR, logger="marche.core.outbox")
        outbox.run_worker(broken, stop=ScriptedStop(nothing))
    failed = [r for r in caplog.records if "worker pass failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].args[1] == first_line[:200]


def test_the_sweep_takes_200_rows_a_pass_by_default(app_ctx):
    now = utcnow()
    db.session.add_all([OutboxMessage(kind="test.worker.record", payload={"n": n}, status="pending",
                                      next_attempt_at=now - timedelta(seconds=1)) for n in range(201)])
    db.session.flush()
    db.session.info.pop("outbox_ids", None)  # rows left by an outage: only the sweep runs them
    db.session.commit()
    swept.clear()
    assert outbox.sweep() == 200
    assert swept == list(range(200))
    assert outbox.sweep() == 1 and swept[-1] == 200


def test_the_admin_page_lists_the_200_latest_dead_rows(app_ctx):
    db.session.add_all([OutboxMessage(kind="test.worker.record", payload={"n": n}, status="dead", attempts=5)
                        for n in range(201)])
    db.session.add(OutboxMessage(kind="test.worker.record", payload={"n": "done"}, status="done"))
    db.session.commit()
    listed = outbox.dead_messages()
    assert [m.payload["n"] for m in listed] == list(range(200, 0, -1))  # newest first, the oldest left out


def test_a_session_that_cannot_be_dropped_is_logged_with_its_traceback(app_ctx, caplog):
    """After an outage the worker drops its session; closing a dead connection may fail too: the
    failure is logged at debug level with its traceback, and the worker goes on."""

    def refuse(session, transaction):
        raise ConnectionResetError("connexion déjà fermée")

    db.session.execute(select(1))  # the session holds a transaction: removing it ends that transaction
    event.listen(Session, "after_transaction_end", refuse)
    caplog.set_level(logging.DEBUG, logger="marche.core.outbox")
    try:
        outbox._forget_session()
    finally:
        event.remove(Session, "after_transaction_end", refuse)
    dropped = [r for r in caplog.records if r.getMessage() == "session removal failed"]
    assert len(dropped) == 1 and dropped[0].exc_info is not None
    assert dropped[0].exc_info[0] is ConnectionResetError


@contextlib.contextmanager
def unreachable_server():
    """A port whose listen queue is full: the kernel drops new connection attempts, a client's
    connect() waits for its own timeout (a Redis host gone from the network)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    waiting = []
    for _ in range(4):
        client = socket.socket()
        client.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            client.connect(("127.0.0.1", port))
        waiting.append(client)
    try:
        yield port
    finally:
        for client in waiting + [server]:
            client.close()


@pytest.mark.parametrize("frozen", [silent_server, unreachable_server], ids=["never-answers", "never-connects"])
def test_a_dead_redis_costs_a_write_one_second(app, app_config, frozen):
    """One second to connect, one second to answer (README: « a dead or frozen Redis costs a write
    about a second »): the row stays pending for the worker's sweep."""
    with frozen() as port:
        writer = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
        with writer.app_context():
            outbox.enqueue("test.worker.record", {"n": "frozen"})
            started = time.monotonic()
            db.session.commit()
            elapsed = time.monotonic() - started
            assert db.session.scalar(select(OutboxMessage.status)) == "pending"
            db.session.remove()
    assert 1.0 <= elapsed < 2.0


def test_pending_count_counts_pending_rows_only(app_ctx):
    assert outbox.pending_count() == 0
    db.session.add_all([OutboxMessage(kind="test.worker.record", payload={"n": n}, status=status,
                                      next_attempt_at=utcnow() + timedelta(hours=1))
                        for n, status in enumerate(("pending", "pending", "pending", "dead", "done"))])
    db.session.flush()
    db.session.info.pop("outbox_ids", None)
    db.session.commit()
    assert outbox.pending_count() == 3  # not the 2 other rows
