"""Structure search: one query type, a Meilisearch backend and an SQL fallback with the same answers."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The search pages, the outbox handler that keeps the index in step with committed changes, and
    the worker's redrive of index jobs after an engine outage."""
    from ..core import outbox
    from ..suppliers.services import STRUCTURES_CHANGED
    from . import tasks
    from .views import bp

    outbox.register_handler(STRUCTURES_CHANGED, tasks.index_changed_structures)
    outbox.register_periodic("search.redrive_after_outage", 30, tasks.redrive_after_outage)
    app.register_blueprint(bp)
