"""Settings read from the environment, with safe embedded defaults for development."""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: the checkout: templates/, data/, migrations/ and instance/ live beside the package
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: what a process without an application (an RQ job started by `rq worker`) builds one with
APP_FACTORY = "marche:create_app"
DEFAULT_MEILI_URL = "http://127.0.0.1:7700"
#: OPERATOR_NAME, OPERATOR_ADDRESS… : the legal notice's publisher, director, host and data contact
OPERATOR_FIELDS = ("name", "address", "email", "director", "host", "dpo")
#: a whole request: a 10 MB file plus the form around it
MAX_REQUEST_BYTES = 11 * 1024 * 1024


_TILES_URL = re.compile(r"(https?)://((?:\{s\}\.)?[A-Za-z0-9.-]+(?::[0-9]{1,5})?)/[^\s'\"<>]*")


def tiles_origin(url: str) -> str | None:
    """The origin a tile template loads from, as a CSP source (`https://*.tile.example.org` for Leaflet's
    `{s}` subdomains); None when the template is not an http(s) URL with {z}, {x} and {y}."""
    match = _TILES_URL.fullmatch(url)
    if match is None or not all(part in url for part in ("{z}", "{x}", "{y}")):
        return None
    return f"{match.group(1)}://{match.group(2).replace('{s}', '*')}"


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
    #: each gunicorn worker freezes its start-up objects out of the garbage collector (marche.wsgi)
    gc_freeze: bool = True
    #: how many reverse proxies set X-Forwarded-For in front of the app; 0 = the header is ignored
    proxy_fix_x_for: int = 0
    port: int = 5000
    base_url: str = "http://127.0.0.1:5000"
    #: an optional tile layer under the maps (`MAP_TILES_URL`, Leaflet's {z}/{x}/{y} template); "" = none
    map_tiles_url: str = ""
    map_tiles_attribution: str = ""
    #: a dead or frozen database must answer « indisponible » within 5 s, never hang a request
    db_connect_timeout: int = 3
    db_statement_timeout_ms: int = 4000
    db_pool_timeout: int = 3
    #: what `make run` starts for development (PostgreSQL socket dirs, Meilisearch URLs): refused in production
    embedded_markers: dict[str, Any] = field(default_factory=dict)
    operator: dict[str, str] = field(default_factory=dict)
    #: argon2id's cost profile (marche/accounts/passwords.py): "test" only for the test suite
    password_hash_cost: str = "default"
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
        embedded = not database_url or (env == "production" and _points_at_embedded_postgres(database_url, instance))
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
        #: who publishes the site, for the legal notice and the personal data page (LCEN art. 6, RGPD art. 13)
        operator = {key: env_vars.get(f"OPERATOR_{key.upper()}", "").strip() for key in OPERATOR_FIELDS}
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
            proxy_fix_x_for=int(env_vars.get("PROXY_FIX_X_FOR", "0") or 0),
            gc_freeze=env_vars.get("MARCHE_GC_FREEZE", "1") != "0",
            smtp=smtp,
            operator=operator,
            port=port,
            base_url=env_vars.get("BASE_URL", f"http://127.0.0.1:{port}"),
            db_connect_timeout=_int_setting(env_vars, "DATABASE_CONNECT_TIMEOUT", 3),
            db_statement_timeout_ms=_int_setting(env_vars, "DATABASE_STATEMENT_TIMEOUT", 4000),
            db_pool_timeout=_int_setting(env_vars, "DATABASE_POOL_TIMEOUT", 3),
            map_tiles_url=env_vars.get("MAP_TILES_URL", "").strip(),
            map_tiles_attribution=env_vars.get("MAP_TILES_ATTRIBUTION", "").strip(),
            embedded_markers={"meili": env == "production" and _is_bundled_meili(meili_url, meili_key, instance)},
            password_hash_cost=env_vars.get("MARCHE_PASSWORD_HASH_COST", "default"),
            extra={k: v for k, v in overrides.items() if not (isinstance(v, str) and k.isupper())},
        )
        config.check()
        return config

    def check(self) -> None:
        """A tile URL the maps can use, in every environment; production refuses every embedded or
        generated default."""
        if self.map_tiles_url and tiles_origin(self.map_tiles_url) is None:
            raise ConfigError("MAP_TILES_URL doit être une adresse https://… (ou http://…) contenant {z}, {x} et {y}, "
                              f"par exemple https://{{s}}.tile.example.org/{{z}}/{{x}}/{{y}}.png (reçu : {self.map_tiles_url!r}).")
        if self.env != "production":
            return
        problems = []
        if self.secret_generated:
            problems.append("SECRET_KEY doit être fourni")
        if self.database_embedded:
            problems.append("DATABASE_URL doit pointer vers un serveur PostgreSQL (jamais le serveur embarqué de développement)")
        if not self.meili_url_set:
            problems.append("MEILI_URL doit pointer vers un serveur Meilisearch officiel")
        elif self.embedded_markers.get("meili"):
            problems.append("MEILI_URL pointe vers le Meilisearch embarqué de développement "
                            "(binaire npm) : utilisez un serveur Meilisearch officiel")
        if not self.meili_master_key:
            problems.append("MEILI_MASTER_KEY doit être fourni")
        if self.password_hash_cost != "default":
            problems.append("MARCHE_PASSWORD_HASH_COST est réservé aux tests : les mots de passe de production "
                            "gardent le coût par défaut d'argon2id")
        if problems:
            raise ConfigError("Configuration de production refusée : " + " ; ".join(problems) + ".")

    def engine_options(self) -> dict[str, Any]:
        """Bounded waits: for a connection (libpq connect_timeout), for a statement (server-side
        statement_timeout, which also bounds lock waits) and for a pooled connection."""
        connect_args: dict[str, Any] = {"connect_timeout": self.db_connect_timeout}
        if self.db_statement_timeout_ms > 0:
            connect_args["options"] = f"-c statement_timeout={self.db_statement_timeout_ms}"
        return {"pool_pre_ping": True, "pool_timeout": self.db_pool_timeout, "connect_args": connect_args}

    def as_flask(self) -> dict[str, Any]:
        values = {
            "MARCHE_ENV": self.env,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": _psycopg_url(self.database_url),
            "SQLALCHEMY_ENGINE_OPTIONS": self.engine_options(),
            "DATABASE_EMBEDDED": self.database_embedded,
            "MEILI_URL": self.meili_url,
            "MEILI_MASTER_KEY": self.meili_master_key,
            "MEILI_INDEX_PREFIX": self.meili_prefix,
            "REDIS_URL": self.redis_url,
            "SMTP": self.smtp,
            "OPERATOR": self.operator,
            "MAIL_DIR": str(self.instance / "mail"),
            "PORT": self.port,
            "BASE_URL": self.base_url,
            "WTF_CSRF_TIME_LIMIT": None,
            # WTForms' bundled French messages (core.forms.Form), not Flask-WTF's Babel-based catalogue
            "WTF_I18N_ENABLED": False,
            # the largest upload is a 10 MB logo or proof: a bigger request is refused (413) from its
            # Content-Length, or when the stream passes the limit, before anything is read into memory
            "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
            # a text field may be as big as the request (Werkzeug's default is 500 KB, answered 413): a
            # 3 MB paste reaches its form, which refuses it beside the field and keeps what was typed
            "MAX_FORM_MEMORY_SIZE": MAX_REQUEST_BYTES,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.env == "production",
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SECURE": self.env == "production",
            "TOKEN_MAX_AGE": 48 * 3600,
            "RESET_TOKEN_MAX_AGE": 2 * 3600,
            "INVITATION_MAX_AGE": 7 * 86400,
            "PROXY_FIX_X_FOR": self.proxy_fix_x_for,
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage,
            # Redis down must never turn a page into a 500: each process counts in memory meanwhile
            # (login failures are counted in PostgreSQL, see accounts.services.login_blocked)
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": True,
            "RATELIMIT_STORAGE_OPTIONS": ({"socket_connect_timeout": 1, "socket_timeout": 1}
                                          if self.ratelimit_storage.startswith("redis") else {}),
            "RATELIMIT_KEY_PREFIX": self.meili_prefix,
            "OUTBOX_MAX_ATTEMPTS": 5,
            "RQ_QUEUE": f"{self.meili_prefix}-outbox",
            "GC_FREEZE": self.gc_freeze,
            "MAP_TILES_URL": self.map_tiles_url,
            "MAP_TILES_ATTRIBUTION": self.map_tiles_attribution,
        }
        values.update(self.extra)
        return values


