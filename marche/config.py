"""Settings read from the environment, with safe embedded defaults for development."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MEILI_URL = "http://127.0.0.1:7700"
#: a whole request: a 10 MB file plus the form around it
MAX_REQUEST_BYTES = 11 * 1024 * 1024


class ConfigError(RuntimeError):
    """Raised when the environment cannot give a safe configuration (production checks)."""


def _generated_secret(instance: Path, name: str) -> str:
    """Read `instance/<name>`, creating it with a random value the first time."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


@dataclass
class Config:
    env: str
    instance: Path
    secret_key: str
    secret_generated: bool
    database_url: str
    database_embedded: bool
    meili_url: str
    meili_url_set: bool
    meili_master_key: str
    meili_prefix: str
    redis_url: str | None
    smtp: dict[str, Any] = field(default_factory=dict)
    ratelimit_storage: str = "memory://"
    search_allow_synthetic: bool = False
    port: int = 5000
    base_url: str = "http://127.0.0.1:5000"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, instance: Path, overrides: dict | None = None, environ=None) -> "Config":
        env_vars = dict(os.environ if environ is None else environ)
        overrides = dict(overrides or {})
        env_vars.update({k: v for k, v in overrides.items() if isinstance(v, str) and k.isupper()})
        env = env_vars.get("MARCHE_ENV", "development")

        secret = env_vars.get("SECRET_KEY")
        secret_generated = not secret
        if not secret:
            secret = _generated_secret(instance, "secret_key")

        database_url = env_vars.get("DATABASE_URL", "")
        embedded = not database_url
        if embedded and env != "production":
            from .core.embedded import ensure_postgres

            database_url = ensure_postgres(instance / "pgdata")
        meili_url = env_vars.get("MEILI_URL", "")
        meili_key = env_vars.get("MEILI_MASTER_KEY") or (
            "" if env == "production" else _generated_secret(instance, "meili_master_key")
        )
        port = int(env_vars.get("PORT", "5000"))
        smtp = {
            "host": env_vars.get("SMTP_HOST", ""),
            "port": int(env_vars.get("SMTP_PORT", "25")),
            "user": env_vars.get("SMTP_USER", ""),
            "password": env_vars.get("SMTP_PASSWORD", ""),
            "starttls": env_vars.get("SMTP_STARTTLS", "0") in {"1", "true", "yes"},
            "sender": env_vars.get("SMTP_FROM", "Marché inclusif <ne-pas-repondre@marche.local>"),
        }
        config = cls(
            env=env,
            instance=instance,
            secret_key=secret,
            secret_generated=secret_generated,
            database_url=database_url,
            database_embedded=embedded,
            meili_url=meili_url or DEFAULT_MEILI_URL,
            meili_url_set=bool(meili_url),
            meili_master_key=meili_key,
            meili_prefix=env_vars.get("MEILI_INDEX_PREFIX", "marche"),
            redis_url=env_vars.get("REDIS_URL") or None,
            ratelimit_storage=env_vars.get("RATELIMIT_STORAGE_URI") or env_vars.get("REDIS_URL") or "memory://",
            search_allow_synthetic=env_vars.get("SEARCH_ALLOW_SYNTHETIC") == "1",
            smtp=smtp,
            port=port,
            base_url=env_vars.get("BASE_URL", f"http://127.0.0.1:{port}"),
            extra={k: v for k, v in overrides.items() if not (isinstance(v, str) and k.isupper())},
        )
        config.check()
        return config

    def check(self) -> None:
        """Production refuses every embedded or generated default."""
        if self.env != "production":
            return
        problems = []
        if self.secret_generated:
            problems.append("SECRET_KEY doit être fourni")
        if self.database_embedded:
            problems.append("DATABASE_URL doit pointer vers un serveur PostgreSQL")
        if not self.meili_url_set:
            problems.append("MEILI_URL doit pointer vers un serveur Meilisearch officiel")
        if not self.meili_master_key:
            problems.append("MEILI_MASTER_KEY doit être fourni")
        if problems:
            raise ConfigError("Configuration de production refusée : " + " ; ".join(problems) + ".")

    def as_flask(self) -> dict[str, Any]:
        values = {
            "MARCHE_ENV": self.env,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": _psycopg_url(self.database_url),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "DATABASE_EMBEDDED": self.database_embedded,
            "MEILI_URL": self.meili_url,
            "MEILI_MASTER_KEY": self.meili_master_key,
            "MEILI_INDEX_PREFIX": self.meili_prefix,
            "REDIS_URL": self.redis_url,
            "SMTP": self.smtp,
            "MAIL_DIR": str(self.instance / "mail"),
            "PORT": self.port,
            "BASE_URL": self.base_url,
            "WTF_CSRF_TIME_LIMIT": None,
            # the largest upload is a 10 MB logo or proof: a bigger request is refused (413) from its
            # Content-Length, or when the stream passes the limit, before anything is read into memory
            "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.env == "production",
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "TOKEN_MAX_AGE": 48 * 3600,
            "RESET_TOKEN_MAX_AGE": 2 * 3600,
            "LOGIN_FAILURE_LIMIT": "10 per minute",
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage,
            "RATELIMIT_KEY_PREFIX": self.meili_prefix,
            "OUTBOX_MAX_ATTEMPTS": 5,
            "RQ_QUEUE": f"{self.meili_prefix}-outbox",
            #: benchmarks only: lets `include_synthetic=1` reach the synthetic structures
            "SEARCH_ALLOW_SYNTHETIC": self.search_allow_synthetic,
        }
        values.update(self.extra)
        return values


def _psycopg_url(url: str) -> str:
    """SQLAlchemy needs the psycopg 3 driver named in the URL."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
