"""`make bench` measures on a database and an index of its own: the bench database is the portal's
sibling, created when missing, and the synthetic structures land there, never in the portal's database
(nor a document in the portal's index), even when the generator is handed the portal's DATABASE_URL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from sqlalchemy import select

from marche import create_app
from marche.extensions import db
from marche.search.indexer import reindex_all
from marche.search.structures import structures_index
from marche.suppliers.models import Structure

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "bench"))
from bench_database import (BENCH_INDEX_PREFIX, bench_database_url, bench_environment,  # noqa: E402
                            database_name, ensure_bench_database)


def test_the_bench_database_is_a_sibling_of_the_portals():
    server = "postgresql://postgres@127.0.0.1:5432/marche?connect_timeout=3"
    assert bench_database_url(server) == "postgresql://postgres@127.0.0.1:5432/marche_bench?connect_timeout=3"
    # the embedded server's database is `postgres`: the bench gets `marche_bench` beside it
    embedded = "postgresql://postgres:@/postgres?host=/srv/marche/instance/pgdata"
    assert bench_database_url(embedded) == "postgresql://postgres:@/marche_bench?host=/srv/marche/instance/pgdata"
    for url in (server, embedded):
        bench = bench_database_url(url)
        assert bench_database_url(bench) == bench and database_name(bench) != database_name(url)


def test_the_bench_environment_names_the_bench_database_and_index():
    env = {"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/marche", "MEILI_INDEX_PREFIX": "marche",
           "PORT": "5000"}
    bench = bench_environment(env)
    assert bench["DATABASE_URL"] == "postgresql://postgres@127.0.0.1:5432/marche_bench"
    assert bench["MEILI_INDEX_PREFIX"] == BENCH_INDEX_PREFIX != env["MEILI_INDEX_PREFIX"] and bench["PORT"] == "5000"
    assert env["DATABASE_URL"].endswith("/marche")  # the caller's environment is left as it was


#: what the generator reads, copied from the portal's database so that the bench database is ready in
#: a second (`make bench` loads them with `flask marche prepare`, which takes a minute)
REFERENCE_TABLES = ("region", "department", "commune", "sector_group", "sector")


def copy_reference_data(source_url: str, target_url: str) -> None:
    with psycopg.connect(source_url) as source, psycopg.connect(target_url) as target:
        for table in REFERENCE_TABLES:
            with source.cursor().copy(f"COPY {table} TO STDOUT") as rows, \
                    target.cursor().copy(f"COPY {table} FROM STDIN") as into:
                for chunk in rows:
                    into.write(chunk)


def generator(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_structures.py"), *args], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_generator_writes_into_the_bench_database_never_the_portals(app, app_config, database_url):
    with app.app_context():
        structure = Structure(siret="75187049400026", siren="751870494", name="La Collecterie", kinds=["ACI"],
                              source="test", area_kind="country")
        db.session.add(structure)
        db.session.commit()
        real_id = structure.id
        reindex_all()
        assert structures_index().get_stats().number_of_documents == 1
    bench_url = ensure_bench_database(database_url)
    assert database_name(bench_url) == database_name(database_url) + "_bench"
    try:
        bench_app = create_app({**app_config, "DATABASE_URL": bench_url, "MEILI_INDEX_PREFIX": BENCH_INDEX_PREFIX})
        with bench_app.app_context():
            upgrade()
            db.session.remove()
            db.engine.dispose()
        copy_reference_data(database_url, bench_url)
        # the command is given the portal's DATABASE_URL, as `make bench` or a developer would
        env = {**os.environ, "DATABASE_URL": database_url, "MEILI_URL": app_config["MEILI_URL"],
               "MEILI_MASTER_KEY": app_config["MEILI_MASTER_KEY"], "REDIS_URL": "", "SECRET_KEY": "bench-test"}
        created = generator("--up-to", "120", env=env)
        assert created.returncode == 0, created.stderr[-2000:]
        with psycopg.connect(bench_url) as bench:
            assert bench.execute("SELECT count(*) FROM structure WHERE source = 'synthetic' AND siret LIKE '99%'"
                                 ).fetchone()[0] == 120
        with app.app_context():  # the portal: its one row, nothing generated, its index as it was
            assert db.session.execute(select(Structure.id)).scalars().all() == [real_id]
            assert structures_index().get_stats().number_of_documents == 1
        deleted = generator("--delete", env=env)
        assert deleted.returncode == 0 and "120 structures synthétiques supprimées" in deleted.stdout
        with app.app_context():
            assert db.session.execute(select(Structure.id)).scalars().all() == [real_id]
    finally:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database_name(bench_url)}" WITH (FORCE)')
