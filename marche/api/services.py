"""What the API endpoints read, as plain functions over the search, the directory, the published tenders and the
reference data: the views declare parameters and answers, these functions fetch (no request, no commit)."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ..clauses import calculator, legal
from ..clauses.annex import RESERVATION_WORDING
from ..clauses.catalogue import EligiblePublic, EnvironmentalCondition, FulfilmentMode
from ..core.dates import today
from ..core.errors import DomainError
from ..core.identifiers import is_digits, normalize_digits
from ..extensions import db
from ..geo.models import Commune
from ..geo.services import resolve, search_territories, territory_label
from ..reference.models import Sector
from ..reference.services import is_valid_cpv, search_cpv, sectors_by_group
from ..search.documents import structure_document
from ..search.need import suggest_need
from ..search.query import QueryError, parse_query
from ..suppliers.check import MAX_VALUE_CHARS, CheckReport, Entry, check_entries
from ..suppliers.models import Structure
from ..tenders import queries as tender_queries
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


# --- tenders ---------------------------------------------------------------------------------------

#: the largest identifier PostgreSQL's integer holds: a larger one names nothing (never an overflow)
MAX_ID = 2**31 - 1


def tender_url(tender_id: int) -> str:
    return f"/consultations/{tender_id}"


def _cpv_prefixes(values: list[str]) -> tuple[str, ...]:
    """Prefixes of the codes asked; a whole code (with its check digit) must be one of the catalogue."""
    for value in values:
        if "-" in value and not is_valid_cpv(value):
            raise QueryError("cpv", f"Code CPV inconnu : {value} (vérifiez le chiffre de contrôle, ou donnez "
                                    f"seulement le début du code).")
    return tuple(dict.fromkeys(tender_queries.cpv_prefix(value) for value in values))


def _tender_sector_ids(values: list[str]) -> tuple[int, ...]:
    ids = sector_ids(values)
    known = set(db.session.execute(select(Sector.id).where(Sector.id.in_(ids))).scalars()) if ids else set()
    for sector_id in ids:
        if sector_id not in known:
            raise QueryError("sector", f"Secteur inconnu : {sector_id}")
    return tuple(ids)


def _place(ref: str | None) -> dict[str, str] | None:
    return None if not ref else {"ref": ref, "label": territory_label(ref)}


def _lot_item(summary) -> dict[str, Any]:
    lot = summary.lot
    return {"position": lot.position, "title": lot.title, "amount": lot.amount,
            "clause_types": list(summary.clause_types), "insertion_hours": summary.insertion_hours}


def _tender_item(view) -> dict[str, Any]:
    tender = view.tender
    return {"id": tender.id, "title": tender.title, "status": view.status, "buyer_name": tender.organisation.name,
            "kind": tender.kind, "nature": tender.nature, "cpv": list(tender.cpv_codes or []),
            "place": _place(tender.place_ref), "amount": tender.amount, "answers_deadline": tender.answers_deadline,
            "published_at": tender.published_at, "lots": [_lot_item(lot) for lot in view.lots],
            "url": tender_url(tender.id)}


def tenders(parameters: dict[str, Any]) -> dict[str, Any]:
    """One page of public tenders (published by default) for the read parameters."""
    territory_ref = parameters.get("territory")
    if territory_ref:
        try:
            territory_ref = resolve(territory_ref).ref
        except DomainError as error:
            raise QueryError("territory", error.message) from None
    filters = tender_queries.TenderFilters(
        words=tender_queries.words_of(parameters.get("q")), cpv_prefixes=_cpv_prefixes(parameters.get("cpv", [])),
        sector_ids=_tender_sector_ids(parameters.get("sector", [])), territory=territory_ref,
        territory_mode=parameters.get("territory_mode") or "within", kinds=tuple(parameters.get("kind", [])),
        reserved=parameters.get("reserved"), clause_types=tuple(parameters.get("clause", [])),
        deadline_after=parameters.get("deadline_after"),
        statuses=tuple(parameters.get("status") or tender_queries.LISTED_BY_DEFAULT),
        sort=parameters.get("sort") or "deadline",
        page=parameters.get("page") or 1, per_page=parameters.get("per_page") or 20)
    page = tender_queries.search_published(filters)
    return {"count": page.count, "page": page.page, "per_page": page.per_page,
            "results": [_tender_item(view) for view in page.results]}


def _coded(values, enum) -> list[dict[str, str]]:
    return [{"code": value, "label": enum(value).label} for value in values]


def _criterion(criterion) -> dict[str, Any] | None:
    return None if criterion is None else {"weight": criterion.weight, "description": criterion.description,
                                           "cost": criterion.cost}


def _clauses(spec) -> dict[str, Any]:
    insertion = None
    if spec.insertion is not None:
        i = spec.insertion
        insertion = {"hours": i.hours, "etp": i.etp, "formula": i.computed().formula,
                     "hours_written": i.hours_override is not None, "override_reason": i.override_reason,
                     "amount_basis": i.amount_basis, "labour_share": i.labour_share,
                     "insertion_rate": i.insertion_rate, "hourly_cost": i.hourly_cost,
                     "modes": _coded(i.modes, FulfilmentMode), "publics": _coded(i.publics, EligiblePublic),
                     "penalty_per_hour": i.penalty_per_hour}
    reservation = None
    if spec.reservation is not None:
        reservation = {"code": spec.reservation, "article": legal.RESERVATIONS[spec.reservation],
                       "label": f"Réservé {RESERVATION_WORDING[spec.reservation]}"}
    return {"insertion": insertion, "reservation": reservation, "insertion_object": spec.insertion_object,
            "social_criterion": _criterion(spec.social_criterion),
            "environmental_conditions": _coded(spec.environmental_conditions, EnvironmentalCondition),
            "environmental_free_text": spec.environmental_free_text,
            "environmental_criterion": _criterion(spec.environmental_criterion)}


def _award(lot) -> dict[str, Any] | None:
    award = lot.award
    if award is None or not award.awarded:
        return None
    return {"holder_name": award.holder_name, "holder_siret": award.holder_siret, "amount": award.amount,
            "awarded_on": award.awarded_on, "offers_count": award.offers_count}


def public_tender(tender_id: int) -> dict[str, Any] | None:
    """A public tender with its lots' clauses and its rectificatifs; None for a draft, a tender awaiting
    validation, a cancelled one and an unknown id."""
    if not 0 < tender_id <= MAX_ID:
        return None
    view = tender_queries.public_tender(tender_id)
    if view is None:
        return None
    tender = view.tender
    body = _tender_item(view)
    body["lots"] = [{**_lot_item(summary), "description": summary.lot.description,
                     "cpv": list(summary.lot.cpv_codes or []), "place": _place(summary.lot.place_ref),
                     "status": summary.lot.status, "insertion_etp": summary.insertion_etp,
                     "clauses": _clauses(summary.spec), "award": _award(summary.lot)} for summary in view.lots]
    body.update({
        "object": tender.object, "procedure": tender.procedure, "duration_months": tender.duration_months,
        "launch_date": tender.launch_date, "questions_deadline": tender.questions_deadline,
        "planned_notification": tender.planned_notification,
        "contact": {"name": tender.contact_name, "email": tender.contact_email, "phone": tender.contact_phone},
        "buyer_profile_url": tender.buyer_profile_url,
        "sectors": [{"id": s.id, "name": s.name, "slug": s.slug} for s in tender.sectors],
        "rectificatifs": [{"created_at": r.created_at, "note": r.note,
                           "changes": [{"field": str(c.get("field", "")), "label": str(c.get("label", "")),
                                        "before": c.get("before"), "after": c.get("after")}
                                       for c in r.changes or []]}
                          for r in tender.rectificatifs],
    })
    return body


def market_depth(parameters: dict[str, Any]) -> dict[str, Any]:
    """How many structures can answer a lot with these filters ("covers" mode, as the directory counts them), and
    the best placed (tenders.matching ranks them)."""
    from ..tenders.matching import Wanted, depth_of

    args = MultiDict([("literal", "1"), ("territory_mode", "covers")])
    for name in ("kind", "env"):
        for value in parameters.get(name) or []:
            args.add(name, str(value))
    if parameters.get("territory"):
        args.add("territory", parameters["territory"])
    for sector in sector_ids(parameters.get("sector", [])):
        args.add("sector", str(sector))
    query = parse_query(args)
    depth = depth_of(Wanted(sectors=query.sectors, place=query.territory, env=query.env, asked_kinds=query.kinds),
                     levers=False)
    return {"count": depth.count, "results": [candidate.as_json() for candidate in depth.ranked],
            "backend": depth.backend}
