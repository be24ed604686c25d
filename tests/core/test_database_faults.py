"""Database faults must not take the portal down: a locked table or an unreachable server answers a
French 503 (JSON under /api/) within 5 s, /healthz says the database is down within 5 s, connections
cut by a restart are replaced, and the outbox worker outlives an outage and resumes by itself."""
from __future__ import annotations

import logging
import threading
import time

import psycopg
import pytest
from sqlalchemy import select, text

from marche import create_app
from marche.config import Config, ConfigError
from marche.core import outbox
from marche.core.models import OutboxMessage
from marche.extensions import db
from tests.conftest import login, page_text
from tests.netfaults import TcpProxy, silent_server

#: what the brief promises a user waits at most when the database is in trouble
ANSWER_WITHIN_S = 5.0
processed: list[dict] = []


@outbox.handler("test.faults.record")
def record(session, payload):
    processed.append(payload)


def timed_get(client, url):
    start = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - start


def test_default_engine_options_bound_every_wait(app):
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    assert options["pool_timeout"] == 3
    assert options["connect_args"]["connect_timeout"] == 3
    assert options["connect_args"]["options"] == "-c statement_timeout=4000"
    with app.app_context():
        assert db.session.scalar(text("show statement_timeout")) == "4s"
        db.session.remove()


def test_locked_table_answers_french_503_within_5_seconds(client, database_url):
    url = "/structures/75187049400026"
    assert client.get(url).status_code == 404  # no lock: the ordinary answer
    with psycopg.connect(database_url) as holder:
        holder.execute("LOCK TABLE structure IN ACCESS EXCLUSIVE MODE")  # held until the block ends
        page, elapsed = timed_get(client, url)
        assert page.status_code == 503 and elapsed < ANSWER_WITHIN_S
        assert "Service momentanément indisponible" in page_text(page)
        assert page.headers["Retry-After"] == "30"
        api, elapsed = timed_get(client, "/api/v1/structures/75187049400026")
        assert api.status_code == 503 and elapsed < ANSWER_WITHIN_S
        assert api.json["error"] == "Service momentanément indisponible"
        health, elapsed = timed_get(client, "/healthz")  # the server itself answers: not « down »
        assert health.status_code == 200 and health.json["database"] == "ok" and elapsed < ANSWER_WITHIN_S
        holder.rollback()
    assert client.get(url).status_code == 404  # lock released: back to normal, nothing stuck


def test_a_logged_in_user_gets_the_503_page_too(client, database_url, make_user):
    """Loading the logged-in user is itself a query: the 503 page must not need the database."""
    make_user("acheteuse@example.fr")
    assert login(client, "acheteuse@example.fr").status_code == 302
    assert "Camille Test" in page_text(client.get("/"))
    with psycopg.connect(database_url) as holder:
        holder.execute("LOCK TABLE user_account IN ACCESS EXCLUSIVE MODE")
        page, elapsed = timed_get(client, "/")
        assert page.status_code == 503 and elapsed < ANSWER_WITHIN_S
        assert "Service momentanément indisponible" in page_text(page)
        holder.rollback()
    assert "Camille Test" in page_text(client.get("/"))  # still logged in once the database answers


