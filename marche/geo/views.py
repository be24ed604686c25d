"""Territory autocomplete and lookup (JSON) used by every form that asks for a place."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..core.errors import render_error
from ..core.identifiers import is_digits
from .services import KINDS, TerritoryError, resolve, search_territories

bp = Blueprint("geo", __name__)

MAX_LIMIT = 20


def _kinds_argument() -> set[str] | None:
    """The `kinds` parameter as a set; ValueError with a French message on an unknown kind."""
    raw = request.args.get("kinds", "")
    kinds = {kind.strip() for kind in raw.split(",") if kind.strip()}
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise ValueError(f"Paramètre « kinds » : valeur inconnue « {unknown[0]} » "
                         f"(valeurs possibles : {', '.join(KINDS)}).")
    return kinds or None


def _limit_argument() -> int:
    raw = request.args.get("limit", "10")
    if not is_digits(raw):
        raise ValueError(f"Paramètre « limit » : nombre entier attendu entre 1 et {MAX_LIMIT}.")
    return max(1, min(int(raw), MAX_LIMIT))


@bp.get("/api/v1/territories")
def territories():
    try:
        kinds, limit = _kinds_argument(), _limit_argument()
    except ValueError as error:
        return render_error(400, str(error))
    return jsonify({"results": search_territories(request.args.get("q", ""), limit=limit, kinds=kinds)})


@bp.get("/api/v1/territories/<path:ref>")
def territory(ref: str):
    try:
        return jsonify(resolve(ref).as_dict())
    except TerritoryError as error:
        return render_error(404, str(error))


@bp.get("/geo/departements.geojson")
def departments_geojson():
    """Department outlines for the maps (our own file from data/, no tile server needed)."""
    from flask import send_file

    from ..config import PROJECT_ROOT

    return send_file(PROJECT_ROOT / "data" / "departements.geojson", mimetype="application/geo+json", max_age=86400)
