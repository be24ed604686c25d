"""Shared mechanisms: model mixins, access, audit log, outbox and jobs, mail, errors, formatting,
dates, state machines, uploads, PDF rendering. `core` imports no domain package."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Error pages, security headers, the input layer, filters, the outbox, the mail and PDF handlers
    and the home / health / admin / generated document pages."""
    from . import documents, errors, filters, input as input_layer, mail, models, outbox, security
    from .views import bp

    errors.init_app(app)
    security.init_app(app)
    input_layer.init_app(app)
    filters.init_app(app)
    outbox.init_app(app)
    outbox.register_handler(mail.MAIL_SEND, mail.send_mail)
    outbox.register_handler(documents.PDF_RENDER, documents.render_stored)
    app.extensions.setdefault("marche_models", set()).add(models.__name__)  # tables known to Alembic
    app.register_blueprint(bp)
