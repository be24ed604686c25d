"""Public API v1: search the directory, read one structure, check a list of SIRET, the OpenAPI document.

Every error is JSON with a French message; a bad parameter names itself (400), never a 500.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from ..core.errors import render_error
from ..core.identifiers import is_digits, normalize_digits
from ..core.input import InputError, request_json
from ..extensions import csrf, db
from ..geo.models import Commune
from ..search.documents import structure_document
from ..search.query import BOOL_VALUES, QueryError, parse_query
from ..suppliers.check import MAX_LINES, MAX_VALUE_CHARS, CheckInputError, CheckReport, Entry, check_entries
from ..suppliers.models import Structure

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
# read-only endpoints, called by scripts without a session: no CSRF token to ask for
csrf.exempt(bp)

#: the fields a result shows, in this order (from search.documents.structure_document)
PUBLIC_FIELDS = ("siret", "siren", "name", "brand", "display_name", "kinds", "kind_labels", "sectors", "sector_names",
                 "services", "env", "city", "postcode", "commune", "department", "region", "latitude", "longitude",
                 "area_kind", "area_radius_km", "area_refs", "size_band", "employees", "in_zrr", "has_references",
                 "claimed", "naf", "website", "siret_status", "finess")
#: list parameters of GET /structures (repeatable); the others are read once
SEARCH_PARAMETERS = ("q", "kind", "sector", "territory", "territory_mode", "near", "radius_km", "env", "service",
                     "size", "zrr", "has_references", "claimed", "sort", "page", "per_page")


def profile_url(siret: str | None) -> str | None:
    return f"/structures/{siret}" if siret else None


def public_structure(document: dict[str, Any]) -> dict[str, Any]:
    """A search document as the API shows it: public fields, the profile's address, the distance if any."""
    body = {name: document.get(name) for name in PUBLIC_FIELDS}
    if "distance_km" in document:
        body["distance_km"] = document["distance_km"]
    body["url"] = profile_url(document.get("siret"))
    return body


def _strict_parameters() -> None:
    """The API is stricter than the search page (whose forms send empty fields): a parameter given
    empty, or a `facets` that is not a yes/no, is an error rather than ignored."""
    for name in SEARCH_PARAMETERS + ("facets",):
        values = request.args.getlist(name)
        if name != "q" and any(not value.strip() for value in values):
            raise QueryError(name, f"« {name} » est vide : omettez ce paramètre ou donnez-lui une valeur.")
    for value in request.args.getlist("facets"):
        if value.lower() not in BOOL_VALUES:
            raise QueryError("facets", "« facets » attend 1 ou 0.", ["1", "0"])


@bp.get("/structures")
def structures():
    from ..search.service import search_structures

    try:
        _strict_parameters()
        query = parse_query(request.args)
    except QueryError as error:
        return jsonify(error.as_json()), 400
    with_facets = bool(BOOL_VALUES.get(request.args.get("facets", "").lower()))
    result = search_structures(replace(query, facets=with_facets))
    body = {"count": result.count, "page": result.page, "per_page": result.per_page,
            "results": [public_structure(hit) for hit in result.hits], "backend": result.backend}
    if with_facets:
        body["facets"] = result.facets
    return jsonify(body)


@bp.get("/structures/<siret>")
def structure(siret: str):
    digits = normalize_digits(siret)
    found = None
    if len(digits) == 14 and is_digits(digits):
        found = db.session.execute(select(Structure).where(Structure.siret == digits,
                                                           Structure.is_synthetic.is_(False))).scalar_one_or_none()
    if found is None:
        return render_error(404, f"Aucune structure inclusive avec le SIRET « {siret[:40]} ».")
    commune = db.session.get(Commune, found.commune_code) if found.commune_code else None
    document = structure_document(found, date.today(), in_zrr=bool(commune and commune.in_zrr))
    return jsonify(public_structure(document))


def _as_text(value: Any) -> str:
    """A list item as typed: numbers are read as digits, anything else answers « invalide »."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text[:MAX_VALUE_CHARS]


@bp.post("/structures/lookup")
def lookup():
    expected = "Corps JSON attendu : {\"sirets\": [\"…\", …]}"
    try:
        body = request_json()
    except InputError as error:
        return render_error(400, f"{error.message} {expected}.")
    if not isinstance(body, dict) or not isinstance(body.get("sirets"), list):
        return render_error(400, f"{expected} (liste de SIRET ou de SIREN).")
    values = body["sirets"]
    if len(values) > MAX_LINES:
        return render_error(400, f"La liste contient {len(values)} numéros : {MAX_LINES} au plus par requête.")
    entries = [Entry(index, _as_text(value)) for index, value in enumerate(values, start=1)]
    try:
        report = CheckReport(lines=check_entries(entries))
    except CheckInputError as error:
        return render_error(400, error.message)
    return jsonify({"summary": report.summary, "results": [line.as_json() for line in report.lines]})


@bp.get("/openapi.json")
def openapi():
    from .openapi import openapi_document

    return jsonify(openapi_document())
