"""scripts/backup.sh then scripts/restore.sh into an empty new database: every table keeps its row
count, uploaded files come back byte for byte, and a reindex into a fresh Meilisearch index gives
the same document count. Restoring over a non-empty database is refused."""
from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import psycopg
import pytest

from marche.extensions import db
from marche.search.indexer import reindex_all
from marche.search.structures import structures_index
from marche.suppliers.models import ClientReference, Structure
from marche.suppliers.services import set_logo
from tests.conftest import RUN_ID, _with_database, REFERENCE_TABLES
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(256)


@pytest.fixture
def empty_database(database_url):
    name = f"marche_restore_{RUN_ID}_{secrets.token_hex(3)}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(database_url, name)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute(
            "select tablename from pg_tables where schemaname = 'public' order by tablename")]
        counts = {table: conn.execute(f'select count(*) from "{table}"').fetchone()[0] for table in tables}
        if tables:  # indexes and constraints come back too (restored last, see restore.sh)
            counts["(index)"] = conn.execute("select count(*) from pg_indexes where schemaname = 'public'").fetchone()[0]
            counts["(constraint)"] = conn.execute(
                "select count(*) from pg_constraint where connamespace = 'public'::regnamespace").fetchone()[0]
        return counts


def run(script: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts" / script), *args], env={**os.environ, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_backup_then_restore_into_an_empty_database(app, app_config, database_url, empty_database, meili,
                                                    make_structure, make_user, tmp_path):
    make_user("acheteuse@example.fr")
    ids = [make_structure(siret=siret, name=f"Structure {n}")
           for n, siret in enumerate(["75187049400026", "75187049400034", "75187049400042"])]
    with app.test_request_context():
        structure = db.session.get(Structure, ids[0])
        set_logo(None, structure, PNG)
        structure.references.append(ClientReference(client_name="Ville de Lille", year=2025))
        db.session.commit()
        logo = Path(app.instance_path) / "uploads" / structure.logo_path
        source_documents = reindex_all()
        db.session.remove()
    source = table_counts(database_url)
    for table in ("structure", "user_account", "client_reference", "audit_entry", "commune"):
        assert source[table] > 0, table

    backup = tmp_path / "sauvegarde"
    made = run("backup.sh", str(backup), env={"DATABASE_URL": database_url})
    assert made.returncode == 0, made.stderr
    assert "Sauvegarde écrite" in made.stdout

    uploads = tmp_path / "uploads-restaurés"
    prefix = f"restore{RUN_ID}"
    restored = run("restore.sh", str(backup), env={
        "DATABASE_URL": empty_database, "UPLOADS_DIR": str(uploads), "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.master_key, "MEILI_INDEX_PREFIX": prefix, "SECRET_KEY": app_config["SECRET_KEY"],
        "MARCHE_ENV": "test", "REDIS_URL": ""})
    assert restored.returncode == 0, restored.stderr
    assert f"{source_documents} structures indexées." in restored.stdout

    assert table_counts(empty_database) == source  # every table, reference data included
    assert (uploads / logo.name).read_bytes() == PNG
    with app.app_context():
        app.config["MEILI_INDEX_PREFIX"] = prefix
        try:
            assert structures_index().get_stats().number_of_documents == source_documents == 3
            structures_index().delete()
        finally:
            app.config["MEILI_INDEX_PREFIX"] = app_config["MEILI_INDEX_PREFIX"]
    assert REFERENCE_TABLES <= set(source)

    # the other side: restoring again over what is now a full database is refused, nothing touched
    again = run("restore.sh", str(backup), env={"DATABASE_URL": empty_database, "UPLOADS_DIR": str(uploads),
                                                "SKIP_REINDEX": "1"})
    assert again.returncode != 0 and "base vide" in again.stderr
    assert table_counts(empty_database) == source


def test_restore_refuses_an_altered_backup(database_url, empty_database, tmp_path, app):
    backup = tmp_path / "sauvegarde"
    assert run("backup.sh", str(backup), env={"DATABASE_URL": database_url}).returncode == 0
    with open(backup / "database.dump", "ab") as dump:
        dump.write(b"\0")
    refused = run("restore.sh", str(backup), env={"DATABASE_URL": empty_database, "SKIP_REINDEX": "1"})
    assert refused.returncode != 0 and "altérée" in refused.stderr
    assert table_counts(empty_database) == {}
