"""The Meilisearch index of structures: settings, incremental updates (from the outbox) and full rebuilds.

Documents come from the one serializer, `search.documents.structure_document`; the SQL backend builds
its hits with the same function, so both backends answer with the same shape.
"""
from __future__ import annotations

import time
from datetime import date
from typing import Callable, Iterable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..core.meili import get_client, index_name
from ..core import dates
from ..extensions import db
from ..geo.models import Commune
from ..suppliers.models import Structure
from .documents import structure_document, version_of

INDEX = "structures"
#: ~5 000 documents (≈ 5 MB of JSON) per request: large enough to keep a 50 000-row rebuild to a few
#: round trips, small enough to keep the worker's memory flat
BATCH_SIZE = 5000
ZRR_STATUSES = ("C", "PC")
#: a rebuild must be searchable when reindex_all returns; 50 000 documents take well under this
TASK_TIMEOUT_MS = 300_000

SETTINGS = {
    # order matters: a match in the name ranks above one in the description
    "searchableAttributes": ["display_name", "name", "brand", "sector_names", "city", "description", "siret"],
    "filterableAttributes": ["kinds", "sectors", "env", "services", "size_band", "in_zrr", "has_references",
                             "claimed", "commune", "department", "region", "area_kind", "area_radius_km",
                             "area_refs", "area_departments", "area_regions", "_geo"],
    "sortableAttributes": ["display_name", "_geo"],
    "typoTolerance": {"enabled": True},
    # exact counts for every filtered search (the default stops counting at 1 000)
    "pagination": {"maxTotalHits": 200_000},
    # the 154 sectors must all come back as facet values
    "faceting": {"maxValuesPerFacet": 200},
}


def structures_index():
    return get_client().index(index_name(INDEX))


def ensure_index() -> None:
    """Create the index if needed and apply the settings (idempotent; done once per process)."""
    name = index_name(INDEX)
    ready = current_app.extensions.setdefault("marche_meili_ready", set())
    if name in ready:
        return
    client = get_client()
    task = client.create_index(name, {"primaryKey": "id"})
    client.wait_for_task(task.task_uid, timeout_in_ms=TASK_TIMEOUT_MS)  # fails harmlessly if it exists
    task = client.index(name).update_settings(SETTINGS)
    _wait(task.task_uid)
    ready.add(name)


def forget_index_state() -> None:
    """After the index was deleted behind our back (tests), make the next write re-create it."""
    current_app.extensions.pop("marche_meili_ready", None)


def _wait(task_uid: int) -> None:
    task = get_client().wait_for_task(task_uid, timeout_in_ms=TASK_TIMEOUT_MS, interval_in_ms=20)
    if task.status != "succeeded":
        raise RuntimeError(f"Meilisearch task {task_uid} {task.status}: {task.error}")


def wait_for_pending(timeout_s: float = 60) -> None:
    """Block until every enqueued or running task of our index is done (tests, scripts)."""
    client = get_client()
    deadline = time.monotonic() + timeout_s
    while True:
        tasks = client.get_tasks({"indexUids": [index_name(INDEX)], "statuses": ["enqueued", "processing"]})
        if not tasks.results:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(tasks.results)} tâches Meilisearch encore en attente")
        time.sleep(0.02)


def load_structures(session: Session, ids: Iterable[int]) -> list[Structure]:
    return list(session.execute(
        select(Structure).where(Structure.id.in_(list(ids))).order_by(Structure.id)
        .options(selectinload(Structure.sectors), selectinload(Structure.env_commitments),
                 selectinload(Structure.references))).scalars())


def zrr_communes(session: Session, codes: Iterable[str | None]) -> set[str]:
    """Which of these communes are (even partly) in a ZRR."""
    wanted = {code for code in codes if code}
    if not wanted:
        return set()
    return set(session.execute(select(Commune.code).where(Commune.code.in_(wanted),
                                                          Commune.zrr_status.in_(ZRR_STATUSES))).scalars())


