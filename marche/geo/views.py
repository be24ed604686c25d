"""Geography pages: the department outlines the maps draw (the territory lookups are API routes, in `api/`)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("geo", __name__)


@bp.get("/geo/departements.geojson")
def departments_geojson():
    """Department outlines for the maps (our own file from data/, no tile server needed)."""
    from flask import send_file

    from ..config import PROJECT_ROOT

    return send_file(PROJECT_ROOT / "data" / "departements.geojson", mimetype="application/geo+json", max_age=86400)
