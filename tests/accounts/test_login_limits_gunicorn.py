"""Login limits hold across gunicorn workers (counted in PostgreSQL) and logins survive a Redis outage.

The real app is served by gunicorn with 2 workers, as in production. A second client connects from
another loopback address (127.0.0.2): an honest second address, no X-Forwarded-For trusted.
"""
from __future__ import annotations

import html
import http.client
import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from marche.core.embedded import free_port
from marche.core.models import OutboxMessage
from marche.extensions import db
from scripts.bench.common import Gunicorn

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Browser:
    """A cookie-keeping HTTP client bound to one source address; a new connection per request, so the
    kernel hands requests to either gunicorn worker."""

    def __init__(self, port: int, address: str):
        self.port, self.address, self.cookies = port, address, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                                source_address=(self.address, 0))
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, html.unescape(text), dict(response.headers)

    def submit(self, path: str, data: dict, form_path: str | None = None) -> tuple[int, str, dict]:
        _, page, _ = self.request("GET", form_path or path)
        return self.request("POST", path, {**data, "csrf_token": CSRF.search(page).group(1)})

    def login(self, email: str, password: str) -> tuple[int, str, dict]:
        return self.submit("/connexion", {"email": email, "password": password})


@pytest.fixture
def served(app_config, make_user):
    """Start gunicorn on the test database; `served(redis_url)` returns its port."""
    servers = []

    def start(redis_url: str = "") -> int:
        port = free_port()
        env = {key: str(value) for key, value in app_config.items() if key.isupper() and isinstance(value, str)}
        env.update({"REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": "", "SMTP_HOST": "", "PORT": str(port)})
        servers.append(Gunicorn(env, port, workers=2))
        return port

    yield start
    for server in servers:
        server.stop()


def test_eleventh_failure_is_refused_by_every_worker_but_the_owner_logs_in_elsewhere(served, make_user):
    make_user("cible@example.fr")
    port = served("")  # REDIS_URL unset: Flask-Limiter would count in each worker's memory
    attacker = Browser(port, "127.0.0.1")
    for attempt in range(10):
        status, page, _ = attacker.login("cible@example.fr", f"mauvais-{attempt}")
        assert status == 200 and "Adresse e-mail ou mot de passe incorrect." in page
    status, page, _ = attacker.login("cible@example.fr", "mauvais-10")
    assert status == 429
    assert "Trop de tentatives de connexion échouées" in page
    assert attacker.login("cible@example.fr", "motdepasse-solide-1")[0] == 429  # not even the right password here
    owner = Browser(port, "127.0.0.2")
    status, _, headers = owner.login("cible@example.fr", "motdepasse-solide-1")
    assert status == 302 and headers["Location"].endswith("/")
    assert owner.request("GET", "/compte")[0] == 200


def test_login_and_password_reset_work_while_redis_is_down(app, served, make_user):
    make_user("cible@example.fr")
    port = served("redis://127.0.0.1:1/0")  # nothing listens there
    visitor = Browser(port, "127.0.0.1")
    assert visitor.login("cible@example.fr", "mauvais")[0] == 200
    status, _, _ = visitor.login("cible@example.fr", "motdepasse-solide-1")
    assert status == 302
    other = Browser(port, "127.0.0.2")
    status, _, headers = other.submit("/mot-de-passe-oublie", {"email": "cible@example.fr"})
    assert status == 302 and headers["Location"].endswith("/connexion")
    status, _, _ = other.submit("/compte/renvoyer-confirmation", {"email": "cible@example.fr"},
                                 form_path="/mot-de-passe-oublie")
    assert status == 302
    with app.app_context():
        # the reset mail is not lost: its outbox row waits for the worker's sweep
        pending = db.session.execute(select(OutboxMessage).where(OutboxMessage.status == "pending")).scalars().all()
        assert any(m.payload["to"] == "cible@example.fr" and "mot-de-passe" in m.payload["text"] for m in pending)


def test_reset_and_resend_limits_are_shared_by_the_workers_through_redis(app_config, served, make_user):
    """Issue 23: the limiter on a Redis store, as production runs it (2 workers, one count). 10 reset
    requests a minute and 5 confirmation resends a minute per address; the next one answers 429."""
    import os

    from redis import Redis

    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = app_config["MEILI_INDEX_PREFIX"]  # RATELIMIT_KEY_PREFIX: this run's keys only
    store = Redis.from_url(redis_url, socket_connect_timeout=2)
    assert store.ping(), f"Redis ne répond pas sur {redis_url}"
    make_user("cible@example.fr")
    port = served(redis_url)
    visitor = Browser(port, "127.0.0.3")
    try:
        for attempt in range(10):
            assert visitor.submit("/mot-de-passe-oublie", {"email": "cible@example.fr"})[0] == 302, attempt
        status, page, _ = visitor.submit("/mot-de-passe-oublie", {"email": "cible@example.fr"})
        assert status == 429 and "Trop de tentatives" in page
        for attempt in range(5):
            assert visitor.submit("/compte/renvoyer-confirmation", {"email": "cible@example.fr"},
                                  form_path="/connexion")[0] == 302, attempt
        assert visitor.submit("/compte/renvoyer-confirmation", {"email": "cible@example.fr"},
                              form_path="/connexion")[0] == 429
        counters = [key for key in store.scan_iter(f"*{prefix}*") if not key.startswith(b"rq:")]  # not RQ's queue
        assert counters, "aucun compteur dans Redis : le limiteur n'a pas utilisé Redis"
        # another address has its own counts
        assert Browser(port, "127.0.0.4").submit("/mot-de-passe-oublie", {"email": "cible@example.fr"})[0] == 302
    finally:
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)
