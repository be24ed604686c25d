"""The shared Meilisearch client (one persistent HTTP connection per process)."""
from __future__ import annotations

import http.client
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

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


_local = threading.local()


class MeiliSearchFailed(Exception):
    """Meilisearch did not answer a search: unreachable (code "unreachable") or refused it (its error code)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


def _connection(url: str, timeout: float) -> http.client.HTTPConnection:
    connections = _local.__dict__.setdefault("connections", {})
    connection = connections.get(url)
    if connection is None:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
        connections[url] = connection
    return connection


def search(index_uid: str, body: dict, timeout: float) -> dict:
    """POST /indexes/<uid>/search on the kept-alive connection (see `post`)."""
    return post(f"/indexes/{index_uid}/search", body, timeout)


def post(route: str, body: dict, timeout: float) -> dict:
    """POST a search route on a kept-alive connection (one per thread and server).

    The official client opens a new connection for every call, and its two-part writes meet the
    delayed-ACK stall on a reused one; the search page and the API are the hot path, so they send
    each request in one write on their own persistent connection."""
    app = current_app._get_current_object()
    return _post(app.config["MEILI_URL"], app.config["MEILI_MASTER_KEY"], route, body, timeout)


def search_many(searches: list[tuple[str, dict]], timeout: float) -> list[dict]:
    """Several searches ((index uid, body) each) sent at once, the answers in the same order.

    A multi-search runs its queries one after the other; sent side by side, each on its own kept-alive
    connection, they use the engine's other cores (a search with ticked facets costs one query per
    ticked group, each with the whole filter)."""
    if len(searches) == 1:
        return [search(*searches[0], timeout)]
    app = current_app._get_current_object()
    url, key = app.config["MEILI_URL"], app.config["MEILI_MASTER_KEY"]
    futures = [_executor().submit(_post, url, key, f"/indexes/{uid}/search", body, timeout)
               for uid, body in searches[1:]]
    first = _post(url, key, f"/indexes/{searches[0][0]}/search", searches[0][1], timeout)
    return [first] + [future.result() for future in futures]


_executors: dict[int, ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """This process's threads for side-by-side searches (a forked worker starts its own)."""
    with _executors_lock:
        executor = _executors.get(os.getpid())
        if executor is None:
            executor = _executors[os.getpid()] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="meili")
        return executor


def _post(url: str, key: str | None, route: str, body: dict, timeout: float) -> dict:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    payload = json.dumps(body).encode()
    path = f"{urlsplit(url).path.rstrip('/')}{route}"
    for attempt in (1, 2):
        connection = _connection(url, timeout)
        try:
            connection.request("POST", path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
            break
        except (http.client.HTTPException, OSError) as error:
            connection.close()  # a stale kept-alive connection: retry once on a new one
            if attempt == 2:
                raise MeiliSearchFailed("unreachable", str(error)) from error
    answer = json.loads(data or b"{}")
    if response.status >= 400:
        raise MeiliSearchFailed(answer.get("code", str(response.status)), answer.get("message", ""))
    return answer
