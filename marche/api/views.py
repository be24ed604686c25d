"""Public API v1: search the directory, read one structure, check a list of SIRET, search and read published
tenders, the reference lookups (territories, CPV, sectors), the clause calculator and legal check, and the OpenAPI
document.

Each route declares its parameters and its answer with the schemas of `api/schemas.py`: they read the request
and shape the answer, and the OpenAPI document is generated from them. Every error is JSON with a French
message; a bad parameter names itself (400), never a 500.
"""
from __future__ import annotations

from flask import jsonify

from ..core.errors import render_error
from ..extensions import csrf
from ..geo.services import TerritoryError
from ..search.query import QueryError
from . import schemas, services, tender_search
from .framework import ApiBlueprint, body_error, parameter_error
from .openapi import openapi_document

bp = ApiBlueprint("api_v1", __name__, url_prefix="/api/v1", description="API publique v1")
# read-only endpoints, called by scripts without a session: no CSRF token to ask for
csrf.exempt(bp)
bp.register_error_handler(QueryError, parameter_error)
bp.register_error_handler(schemas.BodyError, body_error)

STRUCTURES, REFERENCE, CLAUSES, DOCUMENTATION = ["Structures"], ["Référentiels"], ["Clauses"], ["Documentation"]
TENDERS = ["Consultations"]


@bp.route("/structures", methods=["GET"], tags=STRUCTURES)
@bp.doc(operationId="searchStructures", summary="Rechercher des structures inclusives")
@bp.arguments(schemas.StructureSearchParameters, location="query")
@bp.response(200, schemas.SearchResponse,
             description="Une page de résultats (vide au-delà de la dernière page, avec le nombre total)")
@bp.alt_response(400, schema=schemas.ParameterError, description="Paramètre invalide")
def structures(parameters):
    return services.search(parameters)


@bp.route("/structures/<siret>", methods=["GET"], tags=STRUCTURES,
          parameters=[{"in": "path", "name": "siret", "description": "14 chiffres (espaces acceptés)",
                       "schema": {"type": "string", "pattern": schemas.TEXT_PATTERN}}])
@bp.doc(operationId="getStructure", summary="Une structure par son SIRET")
@bp.response(200, schemas.Structure, description="La structure")
@bp.alt_response(404, schema=schemas.Error, description="Aucune structure avec ce SIRET")
def structure(siret: str):
    found = services.public_structure_by_siret(siret)
    if found is None:
        return render_error(404, f"Aucune structure inclusive avec le SIRET « {siret[:40]} ».")
    return found


@bp.route("/structures/lookup", methods=["POST"], tags=STRUCTURES)
@bp.doc(operationId="lookupStructures", summary="Vérifier une liste de SIRET ou de SIREN")
@bp.arguments(schemas.LookupRequest, location="bounded_json")
@bp.response(200, schemas.LookupResponse, description="Une réponse par numéro, dans l'ordre, et la synthèse")
@bp.alt_response(400, schema=schemas.Error,
                 description=f"Corps JSON invalide ou plus de {schemas.MAX_LINES} numéros")
def lookup(body):
    return services.lookup(body["sirets"])


@bp.route("/territories", methods=["GET"], tags=REFERENCE)
@bp.doc(operationId="searchTerritories", summary="Autocomplétion de territoires")
@bp.arguments(schemas.TerritorySearchParameters, location="query")
@bp.response(200, schemas.TerritoryHits, description="Territoires trouvés")
@bp.alt_response(400, schema=schemas.ParameterError, description="Paramètre invalide")
def territories(parameters):
    return services.territories(parameters)


@bp.route("/territories/<path:ref>", methods=["GET"], tags=REFERENCE,
          parameters=[{"in": "path", "name": "ref", "description": "commune:<code>, dep:<code>, reg:<code> ou "
                                                                    "country:FR",
                       "schema": {"type": "string", "pattern": schemas.TEXT_PATTERN}}])
@bp.doc(operationId="getTerritory", summary="Un territoire par sa référence")
@bp.response(200, schemas.Territory, description="Le territoire")
@bp.alt_response(404, schema=schemas.Error, description="Référence inconnue")
def territory(ref: str):
    try:
        return services.territory(ref)
    except TerritoryError as error:
        return render_error(404, str(error))


@bp.route("/cpv", methods=["GET"], tags=REFERENCE)
@bp.doc(operationId="searchCpv", summary="Autocomplétion des codes CPV 2008")
@bp.arguments(schemas.CpvSearchParameters, location="query")
@bp.response(200, schemas.CpvHits, description="Codes trouvés")
@bp.alt_response(400, schema=schemas.ParameterError, description="Paramètre invalide")
def cpv(parameters):
    return services.cpv(parameters)


