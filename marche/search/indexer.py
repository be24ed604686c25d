"""The Meilisearch indexes, one per document type: settings, incremental updates (from the outbox), full
rebuilds with progress, and reconciliation by version.

Written once for every `DocumentType`: documents come from the type's one serializer, which the SQL
backend also uses for its hits, so both backends answer with the same shape.
"""
from __future__ import annotations

import time
from typing import Callable

from flask import current_app
from sqlalchemy.orm import Session

from ..core import dates
from ..core.meili import get_client, index_name
from ..extensions import db
from . import document_types
from .document_types import DocumentType

#: ~5 000 documents (≈ 5 MB of JSON) per request: large enough to keep a 50 000-row rebuild to a few
#: round trips, small enough to keep the worker's memory flat
BATCH_SIZE = 5000
#: a rebuild must be searchable when reindex returns; 50 000 documents take well under this
TASK_TIMEOUT_MS = 300_000
#: reindex progress: (documents sent, documents of the type)
Progress = Callable[[int, int], None]


def index_of(document_type: DocumentType):
    return get_client().index(index_name(document_type.name))


def ensure_index(document_type: DocumentType, force: bool = False) -> None:
    """Create the index if needed and apply the settings (idempotent; done once per process, or again when
    `force`: a full rebuild applies them, whatever the index held before)."""
    name = index_name(document_type.name)
    ready = current_app.extensions.setdefault("marche_meili_ready", set())
    if name in ready and not force:
        return
    client = get_client()
    task = client.create_index(name, {"primaryKey": "id"})
    client.wait_for_task(task.task_uid, timeout_in_ms=TASK_TIMEOUT_MS)  # fails harmlessly if it exists
    task = client.index(name).update_settings(document_type.settings)
    _wait(task.task_uid)
    ready.add(name)


def forget_index_state() -> None:
    """After an index was deleted behind our back (tests), make the next write re-create it."""
    current_app.extensions.pop("marche_meili_ready", None)


def _wait(task_uid: int) -> None:
    task = get_client().wait_for_task(task_uid, timeout_in_ms=TASK_TIMEOUT_MS, interval_in_ms=20)
    if task.status != "succeeded":
        raise RuntimeError(f"Meilisearch task {task_uid} {task.status}: {task.error}")


def wait_for_pending(timeout_s: float = 60) -> None:
    """Block until every enqueued or running task of our indexes is done (tests, scripts)."""
    client = get_client()
    names = [index_name(t.name) for t in document_types.registered()]
    deadline = time.monotonic() + timeout_s
    while names:
        tasks = client.get_tasks({"indexUids": names, "statuses": ["enqueued", "processing"]})
        if not tasks.results:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(tasks.results)} tâches Meilisearch encore en attente")
        time.sleep(0.02)


def index_ids(document_type: DocumentType, session: Session, ids: list[int], wait: bool = False) -> list[int]:
    """Send the current state of these rows; ids that no longer exist leave the index.

    Returns the Meilisearch task uids (the outbox does not wait: the tasks run in order anyway)."""
    ensure_index(document_type)
    index = index_of(document_type)
    today = dates.today()
    tasks: list[int] = []
    ids = sorted(set(ids))
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start:start + BATCH_SIZE]
        rows = document_type.load(session, chunk)
        if rows:
            documents = document_type.documents(session, rows, today)
            tasks.append(index.add_documents(documents, primary_key="id").task_uid)
        gone = sorted(set(chunk) - {row.id for row in rows})
        if gone:
            tasks.append(index.delete_documents(ids=[str(i) for i in gone]).task_uid)
    if wait:
        for uid in tasks:
            _wait(uid)
    return tasks


def _browse(document_type: DocumentType, versions: bool = True) -> dict[int, str | None]:
    """id → version of every document in the index (None when not asked for), by pages of 10 000
    (about 10 ms per page)."""
    index, found, offset = index_of(document_type), {}, 0
    field = document_type.version_field
    fields = ["id", field] if versions else ["id"]
    while True:
        page = index.get_documents({"fields": fields, "limit": 10_000, "offset": offset})
        for doc in page.results:
            found[int(doc.id)] = getattr(doc, field, None) if versions else None
        offset += len(page.results)
        if offset >= page.total or not page.results:
            return found


def reindex(document_type: DocumentType, progress: Progress | None = None) -> int:
    """Rebuild one index from the database in place (no index swap); return how many documents are
    searchable. `progress(done, total)` is called before the first batch and after each one."""
    ensure_index(document_type, force=True)
    index = index_of(document_type)
    today = dates.today()
    # a session of its own: the caller's objects stay untouched, and memory stays flat on 50 000 rows
    with Session(db.engine) as session:
        all_ids = sorted(document_type.versions(session))
        total, done, tasks = len(all_ids), 0, []
        if progress:
            progress(0, total)
        for start in range(0, total, BATCH_SIZE):
            rows = document_type.load(session, all_ids[start:start + BATCH_SIZE])
            tasks.append(index.add_documents(document_type.documents(session, rows, today),
                                             primary_key="id").task_uid)
            done += len(rows)
            session.expunge_all()
            if progress:
                progress(done, total)
    for uid in tasks:
        _wait(uid)
    stale = set(_browse(document_type, versions=False)) - set(all_ids)
    if stale:
        _wait(index.delete_documents(ids=[str(i) for i in sorted(stale)]).task_uid)
    return total


def reindex_all(progress: Progress | None = None) -> int:
    """Rebuild every registered index (progress per type); return how many documents are searchable."""
    return sum(reindex(document_type, progress) for document_type in document_types.registered())


def stale(document_type: DocumentType) -> tuple[list[int], list[int]]:
    """What the index gets wrong, by version and not by count: the rows whose document is missing or
    older than the row, and the documents whose row is gone."""
    with Session(db.engine) as session:
        rows = document_type.versions(session)
    indexed = _browse(document_type)
    to_send = sorted(id_ for id_, version in rows.items() if indexed.get(id_, "missing") != version)
    to_delete = sorted(set(indexed) - set(rows))
    return to_send, to_delete


def reconcile(document_type: DocumentType) -> tuple[int, int]:
    """Send the stale documents and remove the orphans; return (sent, removed). Waits for Meilisearch."""
    ensure_index(document_type)
    to_send, to_delete = stale(document_type)
    with Session(db.engine) as session:
        # ids that vanished in between are deleted by index_ids itself
        index_ids(document_type, session, to_send + to_delete, wait=True)
    return len(to_send), len(to_delete)
