"""The public directory search page (list and map), and its CSV/XLSX export for logged-in users."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from ..core import access
from ..core.exports import tabular_response
from ..reference.services import sectors_by_group
from ..suppliers.models import EnvLabel, ServiceKind, SizeBand, StructureKind
from .document_types import SearchResult
from .query import QueryError, StructureQuery, parse_query
from .structures import search_structures

bp = Blueprint("search", __name__)

PAGE_SIZE = 20
EXPORT_LIMIT = 5000
EXPORT_HEADERS = ["SIRET", "FINESS", "Raison sociale", "Enseigne", "Types", "Secteurs", "Adresse", "Code postal",
                  "Ville", "Département", "Site internet", "Engagements environnementaux", "Fiche gérée", "Fiche"]


def facet_labels(groups) -> dict[str, dict[str, str]]:
    sectors = {str(s.id): s.name for _, group_sectors in groups for s in group_sectors}
    return {
        "kinds": {k.value: f"{k.value} — {k.label}" for k in StructureKind},
        "sectors": sectors,
        "env": dict(EnvLabel.choices()),
        "services": dict(ServiceKind.choices()),
        "size_band": dict(SizeBand.choices()),
    }


def profile_path(hit: dict) -> str:
    return url_for("suppliers.profile", ident=hit["siret"] or hit["finess"][0])


def page_url(query: StructureQuery, page: int = 1, **extra: str) -> str:
    """A shareable GET URL for this query (and page, view or format)."""
    args = query.to_args() + ([("page", str(page))] if page > 1 else []) + list(extra.items())
    return url_for("search.structures") + ("?" + urlencode(args) if args else "")


@bp.get("/structures")
def structures():
    view = request.args.get("vue", "liste")
    error: QueryError | None = None
    try:
        query = parse_query(request.args, max_per_page=PAGE_SIZE)
    except QueryError as exc:
        error, query = exc, StructureQuery()
    query = replace(query, per_page=PAGE_SIZE)
    result = search_structures(query)
    groups = sectors_by_group()  # read once: the filter list and the facet labels both need it
    return render_template(
        "search/structures.html", query=query, result=result, error=error, view=view,
        map_kind_labels={k.value: k.label for k in StructureKind},
        labels=facet_labels(groups), groups=groups, page_url=page_url, profile_path=profile_path,
        page_link=lambda n: page_url(query, n),
        kinds=StructureKind, env_labels=EnvLabel, services=ServiceKind, sizes=SizeBand,
        can_export=access.can(current_user, "export_search"), export_limit=EXPORT_LIMIT,
    ), 400 if error else 200


@bp.get("/structures/export")
@login_required
def export():
    fmt = request.args.get("format", "csv")
    if fmt not in {"csv", "xlsx"}:
        abort(400)
    try:
        query = parse_query(request.args)
    except QueryError as error:
        return render_template("errors/error.html", code=400, title="Requête invalide", message=error.message), 400
    result: SearchResult = search_structures(replace(query, page=1, per_page=EXPORT_LIMIT, facets=False))
    base = current_app.config["BASE_URL"].rstrip("/")
    rows = [[h["siret"], h["finess"], h["name"], h["brand"], h["kinds"], h["sector_names"], h.get("address"),
             h["postcode"], h["city"], h["department"], h["website"], [dict(EnvLabel.choices())[e] for e in h["env"]],
             "oui" if h["claimed"] else "non", base + profile_path(h)] for h in result.hits]
    return tabular_response(fmt, "structures-inclusives", EXPORT_HEADERS, rows)
