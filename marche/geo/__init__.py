"""Territories: communes, departments, regions, ZRR; territory references and coverage (shapely)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Territory lookups and the department outlines."""
    from . import models, services
    from .views import bp

    app.extensions.setdefault("marche_models", set()).add(models.__name__)  # tables known to Alembic
    app.register_blueprint(bp)
    app.add_template_filter(services.territory_label, "territory_label")