def test_unreachable_database_answers_within_5_seconds(app_config):
    with silent_server() as port:  # accepts the connection, never answers: a frozen server
        app = create_app({**app_config, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/marche"})
        client = app.test_client()
        health, elapsed = timed_get(client, "/healthz")
        assert health.status_code == 503 and health.json["database"] == "down"
        assert elapsed < ANSWER_WITHIN_S
        page, elapsed = timed_get(client, "/structures/75187049400026")
        assert page.status_code == 503 and elapsed < ANSWER_WITHIN_S
        assert "La base de données ne répond pas" in page_text(page)
        api, elapsed = timed_get(client, "/api/v1/structures/75187049400026")
        assert api.status_code == 503 and elapsed < ANSWER_WITHIN_S
        assert api.is_json and "ne répond pas" in api.json["message"]


def test_healthz_answers_within_5_seconds_when_every_service_is_frozen(app_config):
    with silent_server() as database, silent_server() as search, silent_server() as queue:
        app = create_app({**app_config, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{database}/marche",
                          "MEILI_URL": f"http://127.0.0.1:{search}", "REDIS_URL": f"redis://127.0.0.1:{queue}/0"})
        health, elapsed = timed_get(app.test_client(), "/healthz")
    assert elapsed < ANSWER_WITHIN_S
    assert health.status_code == 503
    assert health.json == {"database": "down", "search": "down", "queue": "down"}


def test_connections_cut_by_a_restart_are_replaced(client, database_url):
    assert client.get("/api/v1/structures/75187049400026").status_code == 404  # a pooled connection exists
    with psycopg.connect(database_url, autocommit=True) as admin:
        killed = admin.execute("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                               "where datname = current_database() and pid <> pg_backend_pid()").fetchone()[0]
    assert killed >= 1
    assert client.get("/api/v1/structures/75187049400026").status_code == 404
    assert client.get("/healthz").json["database"] == "ok"


def test_worker_outlives_a_database_outage(app, app_config, database_url, caplog):  # app: the migrated schema
    processed.clear()
    proxy = TcpProxy(database_url).start()
    app = create_app({**app_config, "DATABASE_URL": proxy.url(), "WORKER_MAX_BACKOFF_SECONDS": 0.5})
    stop = threading.Event()
    crashed: list[BaseException] = []

    def work():
        try:
            with app.app_context():
                outbox.run_worker(app, interval=0.1, stop=stop)
        except BaseException as error:  # noqa: BLE001 - what the test looks for
            crashed.append(error)

    worker = threading.Thread(target=work, daemon=True)
    caplog.set_level(logging.ERROR, logger="marche.core.outbox")
    try:
        worker.start()
        time.sleep(0.5)  # a few healthy passes
        proxy.cut()  # the database goes away: open connections dropped, new ones refused
        deadline = time.monotonic() + 10
        while not any("worker pass failed" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "le worker n'a pas vu la panne"
            time.sleep(0.1)
        time.sleep(1.0)  # several failed passes
        assert worker.is_alive() and not crashed
        proxy.restore()
        # the row is written beside the proxy by an app that processes nothing inline (its Redis is
        # a closed port), so only the worker under test can run it
        writer = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
        with writer.app_context():
            db.session.add(OutboxMessage(kind="test.faults.record", payload={"after": "outage"}))
            db.session.commit()
            deadline = time.monotonic() + 15
            while processed != [{"after": "outage"}]:
                assert time.monotonic() < deadline, "le worker n'a pas repris après la panne"
                time.sleep(0.1)
            # the handler runs before the worker commits the row's status: wait for the commit too
            while db.session.scalar(select(OutboxMessage.status)) != "done":
                assert time.monotonic() < deadline, "le worker n'a pas enregistré son succès"
                db.session.rollback()
                time.sleep(0.1)
            db.session.remove()
        assert worker.is_alive() and not crashed
    finally:
        stop.set()
        worker.join(timeout=10)
        proxy.cut()
    assert not worker.is_alive()


def test_timeouts_are_configurable_and_bad_values_are_named(tmp_path):
    base = {"DATABASE_URL": "postgresql://db.example/marche"}
    options = Config.from_env(tmp_path, environ={**base, "DATABASE_STATEMENT_TIMEOUT": "1500",
                                                 "DATABASE_CONNECT_TIMEOUT": "2", "DATABASE_POOL_TIMEOUT": "1"}
                              ).engine_options()
    assert options["connect_args"] == {"connect_timeout": 2, "options": "-c statement_timeout=1500"}
    assert options["pool_timeout"] == 1
    # 0 turns the statement timeout off (migrations, imports and full reindexes in scripts)
    assert "options" not in Config.from_env(tmp_path, environ={**base, "DATABASE_STATEMENT_TIMEOUT": "0"}
                                            ).engine_options()["connect_args"]
    for bad in ("quatre", "-1", "1.5"):
        with pytest.raises(ConfigError, match="DATABASE_STATEMENT_TIMEOUT"):
            Config.from_env(tmp_path, environ={**base, "DATABASE_STATEMENT_TIMEOUT": bad})


def test_an_exhausted_pool_answers_503_after_the_pool_timeout(app, app_config):
    busy = create_app({**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_size": 1, "max_overflow": 0, "pool_timeout": 1}})
    client = busy.test_client()
    assert client.get("/api/v1/structures/75187049400026").status_code == 404  # one free connection
    with busy.app_context():
        held = db.engine.connect()  # every connection of the pool is now taken
        try:
            response, elapsed = timed_get(client, "/api/v1/structures/75187049400026")
            assert response.status_code == 503 and 1 <= elapsed < ANSWER_WITHIN_S
        finally:
            held.close()
        db.engine.dispose()
    assert client.get("/api/v1/structures/75187049400026").status_code == 404  # released: served again
