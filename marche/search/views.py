"""The public directory search page (list and map), and its CSV/XLSX export for logged-in users."""
from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from ..core import access
from ..core.exports import tabular_response
from ..geo.services import territory_label
from ..reference.services import sectors_by_group
from ..suppliers import favorites
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


@dataclass(frozen=True)
class Chip:
    """An active filter above the results: what it says, and the same search without it."""

    label: str
    url: str


def _search_url(args: list[tuple[str, str]]) -> str:
    return url_for("search.structures") + ("?" + urlencode(args) if args else "")


#: a parameter that means nothing without another: removed with it
_GOES_WITH = {"territory": "territory_mode", "near": "radius_km"}
_YES_NO = {"zrr": "Implantée en ZRR / FRR", "has_references": "Références clients", "claimed": "Fiche gérée"}


def active_filters(query: StructureQuery, labels: dict[str, dict[str, str]]) -> list[Chip]:
    """Every active filter, the place read in the text first, each with the link that removes it."""
    args = query.to_args()
    chips: list[Chip] = []
    if query.read_territory:  # the place leaves the text: the words are searched as they are
        without = [("q", query.q)] * bool(query.q) + [("literal", "1")] + [a for a in args if a[0] != "q"]
        chips.append(Chip(f"Peut intervenir à : {query.reading.territory.label}", _search_url(without)))
    names = {"kind": ("Type", labels["kinds"]), "sector": ("Secteur", labels["sectors"]),
             "env": ("Engagement", labels["env"]), "service": ("Prestation", labels["services"]),
             "size": ("Taille", labels["size_band"])}
    for position, (name, value) in enumerate(args):
        if name in names:
            title, values = names[name]
            label = f"{title} : {values.get(value, value)}"
        elif name == "territory":
            mode = "Peut intervenir sur" if query.territory_mode == "covers" else "Implantée sur"
            label = f"{mode} : {territory_label(value)}"
        elif name == "near":
            label = f"À moins de {query.radius_km} km de {territory_label(value)}"
        elif name in _YES_NO:
            label = f"{_YES_NO[name]} : {'oui' if value == '1' else 'non'}"
        elif name == "literal":
            label = "Recherche littérale"
        else:
            continue
        chips.append(Chip(label, _search_url([a for i, a in enumerate(args)
                                              if i != position and a[0] != _GOES_WITH.get(name)])))
    return chips


def literal_url(query: StructureQuery) -> str | None:
    """The same search with the text searched as typed (when something was read in it)."""
    if not (query.reading and query.reading.changed):
        return None
    args = [a for a in query.to_args() if a[0] != "q"]
    return _search_url([("q", query.reading.typed), ("literal", "1")] + args)


def candidate_urls(query: StructureQuery) -> list[Chip]:
    """« Vouliez-vous dire » links: the shared name's places, each set as the territory."""
    if not (query.reading and query.reading.candidates):
        return []
    args = [a for a in query.to_args() if a[0] not in {"q", "sort"}]
    words = [("q", query.reading.candidate_words)] if query.reading.candidate_words else []
    return [Chip(candidate.label, _search_url(words + [("territory", candidate.ref)] + args))
            for candidate in query.reading.candidates]


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
    labels = facet_labels(groups)
    return render_template(
        "search/structures.html", query=query, result=result, error=error, view=view,
        map_kind_labels={k.value: k.label for k in StructureKind},
        labels=labels, groups=groups, page_url=page_url, profile_path=profile_path,
        chips=active_filters(query, labels), literal_url=literal_url(query), candidates=candidate_urls(query),
        page_link=lambda n: page_url(query, n),
        kinds=StructureKind, env_labels=EnvLabel, services=ServiceKind, sizes=SizeBand,
        can_export=access.can(current_user, "export_search"), export_limit=EXPORT_LIMIT,
        favorite_cards=(favorites.card_state(current_user, [h["id"] for h in result.hits])
                        if view != "carte" and access.can(current_user, "use_favorites") else None),
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
