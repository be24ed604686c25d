"""Catalogues shared by several domains: sectors (20 groups, 154 sectors), CPV 2008, NAF rév. 2."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Catalogue lookups."""
    from . import models
    from .views import bp

    app.extensions.setdefault("marche_models", set()).add(models.__name__)  # tables known to Alembic
    app.register_blueprint(bp)
