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

    # answers: the structure side of a published tender and the structure dashboard (answers*.py)
    from . import answers_access, answers_views

    core_access.register(answers_access.RULES)
    app.add_template_global(answers_views.answers_panel, "answers_panel")
    app.register_blueprint(answers_views.bp)

    # relay: the matching structures mailed once per tender, unsubscribe and preferences (relay*.py)
    from . import relay, relay_views

    outbox.register_handler(relay.RELAY, relay.relay_tender)
    outbox.register_handler(relay.RELAY_BATCH, relay.mail_batch)
    outbox.register_handler(relay.RECTIFICATIF_MAIL, relay.mail_rectificatif)
    app.register_blueprint(relay_views.bp)

    # the buyer's funnel per lot: counts, contact, re-notifications, exports (funnel*.py)
    from . import funnel, funnel_views

    core_access.register(funnel.RULES)
    app.add_template_global(funnel.reason_label, "funnel_reason")
    app.register_blueprint(funnel_views.bp)

    # market depth: who can answer a lot, on its clause page (depth_views.py, matching.py)
    from . import depth_views

    app.add_template_global(depth_views.depth_for, "lot_depth")
    app.register_blueprint(depth_views.bp)

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
