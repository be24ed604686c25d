"""Configuration from the environment; production refuses embedded and generated defaults."""
import pytest

from marche.config import Config, ConfigError


def test_production_refuses_generated_secret_embedded_db_and_unset_meili(tmp_path):
    with pytest.raises(ConfigError) as error:
        Config.from_env(tmp_path, environ={"MARCHE_ENV": "production"})
    message = str(error.value)
    assert "SECRET_KEY" in message and "DATABASE_URL" in message and "MEILI_URL" in message


def test_production_accepts_explicit_services(tmp_path):
    config = Config.from_env(tmp_path, environ={
        "MARCHE_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://db/marche",
        "MEILI_URL": "http://search:7700", "MEILI_MASTER_KEY": "k" * 32, "REDIS_URL": "redis://r:6379/0"})
    flask_config = config.as_flask()
    assert flask_config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/marche"
    assert flask_config["SESSION_COOKIE_SECURE"] is True
    assert flask_config["RATELIMIT_STORAGE_URI"] == "redis://r:6379/0"


def test_generated_secret_is_stable(tmp_path):
    environ = {"DATABASE_URL": "postgresql://db/x"}
    first = Config.from_env(tmp_path, environ=environ).secret_key
    second = Config.from_env(tmp_path, environ=environ).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
