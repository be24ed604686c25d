"""Outbox handlers: keep the Meilisearch index in step with committed changes."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..core.outbox import handler
from ..suppliers.services import STRUCTURES_CHANGED


@handler(STRUCTURES_CHANGED)
def index_changed_structures(session: Session, payload: dict) -> None:
    from .indexer import index_structures

    index_structures(session, payload["ids"])
