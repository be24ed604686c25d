"""Production means production: no demo account, whatever the flag, and no embedded service, even
when a URL names one explicitly (as `make run` would by filling DATABASE_URL itself)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from marche import create_app
from marche.accounts.models import User
from marche.config import Config, ConfigError
from marche.demo import DEMO_ACCOUNTS, DemoRefused, create_demo
from marche.extensions import db
from tests.netfaults import TcpProxy

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from services import start_services  # noqa: E402  (scripts/services.py)

PRODUCTION = {"MARCHE_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://db.example/marche",
              "MEILI_URL": "http://search.example:7700", "MEILI_MASTER_KEY": "k" * 32}


def refusal(instance: Path, **changes) -> str:
    with pytest.raises(ConfigError) as error:
        Config.from_env(instance, environ={**PRODUCTION, **changes})
    return str(error.value)


def test_production_accepts_real_servers(tmp_path):
    Config.from_env(tmp_path, environ=PRODUCTION)
    Config.from_env(tmp_path, environ={**PRODUCTION, "DATABASE_URL": "postgresql://marche@/marche?host=/var/run/postgresql"})


def test_production_refuses_the_embedded_database_whatever_its_url(tmp_path):
    (tmp_path / "pgdata").mkdir()
    (tmp_path / "pgdata" / "PG_VERSION").write_text("18\n")
    in_instance = f"postgresql://postgres:@/postgres?host={tmp_path / 'pgdata'}"
    assert "jamais le serveur embarqué" in refusal(tmp_path, DATABASE_URL=in_instance)
    elsewhere = tmp_path / "other"
    (elsewhere / "data").mkdir(parents=True)
    (elsewhere / "data" / "PG_VERSION").write_text("18\n")
    assert "DATABASE_URL" in refusal(elsewhere / "instance", DATABASE_URL=f"postgresql://postgres:@/x?host={elsewhere / 'data'}")
    runtime = "/run/user/0/python_PostgresServer/0123456789"
    assert "DATABASE_URL" in refusal(tmp_path, DATABASE_URL=f"postgresql://postgres:@/postgres?host={runtime}")


def test_make_run_filling_database_url_itself_is_refused_in_production(tmp_path, meili):
    env = {"MEILI_URL": meili.url, "MEILI_MASTER_KEY": meili.master_key}
    assert start_services(env, say=lambda _: None, instance=tmp_path) is None  # development: embedded PostgreSQL
    assert "host=" in env["DATABASE_URL"]
    message = refusal(tmp_path, DATABASE_URL=env["DATABASE_URL"], MEILI_URL=meili.url)
    assert "DATABASE_URL" in message


def test_production_refuses_the_bundled_meilisearch(tmp_path):
    (tmp_path / "meili").mkdir()
    (tmp_path / "meili" / "url").write_text("http://127.0.0.1:7700")  # written by MeiliProcess.start
    assert "Meilisearch embarqué" in refusal(tmp_path, MEILI_URL="http://127.0.0.1:7700/")
    (tmp_path / "meili_master_key").write_text("generated-dev-key-0123456789abcdef")
    assert "Meilisearch embarqué" in refusal(tmp_path, MEILI_MASTER_KEY="generated-dev-key-0123456789abcdef")
    Config.from_env(tmp_path, environ={**PRODUCTION, "MEILI_URL": "http://127.0.0.1:7701"})  # another server


def test_start_services_starts_nothing_in_production(tmp_path):
    env = {"MARCHE_ENV": "production", "SECRET_KEY": "s" * 40}
    with pytest.raises(ConfigError) as error:
        start_services(env, say=lambda _: None, instance=tmp_path)
    assert "DATABASE_URL" in str(error.value) and "MEILI_URL" in str(error.value)
    assert "DATABASE_URL" not in env and "MEILI_URL" not in env
    assert not (tmp_path / "pgdata").exists() and not (tmp_path / "meili").exists()


def test_demo_accounts_are_never_created_in_production(app, app_config, database_url):
    proxy = TcpProxy(database_url).start()  # a TCP URL: accepted in production even when tests run embedded
    try:
        production = create_app({**app_config, "MARCHE_ENV": "production", "DATABASE_URL": proxy.url(),
                                 "MARCHE_PASSWORD_HASH_COST": "default"})
        result = production.test_cli_runner().invoke(args=["marche", "demo"])
        assert result.exit_code != 0
        assert "refusées en production" in result.output
        with production.test_request_context():
            with pytest.raises(DemoRefused):
                create_demo()
            db.session.rollback()
            assert db.session.scalar(select(db.func.count()).select_from(User)) == 0
            db.session.remove()
    finally:
        proxy.cut()
    result = app.test_cli_runner().invoke(args=["marche", "demo"])  # the other side: development creates them
    assert result.exit_code == 0, result.output
    with app.app_context():
        emails = set(db.session.execute(select(User.email)).scalars())
        db.session.remove()
    assert {account["email"] for account in DEMO_ACCOUNTS} <= emails
