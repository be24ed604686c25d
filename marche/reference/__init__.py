"""Catalogues shared by several domains: sectors (20 groups, 154 sectors), CPV 2008, NAF rév. 2.
Their API routes live in `api/`; this domain has no page of its own."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Catalogue tables, known to Alembic."""
    from . import models

    app.extensions.setdefault("marche_models", set()).add(models.__name__)  # tables known to Alembic
