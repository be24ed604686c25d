"""Tenders (consultations): a buyer drafts lots and their clauses, has them validated, publishes, awards."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Tables known to Alembic; each part's access rules, pages and outbox work."""
    from ..core import access as core_access, outbox
    from . import models

    app.extensions.setdefault("marche_models", set()).add(models.__name__)

    # drafting: who sees and edits a tender, the drafting pages (/consultations/...)
    from . import access as drafting_access
    from .views import bp as drafting_bp

    core_access.register(drafting_access.RULES)
    app.register_blueprint(drafting_bp)

    # workflow: moves, validation, assistance, award (workflow.py, award.py, workflow_*.py)
    from . import award, workflow, workflow_access, workflow_views

    core_access.register(workflow_access.RULES)
    outbox.register_handler(award.LOT_AWARDED, award.record_award)
    outbox.register_periodic("tenders.close_due", 300, workflow.close_due_task)
    app.add_template_global(workflow_views.panel_for, "workflow_panel")
    app.register_blueprint(workflow_views.bp)

    # search (issue 20): the `tenders` document type, kept in step by a flush listener and a periodic
    # reconciliation; the search page /consultations/recherche and the watch /veille (saved searches, feeds)
    from ..search import register_document_type
    from . import search_documents, search_views, watch, watch_views

    register_document_type(search_documents.TENDERS)
    search_documents.listen()
    outbox.register_periodic("tenders.search_reconcile", 600, search_documents.reconcile_task)
    watch.register(app)
    app.register_blueprint(search_views.bp)
    app.register_blueprint(watch_views.bp)
