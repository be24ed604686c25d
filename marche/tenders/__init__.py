"""Tenders (consultations): a buyer drafts lots and their clauses, has them validated, publishes, awards."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Tables known to Alembic."""
    from . import models

    app.extensions.setdefault("marche_models", set()).add(models.__name__)
