"""Migration 0007: synthetic rows an older `make bench` left in the portal's database are deleted (without
their flag they would look real), real rows are kept; the downgrade gives the flag back to the
generator's rows (source `synthetic`, SIRET 99…) and only to them."""
from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
from flask_migrate import downgrade, upgrade

from marche import create_app
from marche.extensions import db
from tests.conftest import _with_database

INSERT = ("INSERT INTO structure (siret, siren, siret_status, name, kinds, source, search_text{flag}) "
          "VALUES (%s, %s, 'ok', %s, '{{ACI}}', %s, ''{value})")


def structures(url: str) -> dict[str, tuple]:
    with psycopg.connect(url) as connection:
        columns = {row[0] for row in connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'structure'")}
        flag = "is_synthetic" if "is_synthetic" in columns else "NULL"
        return {siret: (source, synthetic) for siret, source, synthetic in connection.execute(
            f"SELECT siret, source, {flag} FROM structure")}


def add(url: str, siret: str, source: str, synthetic: bool | None = None) -> None:
    flag, value = ("", "") if synthetic is None else (", is_synthetic", ", %s")
    params = [siret, siret[:9], f"Structure {siret}", source] + ([] if synthetic is None else [synthetic])
    with psycopg.connect(url) as connection:
        connection.execute(INSERT.format(flag=flag, value=value), params)


def test_0007_deletes_leftover_synthetic_rows_and_its_downgrade_marks_them_again(app_config, database_url):
    name = urlsplit(database_url).path.lstrip("/") + "_m0007"
    url = _with_database(database_url, name)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        application = create_app({**app_config, "DATABASE_URL": url})
        with application.app_context():
            upgrade(revision="0006")
            add(url, "75187049400026", "ASP", synthetic=False)
            add(url, "99000000000013", "synthetic", synthetic=True)
            upgrade(revision="0007")
            assert structures(url) == {"75187049400026": ("ASP", None)}  # the flag's column is gone
            add(url, "99000000000021", "synthetic")  # as the generator writes into a bench database
            add(url, "99000000000039", "user")  # a 99… SIRET whose source is not the generator's
            downgrade(revision="0006")
            assert structures(url) == {"75187049400026": ("ASP", False), "99000000000021": ("synthetic", True),
                                       "99000000000039": ("user", False)}
            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
