"""Outbox handlers and scheduled work that keep the Meilisearch index in step with committed changes
(registered by `search.init_app`)."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import Session

from ..core import meili
from ..core.models import OutboxMessage, OutboxStatus, utcnow
from ..extensions import db
from ..suppliers.services import STRUCTURES_CHANGED

log = logging.getLogger(__name__)


def index_changed_structures(session: Session, payload: dict) -> None:
    from .indexer import index_structures

    index_structures(session, payload["ids"])


def redrive_after_outage() -> int:
    """When Meilisearch answers again after being down (or at the worker's start), index jobs that
    died during the outage go back to the queue: an outage longer than the retry window loses no
    update. Returns how many jobs were re-queued."""
    state = current_app.extensions.setdefault("marche_search_health", {})
    healthy = meili.healthy()
    was_healthy = state.get("healthy")
    state["healthy"] = healthy
    if not healthy or was_healthy:
        return 0
    ids = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.kind == STRUCTURES_CHANGED, OutboxMessage.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow())
        .returning(OutboxMessage.id)
    ).scalars().all()
    db.session.commit()
    if ids:
        log.warning("search engine back: %d dead index jobs re-queued", len(ids))
    return len(ids)
