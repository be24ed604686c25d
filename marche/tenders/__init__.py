"""Tenders (consultations): a buyer drafts lots and their clauses, has them validated, publishes, awards."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Tables known to Alembic; each part's pages and access rules."""
    from ..core import access as core_access
    from . import models

    app.extensions.setdefault("marche_models", set()).add(models.__name__)

    # drafting: who sees and edits a tender, the drafting pages (/consultations/...)
    from . import access as drafting_access
    from .views import bp as drafting_bp

    core_access.register(drafting_access.RULES)
    app.register_blueprint(drafting_bp)
