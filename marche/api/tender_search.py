"""GET /api/v1/tenders/search: the tender search engine (`tenders.search_documents`: Meilisearch, or its SQL
fallback with the same answers) for scripts: open published tenders only, the same parameters as the search
page `/consultations/recherche` (read by `tenders.search_query.parse_tender_query`), with facets.

`/api/v1/tenders` stays the SQL list that also reads closed and awarded tenders (its `status` parameter); this
one answers what is open for answers now, ranked by the engine, with the counts by facet."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from marshmallow import Schema, fields

from ..clauses.spec import CLAUSE_TYPES
from ..search.query import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LENGTH
from ..tenders.models import TenderKind
from ..tenders.search_documents import search_tenders
from ..tenders.search_query import RESERVATIONS, SORTS, parse_tender_query
from .schemas import (AREA_REF, CPV_PREFIX, Choice, IsoDate, Number, Parameters, Pattern, Repeatable, TerritoryRef,
                      Text, _describe, _values)

MAX_ID = 2_147_483_647


class TenderIndexParameters(Parameters):
    may_be_empty = ("q",)

    q = Text(max_length=MAX_QUERY_LENGTH, tab=True, **_describe(
        "Mots cherchés dans le titre, l'objet, les lots (titre, description) et le nom de l'acheteur, avec "
        "tolérance aux fautes de frappe ; le dernier mot peut être un début de mot", examples=["espaces verts"]))
    cpv = Repeatable(Pattern(CPV_PREFIX, "« {name} » : code CPV ou début de code attendu (2 à 8 chiffres), reçu "
                                         "« {value} »."), **_describe(
        "Début de code CPV de la consultation ou d'un lot (répétable) : « 45 » donne tous les travaux",
        examples=["90", "77310000-6"]))
    sector = Repeatable(Number(1, MAX_ID), **_describe("Secteur : identifiant publié par /api/v1/sectors (répétable)"))
    territory = TerritoryRef(("commune", "dep", "reg"), AREA_REF, **_describe(
        "Un lieu d'exécution (de la consultation ou d'un lot) est dans ce territoire ou le contient",
        examples=["dep:59", "commune:59350"]))
    structure = Number(1, MAX_ID, **_describe(
        "Là où cette structure peut intervenir : un lieu dans un des départements de sa zone d'intervention, ou "
        "les contenant (sa région, la France entière)"))
    kind = Repeatable(Choice(_values(TenderKind)), **_describe("Type de consultation (répétable)"))
    reserved = Repeatable(Choice(list(RESERVATIONS)), **_describe(
        "Lot réservé (répétable) : siae, disability (EA / ESAT), both ; un lot réservé aux deux répond à chacun"))
    clause = Repeatable(Choice(list(CLAUSE_TYPES)), **_describe("Un lot porte un de ces types de clause (répétable)"))
    buyer = Number(1, MAX_ID, **_describe("Identifiant de l'organisation acheteuse"))
    deadline_after = IsoDate(**_describe("Date limite de réponse ce jour ou après (AAAA-MM-JJ, heure de Paris)"))
    deadline_before = IsoDate(**_describe("Date limite de réponse ce jour ou avant (AAAA-MM-JJ, heure de Paris)"))
    published_after = IsoDate(**_describe("Publiée ce jour ou après (AAAA-MM-JJ, heure de Paris)"))
    sort = Choice(list(SORTS), **_describe("deadline (défaut) : date limite la plus proche ; recent : dernière "
                                           "publiée d'abord"))
    page = Number(1, MAX_PAGE, **_describe("Page (à partir de 1)", default=1))
    per_page = Number(1, MAX_PER_PAGE, **_describe("Résultats par page", default=20))


class TenderHitLot(Schema):
    id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    title = fields.String(required=True)
    clause_types = fields.List(fields.String(), required=True)
    reservation = fields.String(required=True, allow_none=True)


class TenderHit(Schema):
    class Meta:
        ordered = True

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    buyer_id = fields.Integer(required=True)
    buyer_name = fields.String(required=True)
    kind = fields.String(required=True)
    cpv_codes = fields.List(fields.String(), required=True)
    sectors = fields.List(fields.Integer(), required=True)
    place_refs = fields.List(fields.String(), required=True, metadata={
        "description": "Lieux d'exécution de la consultation et de ses lots"})
    departments = fields.List(fields.String(), required=True)
    reserved = fields.List(fields.String(), required=True)
    clause_types = fields.List(fields.String(), required=True)
    amount = fields.Float(required=True, allow_none=True)
    answers_deadline = fields.String(required=True, allow_none=True, metadata={"description": "ISO 8601, UTC"})
    published_at = fields.String(required=True, allow_none=True, metadata={"description": "ISO 8601, UTC"})
    lots = fields.List(fields.Nested(TenderHitLot), required=True)
    url = fields.String(required=True)


class TenderIndexPage(Schema):
    count = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    backend = fields.String(required=True, metadata={
        "description": "meilisearch, ou sql quand le moteur est indisponible (mêmes résultats)"})
    facets = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                         required=True, metadata={"description": "Par facette (kind, sectors, reserved, "
                                                                 "clause_types, departments, wide_places : les lieux d'exécution qui sont "
                                                                 "toute une région ou toute la France) : valeur → "
                                                                 "nombre"})
    results = fields.List(fields.Nested(TenderHit), required=True)


HIT_FIELDS = ("id", "title", "buyer_id", "buyer_name", "kind", "cpv_codes", "sectors", "place_refs", "departments",
              "reserved", "clause_types", "amount", "answers_deadline", "published_at")


def search(_parameters: dict[str, Any]) -> Response:
    """The parameters were checked by the schema; the search's own parser reads them (and checks what needs the
    database: territory, structure, sectors). The answer is built as the documented `TenderIndexPage` and sent as
    JSON directly: marshmallow's dump of 20 hits and a few hundred facet values cost more than the search itself
    (measured: ~12 ms of the ~25); tests validate real answers against the OpenAPI document."""
    query = parse_tender_query(request.args)
    result = search_tenders(replace(query, facets=True))
    base = current_app.config["BASE_URL"].rstrip("/")
    return jsonify({"count": result.count, "page": result.page, "per_page": result.per_page, "backend": result.backend,
            "facets": result.facets,
            "results": [{**{name: hit.get(name) for name in HIT_FIELDS},
                         "lots": [{key: lot.get(key) for key in ("id", "position", "title", "clause_types",
                                                                  "reservation")} for lot in hit["lots"]],
                         "url": base + url_for("tenders.show", tender_id=hit["id"])} for hit in result.hits]})
