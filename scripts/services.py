"""Start the services the portal needs when they are not configured: the embedded PostgreSQL
(data in instance/pgdata) and the bundled Meilisearch (instance/meili). Used by `make run` and `make bench`."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marche.config import _generated_secret  # noqa: E402
from marche.core.embedded import MeiliProcess, ensure_postgres, meili_healthy  # noqa: E402

INSTANCE = ROOT / "instance"


def start_services(env: dict, say=print) -> MeiliProcess | None:
    """Fill DATABASE_URL / MEILI_URL / MEILI_MASTER_KEY in `env`; return the Meilisearch we started, if any."""
    if not env.get("DATABASE_URL"):
        say("==> PostgreSQL embarqué (données dans instance/pgdata)")
        env["DATABASE_URL"] = ensure_postgres(INSTANCE / "pgdata")
    if env.get("MEILI_URL"):
        return None
    env["MEILI_MASTER_KEY"] = env.get("MEILI_MASTER_KEY") or _generated_secret(INSTANCE, "meili_master_key")
    env["MEILI_URL"] = "http://127.0.0.1:7700"
    if meili_healthy(env["MEILI_URL"]):
        return None
    say("==> Meilisearch embarqué (données dans instance/meili)")
    return MeiliProcess(INSTANCE / "meili", env["MEILI_MASTER_KEY"], port=7700).start()