def documents(session: Session, structures: list[Structure], today: date | None = None) -> list[dict]:
    today = today or dates.today()
    in_zrr = zrr_communes(session, (s.commune_code for s in structures))
    return [structure_document(s, today, s.commune_code in in_zrr) for s in structures]


def index_structures(session: Session, ids: list[int], wait: bool = False) -> list[int]:
    """Send the current state of these structures; ids that no longer exist leave the index.

    Returns the Meilisearch task uids (the outbox does not wait: the tasks run in order anyway)."""
    ensure_index()
    index = structures_index()
    tasks: list[int] = []
    ids = sorted(set(ids))
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start:start + BATCH_SIZE]
        structures = load_structures(session, chunk)
        if structures:
            tasks.append(index.add_documents(documents(session, structures), primary_key="id").task_uid)
        gone = sorted(set(chunk) - {s.id for s in structures})
        if gone:
            tasks.append(index.delete_documents(ids=[str(i) for i in gone]).task_uid)
    if wait:
        for uid in tasks:
            _wait(uid)
    return tasks


def _indexed_ids() -> set[int]:
    """Every id in the index (browsed by pages of 10 000; about 10 ms per page)."""
    index, ids, offset = structures_index(), set(), 0
    while True:
        page = index.get_documents({"fields": ["id"], "limit": 10_000, "offset": offset})
        ids |= {int(doc.id) for doc in page.results}
        offset += len(page.results)
        if offset >= page.total or not page.results:
            return ids


def reindex_all(progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild from the database in place (no index swap); return how many structures are searchable."""
    ensure_index()
    index = structures_index()
    today = dates.today()
    # a session of its own: the caller's objects stay untouched, and memory stays flat on 50 000 rows
    with Session(db.engine) as session:
        all_ids = list(session.execute(select(Structure.id).order_by(Structure.id)).scalars())
        total, done, tasks = len(all_ids), 0, []
        if progress:
            progress(0, total)
        for start in range(0, total, BATCH_SIZE):
            structures = load_structures(session, all_ids[start:start + BATCH_SIZE])
            tasks.append(index.add_documents(documents(session, structures, today), primary_key="id").task_uid)
            done += len(structures)
            session.expunge_all()
            if progress:
                progress(done, total)
    for uid in tasks:
        _wait(uid)
    stale = _indexed_ids() - set(all_ids)
    if stale:
        _wait(index.delete_documents(ids=[str(i) for i in sorted(stale)]).task_uid)
    return total


def _indexed_versions() -> dict[int, str | None]:
    """id → `updated_at` of every document in the index (browsed by pages of 10 000)."""
    index, versions, offset = structures_index(), {}, 0
    while True:
        page = index.get_documents({"fields": ["id", "updated_at"], "limit": 10_000, "offset": offset})
        for doc in page.results:
            versions[int(doc.id)] = getattr(doc, "updated_at", None)
        offset += len(page.results)
        if offset >= page.total or not page.results:
            return versions


def stale_structures() -> tuple[list[int], list[int]]:
    """What the index gets wrong, by version and not by count: the structures whose document is
    missing or older than the row (`updated_at`), and the documents whose structure is gone."""
    with Session(db.engine) as session:
        rows = {id_: version_of(updated_at)
                for id_, updated_at in session.execute(select(Structure.id, Structure.updated_at))}
    indexed = _indexed_versions()
    to_send = sorted(id_ for id_, version in rows.items() if indexed.get(id_, "missing") != version)
    to_delete = sorted(set(indexed) - set(rows))
    return to_send, to_delete


def reconcile() -> tuple[int, int]:
    """Send the stale documents and remove the orphans; return (sent, removed). Waits for Meilisearch."""
    ensure_index()
    to_send, to_delete = stale_structures()
    with Session(db.engine) as session:
        # ids that vanished in between are deleted by index_structures itself
        index_structures(session, to_send + to_delete, wait=True)
    return len(to_send), len(to_delete)
