"""Catalogue lookups (JSON): CPV autocomplete and the sector taxonomy."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..core.errors import render_error
from ..core.identifiers import is_digits
from .services import search_cpv, sectors_by_group

bp = Blueprint("reference", __name__)

MAX_LIMIT = 20


@bp.get("/api/v1/cpv")
def cpv():
    raw_limit = request.args.get("limit", "10")
    if not is_digits(raw_limit):
        return render_error(400, f"Paramètre « limit » : nombre entier attendu entre 1 et {MAX_LIMIT}.")
    limit = max(1, min(int(raw_limit), MAX_LIMIT))
    codes = search_cpv(request.args.get("q", ""), limit=limit)
    return jsonify({"results": [{"code": code.code, "label": code.label_fr, "nature": code.nature}
                                for code in codes]})


@bp.get("/api/v1/sectors")
def sectors():
    return jsonify({"groups": [
        {"id": group.id, "name": group.name, "slug": group.slug,
         "sectors": [{"id": sector.id, "name": sector.name, "slug": sector.slug} for sector in members]}
        for group, members in sectors_by_group()
    ]})
