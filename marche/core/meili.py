"""The shared Meilisearch client (one persistent HTTP connection per process)."""
from __future__ import annotations

import threading

import meilisearch
import requests
from flask import current_app
from meilisearch.errors import MeilisearchApiError


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


_local = threading.local()


def search(index_uid: str, body: dict, timeout: float) -> dict:
    """POST /indexes/<uid>/search on a kept-alive connection (one per thread and server).

    The official client opens a new connection for every call; the search page and the API are
    the hot path, so they reuse theirs. Errors are the client's own (MeilisearchApiError, or a
    requests exception when the server cannot be reached)."""
    app = current_app._get_current_object()
    key = (app.config["MEILI_URL"], app.config["MEILI_MASTER_KEY"])
    sessions = _local.__dict__.setdefault("sessions", {})
    session = sessions.get(key)
    if session is None:
        session = requests.Session()
        if key[1]:
            session.headers["Authorization"] = f"Bearer {key[1]}"
        sessions[key] = session
    response = session.post(f"{key[0].rstrip('/')}/indexes/{index_uid}/search", json=body, timeout=timeout)
    if response.status_code >= 400:
        raise MeilisearchApiError(str(response.status_code), response)
    return response.json()
