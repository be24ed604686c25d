"""Start the services the portal needs when they are not configured: the embedded PostgreSQL
(data in instance/pgdata) and the bundled Meilisearch (instance/meili). Used by `make run` and `make bench`.

In production nothing is started here: the embedded servers are for development only, and
`marche.config` refuses them even when a URL names them explicitly."""
from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marche.config import Config, ConfigError, _generated_secret  # noqa: E402
from marche.core.embedded import MeiliProcess, ensure_postgres, free_port, meili_healthy  # noqa: E402

#: `MARCHE_INSTANCE_DIR` lets tests run these scripts without touching the real instance folder
INSTANCE = Path(os.environ.get("MARCHE_INSTANCE_DIR") or ROOT / "instance")


def start_services(env: dict, say=print, instance: Path | None = None) -> MeiliProcess | None:
    """Fill DATABASE_URL / MEILI_URL / MEILI_MASTER_KEY in `env`; return the Meilisearch we started, if any.

    In production, nothing is filled in or started: the configuration is checked as the app will
    check it, and a ConfigError says what is missing."""
    instance = instance or INSTANCE
    if env.get("MARCHE_ENV") == "production":
        Config.from_env(instance, environ=env)
        return None
    if not env.get("DATABASE_URL"):
        say("==> PostgreSQL embarqué (données dans instance/pgdata)")
        env["DATABASE_URL"] = ensure_postgres(instance / "pgdata")
    if env.get("MEILI_URL"):
        return None
    env["MEILI_MASTER_KEY"] = env.get("MEILI_MASTER_KEY") or _generated_secret(instance, "meili_master_key")
    env["MEILI_URL"] = "http://127.0.0.1:7700"
    if meili_healthy(env["MEILI_URL"]):
        if meili_accepts(env["MEILI_URL"], env["MEILI_MASTER_KEY"]):
            return None  # ours, left running by an earlier `make run`
        say("==> Le port 7700 est pris par un autre Meilisearch : le nôtre démarre sur un port libre")
        port = free_port()
    else:
        port = 7700
    say("==> Meilisearch embarqué (données dans instance/meili)")
    meili = MeiliProcess(instance / "meili", env["MEILI_MASTER_KEY"], port=port).start()
    env["MEILI_URL"] = meili.url
    return meili


def meili_accepts(url: str, key: str) -> bool:
    """Does this Meilisearch take our master key (is it ours)?"""
    request = urllib.request.Request(url.rstrip("/") + "/indexes?limit=1", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


__all__ = ["start_services", "meili_accepts", "ConfigError", "INSTANCE"]
