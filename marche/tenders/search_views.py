"""The public tender search page `/consultations/recherche`: list or map of open published tenders, facets,
a shareable URL (GET arguments, `TenderQuery.to_args`) and, for a logged-in user, « Enregistrer cette
recherche » (the watch, `tenders.watch_views`)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, render_template, request, url_for

from ..clauses import legal
from ..clauses.spec import CLAUSE_TYPES
from ..geo.services import territory_label
from ..reference.services import sectors_by_group
from ..search.query import QueryError
from .models import TenderKind
from .search_documents import search_tenders
from .search_query import RESERVATIONS, TenderQuery, parse_tender_query

bp = Blueprint("tender_search", __name__)

PAGE_SIZE = 20
#: the articles come from the one table the legal check reads
RESERVED_LABELS = {"siae": f"Réservé aux SIAE ({legal.RESERVATIONS['siae']})",
                   "disability": f"Réservé aux EA / ESAT ({legal.RESERVATIONS['disability']})",
                   "both": f"Réservé aux SIAE et EA / ESAT ({legal.RESERVATIONS['both']})"}


@bp.app_template_filter("iso_datetime")
def iso_datetime(value: str | None) -> datetime | None:
    """A document's ISO instant (answers_deadline) as a datetime, for `fr_datetime`."""
    return datetime.fromisoformat(value) if value else None


def search_url(query: TenderQuery, page: int = 1, **extra: str) -> str:
    args = query.to_args() + ([("page", str(page))] if page > 1 else []) + list(extra.items())
    return url_for("tender_search.search") + ("?" + urlencode(args) if args else "")


@bp.get("/consultations/recherche")
def search():
    view = "carte" if request.args.get("vue") == "carte" else "liste"
    error: QueryError | None = None
    try:
        query = parse_tender_query(request.args, max_per_page=PAGE_SIZE)
    except QueryError as exc:
        error, query = exc, TenderQuery()
    query = replace(query, per_page=PAGE_SIZE)
    result = search_tenders(query)
    groups = sectors_by_group()
    sector_names = {str(s.id): s.name for _, sectors in groups for s in sectors}
    return render_template(
        "tenders/search/search.html", query=query, result=result, error=error, view=view, groups=groups,
        sector_names=sector_names, kinds=TenderKind, clause_labels=CLAUSE_TYPES, reserved_labels=RESERVED_LABELS,
        reservations=list(RESERVATIONS), territory_label=_label(query.territory),
        page_link=lambda n: search_url(query, n), list_url=search_url(query, query.page),
        map_url=search_url(query, 1, vue="carte"),
        department_url=_territory_url(query, "dep:__CODE__"),
        wide_places=_wide_places(query, result.facets.get("wide_places", {})),
    ), 400 if error else 200


def _wide_places(query: TenderQuery, counts: dict[str, int]) -> list[tuple[str, int, str]]:
    """(label, tenders, link) of the places that are a whole region or France: France first, then by name."""
    labels = {ref: _label(ref) for ref in counts}
    return [(labels[ref], counts[ref], _territory_url(query, ref))
            for ref in sorted(counts, key=lambda ref: (ref != "country:FR", labels[ref]))]


def _territory_url(query: TenderQuery, ref: str) -> str:
    """The same search limited to one territory (the map's department, region or France), as a list."""
    return url_for("tender_search.search") + "?" + urlencode(
        [a for a in query.to_args() if a[0] != "territory"] + [("territory", ref)])


def _label(ref: str | None) -> str | None:
    if not ref:
        return None
    try:
        return territory_label(ref)
    except Exception:  # noqa: BLE001 - a label only: the reference itself was checked by the parser
        return ref
