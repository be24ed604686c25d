"""What the API endpoints read, as plain functions over the search, the directory and the reference data: the
views declare parameters and answers, these functions fetch (no request, no commit)."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..clauses import calculator, legal
from ..core.dates import today
from ..core.errors import DomainError
from ..core.identifiers import is_digits, normalize_digits
from ..extensions import db
from ..geo.models import Commune
from ..geo.services import resolve, search_territories
from ..reference.models import Sector
from ..reference.services import search_cpv, sectors_by_group
from ..search.documents import structure_document
from ..search.need import suggest_need
from ..search.query import QueryError, parse_query
from ..suppliers.check import MAX_VALUE_CHARS, CheckReport, Entry, check_entries
from ..suppliers.models import Structure
from .schemas import PUBLIC_FIELDS

#: parameters handed to the search as they were read (sectors are translated first)
SEARCH_ARGUMENTS = {"q": "q", "literal": "literal", "kind": "kind", "territory": "territory", "territory_mode": "territory_mode",
                    "near": "near", "radius_km": "radius_km", "env": "env", "service": "service", "size": "size",
                    "zrr": "zrr", "has_references": "has_references", "claimed": "claimed", "sort": "sort",
                    "page": "page", "per_page": "per_page"}


def profile_url(siret: str | None) -> str | None:
    return f"/structures/{siret}" if siret else None


def public_structure(document: dict[str, Any]) -> dict[str, Any]:
    """A search document as the API shows it: public fields, the profile's address, the distance if any."""
    body = {name: document.get(name) for name in PUBLIC_FIELDS}
    if "distance_km" in document:
        body["distance_km"] = document["distance_km"]
    body["url"] = profile_url(document.get("siret"))
    return body


def sector_ids(values: list[str]) -> list[int]:
    """Sectors as /api/v1/sectors publishes them, by id or by slug (a slug shared by several sectors, such as
    « autre », stands for all of them); ids are checked by the search, an unknown slug is refused here."""
    slugs = [value for value in values if not is_digits(value)]
    by_slug: dict[str, list[int]] = {}
    if slugs:
        for sector_id, slug in db.session.execute(select(Sector.id, Sector.slug).where(Sector.slug.in_(slugs))):
            by_slug.setdefault(slug, []).append(sector_id)
    ids: list[int] = []
    for value in values:
        if is_digits(value):
            ids.append(int(value))
        elif value in by_slug:
            ids += sorted(by_slug[value])
        else:
            known = sorted(db.session.execute(select(Sector.slug).distinct()).scalars())
            raise QueryError("sector", f"Secteur inconnu : {value}", known)
    return list(dict.fromkeys(ids))


def _flag(value: bool) -> str:
    return "1" if value else "0"


def search(parameters: dict[str, Any]) -> dict[str, Any]:
    """One page of the directory for the read parameters (existence of places and sectors checked here)."""
    from ..search.structures import search_structures

    args = MultiDict()
    for name, key in SEARCH_ARGUMENTS.items():
        value = parameters.get(name)
        if value is None or value == []:
            continue
        for item in value if isinstance(value, list) else [value]:
            args.add(key, _flag(item) if isinstance(item, bool) else str(item))
    for sector in sector_ids(parameters.get("sector", [])):
        args.add("sector", str(sector))
    query = replace(parse_query(args), facets=bool(parameters.get("facets")))
    result = search_structures(query)
    body = {"count": result.count, "page": result.page, "per_page": result.per_page,
            "results": [public_structure(hit) for hit in result.hits], "backend": result.backend}
    if query.facets:
        body["facets"] = result.facets
    if query.reading and (query.reading.changed or query.reading.candidates):
        body["interpreted"] = query.reading.as_json()
    return body


