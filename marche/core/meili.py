"""The shared Meilisearch client (one persistent HTTP connection per process)."""
from __future__ import annotations

import meilisearch
from flask import current_app


def get_client(timeout: float | None = 5) -> meilisearch.Client:
    app = current_app._get_current_object()
    key = ("marche_meili", timeout)
    client = app.extensions.get(key)
    if client is None:
        client = meilisearch.Client(app.config["MEILI_URL"], app.config["MEILI_MASTER_KEY"] or None, timeout=timeout)
        app.extensions[key] = client
    return client


def index_name(name: str) -> str:
    return f"{current_app.config['MEILI_INDEX_PREFIX']}-{name}"


def healthy() -> bool:
    try:
        return get_client(timeout=1).is_healthy()
    except Exception:  # noqa: BLE001 - any failure means "down"
        return False