@bp.route("/need", methods=["GET"], tags=REFERENCE)
@bp.doc(operationId="suggestNeed", summary="Décrire un besoin : codes CPV, secteurs, lieu et durée suggérés")
@bp.arguments(schemas.NeedParameters, location="query")
@bp.response(200, schemas.NeedAnswer, description="Les suggestions (listes vides pour un texte vide)")
@bp.alt_response(400, schema=schemas.ParameterError, description="Paramètre invalide ou texte trop long")
def need(parameters):
    return services.need(parameters)


@bp.route("/sectors", methods=["GET"], tags=REFERENCE)
@bp.doc(operationId="listSectors", summary="Les secteurs d'activité par groupe")
@bp.response(200, schemas.SectorGroups, description="Les 20 groupes et leurs secteurs")
def sectors():
    return services.sectors()


@bp.route("/clauses/hours", methods=["GET"], tags=CLAUSES)
@bp.doc(operationId="insertionHours", summary="Calculer les heures d'insertion d'une clause")
@bp.arguments(schemas.HoursParameters, location="query")
@bp.response(200, schemas.Hours, description="Heures, ETP et formule")
@bp.alt_response(400, schema=schemas.ParameterError, description="Paramètre invalide ou hors bornes")
def clause_hours(parameters):
    return services.insertion_hours(parameters)


@bp.route("/clauses/legal-check", methods=["GET"], tags=CLAUSES)
@bp.doc(operationId="legalCheck", summary="Obligations sociales et environnementales d'une consultation")
@bp.arguments(schemas.LegalCheckParameters, location="query")
@bp.response(200, schemas.LegalCheckAnswer, description="Chaque obligation, et la procédure attendue")
@bp.alt_response(400, schema=schemas.ParameterError, description="Paramètre invalide")
def clause_legal_check(parameters):
    return services.legal_check(parameters)


@bp.route("/tenders", methods=["GET"], tags=TENDERS)
@bp.doc(operationId="searchTenders", summary="Rechercher des consultations publiées")
@bp.arguments(schemas.TenderSearchParameters, location="query")
@bp.response(200, schemas.TenderPage,
             description="Une page de consultations (vide au-delà de la dernière page, avec le nombre total)")
@bp.alt_response(400, schema=schemas.ParameterError, description="Paramètre invalide")
def tenders(parameters):
    return services.tenders(parameters)


@bp.route("/tenders/search", methods=["GET"], tags=TENDERS)
@bp.doc(operationId="searchOpenTenders", summary="Chercher les consultations ouvertes (moteur de recherche, facettes)")
@bp.arguments(tender_search.TenderIndexParameters, location="query")
@bp.response(200, tender_search.TenderIndexPage,
             description="Une page de consultations publiées dont la date limite n'est pas passée, et les facettes")
@bp.alt_response(400, schema=schemas.ParameterError, description="Paramètre invalide")
def tenders_search(parameters):
    return tender_search.search(parameters)


@bp.route("/tenders/<int:tender_id>", methods=["GET"], tags=TENDERS,
          parameters=[{"in": "path", "name": "tender_id", "description": "Identifiant de la consultation",
                       "schema": {"type": "integer", "minimum": 0, "maximum": services.MAX_ID}}])
@bp.doc(operationId="getTender", summary="Une consultation publiée, ses lots et leurs clauses")
@bp.response(200, schemas.TenderDetail, description="La consultation")
@bp.alt_response(404, schema=schemas.Error, description="Aucune consultation publiée avec cet identifiant "
                                                        "(brouillon, en attente de validation, annulée ou absente)")
def tender(tender_id: int):
    found = services.public_tender(tender_id)
    if found is None:
        return render_error(404, f"Aucune consultation publiée avec l'identifiant {tender_id}.")
    return found


@bp.route("/market-depth", methods=["GET"], tags=TENDERS)
@bp.doc(operationId="marketDepth", summary="Qui peut répondre à un lot : nombre de structures et les mieux placées")
@bp.arguments(schemas.MarketDepthParameters, location="query")
@bp.response(200, schemas.MarketDepthAnswer, description="Le nombre de structures qui peuvent répondre et le classement")
@bp.alt_response(400, schema=schemas.ParameterError, description="Paramètre invalide")
def market_depth(parameters):
    return services.market_depth(parameters)


@bp.route("/openapi.json", methods=["GET"], tags=DOCUMENTATION)
@bp.doc(operationId="getOpenapi", summary="Ce document")
@bp.alt_response(200, schema={"type": "object"}, description="Le document OpenAPI 3.1", success=True)
def openapi():
    return jsonify(openapi_document())
