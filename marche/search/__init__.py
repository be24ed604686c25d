"""Search: an engine (Meilisearch, an SQL fallback with the same answers, indexing kept in step by the
outbox) written once, and one adapter per document type (`search.structures` today)."""
from __future__ import annotations

from functools import partial

from flask import Flask

from .document_types import DocumentType


def register_document_type(document_type: DocumentType) -> None:
    """Make a type searchable: the engine answers its queries, and its change messages (outbox)
    update its index. Each domain calls this from its own `init_app`."""
    from ..core import outbox
    from . import document_types, tasks

    document_types.register(document_type)
    if document_type.change_kind:
        outbox.register_handler(document_type.change_kind, partial(tasks.index_changed, document_type.name))


def init_app(app: Flask) -> None:
    """The structure adapter, the search pages, and the worker's redrive of index jobs after an engine
    outage."""
    from ..core import outbox
    from . import tasks
    from .map_views import bp as map_bp
    from .need_views import bp as need_bp
    from .structures import STRUCTURES
    from .views import bp

    register_document_type(STRUCTURES)
    outbox.register_periodic("search.redrive_after_outage", 30, tasks.redrive_after_outage)
    app.register_blueprint(bp)
    app.register_blueprint(map_bp)
    app.register_blueprint(need_bp)
