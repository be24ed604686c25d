"""Outbox handlers and scheduled work that keep the Meilisearch indexes in step with committed changes
(registered by `search.register_document_type` and `search.init_app`)."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from ..core import meili
from ..core.models import OutboxMessage, OutboxStatus, utcnow
from ..extensions import db
from . import document_types, indexer

log = logging.getLogger(__name__)


def index_changed(document_type_name: str, session: Session, payload: dict) -> None:
    """The outbox handler of a type's change message: send the listed rows' current state."""
    indexer.index_ids(document_types.get(document_type_name), session, payload["ids"])


def redrive_after_outage() -> int:
    """When Meilisearch answers again after being down (or at the worker's start), index jobs that
    died during the outage go back to the queue: an outage longer than the retry window loses no
    update. Returns how many jobs were re-queued."""
    state = current_app.extensions.setdefault("marche_search_health", {})
    healthy = meili.healthy()
    was_healthy = state.get("healthy")
    state["healthy"] = healthy
    kinds = [t.change_kind for t in document_types.registered() if t.change_kind]
    if not healthy or was_healthy or not kinds:
        return 0
    ids = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.kind.in_(kinds), OutboxMessage.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow())
        .returning(OutboxMessage.id)
    ).scalars().all()
    db.session.commit()
    if ids:
        log.warning("search engine back: %d dead index jobs re-queued", len(ids))
    return len(ids)
