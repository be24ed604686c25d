"""Inclusive structures: profile, kinds, sectors, intervention area, environmental commitments, claim."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Access rules, profile, self-created profile and « Vérifier mes fournisseurs » pages (and its PDF report), and the
    worker's hourly pass over expired commitments."""
    from ..core import access as core_access, documents, outbox
    from ..accounts import views as accounts_views
    from . import access, check, check_access, claim_views, models, tasks
    from .check_views import bp as check_bp
    from .contact_views import bp as contact_bp
    from .public_check import bp as public_check_bp
    from .completion_views import bp as completion_bp
    from .creation_views import bp as creation_bp
    from .views import bp

    core_access.register(access.RULES)
    core_access.register(check_access.RULES)
    outbox.register_periodic("suppliers.expired_commitments", 3600, tasks.reindex_expired_commitments)
    outbox.register_periodic("suppliers.contact_messages_purge", 86400, tasks.purge_contact_messages)
    documents.register_document(check.REPORT_DOCUMENT, check.report_document)
    app.extensions.setdefault("marche_models", set()).add(models.__name__)  # tables known to Alembic
    app.add_template_global(claim_views.owns_profile, "owns_profile")
    accounts_views.register_landing(claim_views.landing_after_login)
    app.register_blueprint(bp)
    app.register_blueprint(check_bp)
    app.register_blueprint(public_check_bp)
    app.register_blueprint(contact_bp)
    app.register_blueprint(creation_bp)
    app.register_blueprint(completion_bp)