def _int_setting(env_vars: dict, name: str, default: int) -> int:
    value = env_vars.get(name, "")
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} doit être un nombre entier (reçu « {value[:40]} »).") from None
    if number < 0:
        raise ConfigError(f"{name} doit être positif ou nul (reçu {number}).")
    return number


def _points_at_embedded_postgres(url: str, instance: Path) -> bool:
    """Is this the development server `make run` starts? embedded-postgres puts its socket in the
    data dir itself (instance/pgdata, which holds PG_VERSION) or in a `python_PostgresServer` runtime
    dir. Production must not run on it, whoever wrote the URL."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    hosts = parse_qs(parts.query).get("host", []) + ([unquote(parts.hostname)] if parts.hostname else [])
    root = instance.resolve()
    for host in hosts:
        if not host.startswith("/"):
            continue  # a TCP host: a real server as far as we can tell
        path = Path(host).resolve()
        if path == root or root in path.parents or (path / "PG_VERSION").exists():
            return True
        if "python_PostgresServer" in path.parts:
            return True
    return False


def _is_bundled_meili(url: str, key: str, instance: Path) -> bool:
    """The Meilisearch `make run` starts records its URL in instance/meili/url, and its master key is
    the generated instance/meili_master_key: either one in a production configuration is refused."""
    recorded = instance / "meili" / "url"
    if url and recorded.exists() and recorded.read_text().strip().rstrip("/") == url.rstrip("/"):
        return True
    generated = instance / "meili_master_key"
    return bool(key) and generated.exists() and generated.read_text().strip() == key


def _psycopg_url(url: str) -> str:
    """SQLAlchemy needs the psycopg 3 driver named in the URL."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