def public_structure_by_siret(siret: str) -> dict[str, Any] | None:
    """A published structure by its SIRET (spaces and dots allowed); None when absent."""
    digits = normalize_digits(siret)
    if len(digits) != 14 or not is_digits(digits):
        return None
    found = db.session.execute(select(Structure).where(Structure.siret == digits,
                                                       Structure.publication == "published")).scalar_one_or_none()
    if found is None:
        return None
    commune = db.session.get(Commune, found.commune_code) if found.commune_code else None
    return public_structure(structure_document(found, today(), in_zrr=bool(commune and commune.in_zrr)))


def _as_text(value: Any) -> str:
    """A list item as typed: numbers are read as digits, anything else answers « invalide »."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text[:MAX_VALUE_CHARS]


def lookup(values: list[Any]) -> dict[str, Any]:
    """Each SIRET or SIREN of the list checked against the directory, in order, and the summary."""
    from ..suppliers.check import CheckInputError
    from .schemas import BodyError

    entries = [Entry(index, _as_text(value)) for index, value in enumerate(values, start=1)]
    try:
        report = CheckReport(lines=check_entries(entries))
    except CheckInputError as error:
        raise BodyError(error.message) from None
    return {"summary": report.summary, "results": [line.as_json() for line in report.lines]}


def territories(parameters: dict[str, Any]) -> dict[str, Any]:
    kinds = {kind.strip() for kind in parameters["kinds"].split(",") if kind.strip()} or None
    return {"results": search_territories(parameters["q"], limit=parameters["limit"], kinds=kinds)}


def territory(ref: str) -> dict[str, Any]:
    """The territory a reference names; TerritoryError when it does not exist."""
    return resolve(ref).as_dict()


def cpv(parameters: dict[str, Any]) -> dict[str, Any]:
    codes = search_cpv(parameters["q"], limit=parameters["limit"])
    return {"results": [{"code": code.code, "label": code.label_fr, "nature": code.nature} for code in codes]}


def need(parameters: dict[str, Any]) -> dict[str, Any]:
    found = suggest_need(parameters["q"])
    return {"cpv": found.cpv, "sectors": found.sectors,
            "place": {"ref": found.place.ref, "label": found.place.label} if found.place else None,
            "duration_months": found.duration_months, "backend": found.backend}


def sectors() -> dict[str, Any]:
    return {"groups": [
        {"id": group.id, "name": group.name, "slug": group.slug,
         "sectors": [{"id": sector.id, "name": sector.name, "slug": sector.slug} for sector in members]}
        for group, members in sectors_by_group()
    ]}


def _clause_error(error: DomainError) -> QueryError:
    return QueryError(error.field or "", error.message)


def insertion_hours(parameters: dict[str, Any]) -> dict[str, Any]:
    """The calculator (clauses/calculator.py); an input it refuses is a 400 naming the parameter."""
    try:
        result = calculator.insertion_hours(parameters["amount"], parameters["labour_share"],
                                            parameters["insertion_rate"], parameters["hourly_cost"])
    except calculator.CalculatorError as error:
        raise _clause_error(error) from None
    return {"hours": int(result.hours), "etp": float(result.etp), "formula": result.formula}


def legal_check(parameters: dict[str, Any]) -> dict[str, Any]:
    """The legal check of the figures alone (no lot): which obligations apply, and the procedure advice."""
    facts = legal.TenderFacts(parameters["buyer_category"], parameters["nature"], parameters["amount"],
                              parameters["launch_date"], defence=parameters["defence"],
                              specific_services=parameters["specific_services"],
                              procedure=parameters.get("procedure"))
    try:
        result = legal.check(facts)
    except DomainError as error:
        raise _clause_error(error) from None
    return {"obligations": [{"code": o.code, "label": o.label, "required": o.required, "article": o.article,
                             "threshold": None if o.threshold is None else float(o.threshold),
                             "applies_from": o.applies_from, "reason": o.reason} for o in result.obligations],
            "procedure": {"applies": result.procedure.applies, "procedure": result.procedure.procedure,
                          "allowed": list(result.procedure.allowed), "fits": result.procedure.fits,
                          "warning": result.procedure.warning, "notes": list(result.procedure.notes)}}
