"""What /healthz asks of each service: the database, the queue (search answers through core.meili)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import text

from ..extensions import db
from .outbox import rq_queue


def database_status() -> str:
    try:
        db.session.execute(text("select 1"))
        return "ok"
    except Exception:  # noqa: BLE001
        db.session.rollback()
        return "down"


def queue_status() -> str:
    queue = rq_queue(current_app)
    if queue is None:
        return "inline"
    try:
        queue.connection.ping()
        return "ok"
    except Exception:  # noqa: BLE001
        return "down"
