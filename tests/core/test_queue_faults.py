"""Redis down: a write that queues work still succeeds (its outbox row waits for the worker's sweep),
and /healthz reports the queue down quickly, even when Redis accepts connections and never answers."""
from __future__ import annotations

import time

from sqlalchemy import select

from marche import create_app
from marche.core import outbox
from marche.core.models import OutboxMessage
from marche.extensions import db
from tests.accounts.test_signup import SIGNUP
from tests.conftest import submit
from tests.netfaults import silent_server


def test_signup_with_redis_down_succeeds_and_the_mail_leaves_later(app, app_config, mailbox):
    broken = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})  # app: the migrated schema
    response = submit(broken.test_client(), "/inscription", SIGNUP)
    assert response.status_code == 302  # the write went through
    with broken.app_context():
        message = db.session.execute(select(OutboxMessage)).scalar_one()
        assert (message.kind, message.status) == ("mail.send", "pending")
        assert len(mailbox) == 0
        outbox.run_worker(broken, burst=True)  # the worker's sweep sends it once Redis is out of the way
        db.session.expire_all()
        assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "done"
        db.session.remove()
    assert mailbox.last_to(SIGNUP["email"])["Subject"] == "Confirmez votre adresse e-mail"


def test_frozen_redis_is_reported_down_fast_and_writes_still_succeed(app, app_config):
    with silent_server() as port:
        frozen = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
        client = frozen.test_client()
        start = time.monotonic()
        health = client.get("/healthz")
        assert time.monotonic() - start < 3
        assert health.status_code == 200
        assert health.json == {"database": "ok", "search": "ok", "queue": "down"}
        start = time.monotonic()
        response = submit(client, "/inscription", SIGNUP)
        assert response.status_code == 302 and time.monotonic() - start < 5
    with frozen.app_context():
        assert db.session.execute(select(OutboxMessage.status)).scalar_one() == "pending"
        db.session.remove()


def test_login_with_the_limiter_storage_down_is_not_a_500(app, app_config, make_user):
    from marche.extensions import limiter

    make_user("acheteuse@example.fr")
    dead = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0",
                       "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})
    try:
        client = dead.test_client()
        wrong = submit(client, "/connexion", {"email": "acheteuse@example.fr", "password": "pas-le-bon-1"})
        assert wrong.status_code == 200  # the form again, with its error (failures are counted in PostgreSQL, not in Redis)
        right = submit(client, "/connexion", {"email": "acheteuse@example.fr", "password": "motdepasse-solide-1"})
        assert right.status_code == 302
    finally:
        limiter.init_app(app)  # one limiter object for every app: give it back its memory storage
