"""The OpenAPI 3.1 document of API v1, built from the same enumerations the endpoints validate with."""
from __future__ import annotations

from typing import Any

from ..geo.services import KINDS as TERRITORY_KINDS
from ..search.query import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LENGTH, MAX_RADIUS_KM, SORTS, TERRITORY_MODES
from ..suppliers.check import MAX_LINES
from ..suppliers.models import EnvLabel, ServiceKind, SizeBand, StructureKind


#: no control character: a NUL byte is refused (400) by the input layer before any endpoint
TEXT = {"type": "string", "pattern": "^[^\\x00]*$"}
#: the search refuses every control character but TAB (search.query._reject_control_characters)
SEARCH_TEXT = {"type": "string", "pattern": "^[^\\x00-\\x08\\x0a-\\x1f]*$"}
#: the canonical form of a territory reference (geo.services.CODE_PATTERNS); whether it exists is data
COMMUNE_REF = "commune:([0-9]{5}|2[AB][0-9]{3})"
AREA_REF = f"^({COMMUNE_REF}|dep:([0-9]{{2,3}}|2[AB])|reg:[0-9]{{2,3}})$"
KINDS_LIST = "^((commune|dep|reg|country)(,(commune|dep|reg|country))*)?$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _query(name: str, description: str, schema: dict[str, Any], repeated: bool = False) -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "description": description}
    if repeated:
        parameter.update(schema={"type": "array", "items": schema}, style="form", explode=True)
    else:
        parameter["schema"] = schema
    return parameter


def _enum(values) -> dict[str, Any]:
    return {"type": "string", "enum": [str(v) for v in values]}


def _flag(name: str, description: str) -> dict[str, Any]:
    return _query(name, description + " (1 ou 0)", _enum(["1", "0"]))


def _search_parameters() -> list[dict[str, Any]]:
    return [
        _query("q", "Texte recherché (nom, enseigne, ville, description…)", {**SEARCH_TEXT,
                                                                              "maxLength": MAX_QUERY_LENGTH}),
        _query("kind", "Type de structure (répétable, ou liste séparée par des virgules)",
               _enum(k.value for k in StructureKind), repeated=True),
        _query("sector", "Identifiant de secteur (voir /api/v1/sectors ; répétable)", {"type": "integer"},
               repeated=True),
        _query("territory", "Territoire : commune:<code INSEE>, dep:<code>, reg:<code>",
               {"type": "string", "pattern": AREA_REF, "examples": ["dep:59", "commune:59350", "reg:32"]}),
        _query("territory_mode", "covers : la structure peut intervenir sur le territoire ; "
                                 "located : elle y est implantée", _enum(TERRITORY_MODES)),
        _query("near", "Commune de référence (commune:<code INSEE>) pour une recherche par distance",
               {"type": "string", "pattern": f"^{COMMUNE_REF}$", "examples": ["commune:59350"]}),
        _query("radius_km", "Rayon autour de « near », en km (30 par défaut)",
               {"type": "integer", "minimum": 1, "maximum": MAX_RADIUS_KM}),
        _query("env", "Engagement environnemental en cours de validité (répétable)",
               _enum(e.value for e in EnvLabel), repeated=True),
        _query("service", "Type de prestation (répétable)", _enum(s.value for s in ServiceKind), repeated=True),
        _query("size", "Tranche d'effectif (répétable)", _enum(s.value for s in SizeBand), repeated=True),
        _flag("zrr", "Implantée en zone de revitalisation rurale (ZRR / FRR)"),
        _flag("has_references", "A des références clients"),
        _flag("claimed", "Fiche revendiquée par la structure"),
        _query("sort", "Tri des résultats (distance demande « near »)", _enum(SORTS)),
        _query("page", "Page (à partir de 1)", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                                                "default": 1}),
        _flag("facets", "Ajouter le nombre de structures par valeur de chaque filtre (« facets »)"),
        _query("per_page", "Résultats par page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                                  "default": 20}),
    ]


def _schemas() -> dict[str, Any]:
    string_list = {"type": "array", "items": {"type": "string"}}
    nullable_string = {"type": ["string", "null"]}
    nullable_number = {"type": ["number", "null"]}
    return {
        "Error": {
            "type": "object", "required": ["error", "message"],
            "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
        },
        "ParameterError": {
            "type": "object", "required": ["error", "parameter", "message"],
            "properties": {"error": {"type": "string"}, "parameter": {"type": "string"},
                           "message": {"type": "string"}, "allowed": string_list},
        },
        "Structure": {
            "type": "object", "required": ["siret", "name", "kinds", "sectors", "city", "department",
                                           "latitude", "longitude", "url"],
            "properties": {
                "siret": {"type": ["string", "null"], "pattern": "^[0-9]{14}$"},
                "siren": {"type": ["string", "null"], "pattern": "^[0-9]{9}$"},
                "name": {"type": "string"}, "brand": nullable_string, "display_name": {"type": "string"},
                "kinds": {"type": "array", "items": _enum(k.value for k in StructureKind)},
                "kind_labels": string_list,
                "sectors": {"type": "array", "items": {"type": "integer"}}, "sector_names": string_list,
                "services": {"type": "array", "items": _enum(s.value for s in ServiceKind)},
                "env": {"type": "array", "items": _enum(e.value for e in EnvLabel)},
                "city": nullable_string, "postcode": nullable_string, "commune": nullable_string,
                "department": nullable_string, "region": nullable_string,
                "latitude": nullable_number, "longitude": nullable_number,
                "area_kind": _enum(["country", "radius", "territories"]),
                "area_radius_km": {"type": ["integer", "null"]}, "area_refs": string_list,
                "size_band": {"type": ["string", "null"]}, "employees": {"type": ["integer", "null"]},
                "in_zrr": {"type": "boolean"}, "has_references": {"type": "boolean"}, "claimed": {"type": "boolean"},
                "naf": nullable_string, "website": nullable_string,
                "siret_status": _enum(["ok", "to_check", "missing"]), "finess": string_list,
                "distance_km": {"type": "number", "description": "Présent quand « near » est donné"},
                "url": {"type": ["string", "null"], "description": "Adresse de la fiche publique"},
            },
        },
        "SearchResponse": {
            "type": "object", "required": ["count", "page", "per_page", "results", "backend"],
            "properties": {
                "count": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
                "results": {"type": "array", "items": _ref("Structure")},
                "backend": _enum(["meilisearch", "sql"]),
                "facets": {"type": "object", "description": "Avec facets=1 : filtre → valeur → nombre",
                           "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}},
            },
        },
        "LookupRequest": {
            "type": "object", "required": ["sirets"],
            "properties": {"sirets": {"type": "array", "maxItems": MAX_LINES,
                                      "items": {"description": "SIRET (14 chiffres) ou SIREN (9), en texte ou en "
                                                               "nombre ; toute autre valeur reçoit la réponse "
                                                               "« invalid »"}}},
        },
        "LookupResult": {
            "type": "object", "required": ["line", "input", "status", "kinds", "name"],
            "properties": {
                "line": {"type": "integer"}, "input": {"type": "string"},
                "status": _enum(["inclusive", "not_inclusive", "invalid"]),
                "siret": {"type": ["string", "null"]}, "siren": {"type": "string"},
                "kinds": {"type": "array", "items": _enum(k.value for k in StructureKind)},
                "name": nullable_string, "matched_sirets": string_list,
                "reason": {"type": "string", "description": "Pourquoi le numéro est invalide"},
                "note": {"type": "string"},
            },
        },
        "LookupResponse": {
            "type": "object", "required": ["summary", "results"],
            "properties": {
                "summary": {"type": "object", "required": ["total", "inclusive", "not_inclusive", "invalid", "by_kind"],
                            "properties": {"total": {"type": "integer"}, "inclusive": {"type": "integer"},
                                           "not_inclusive": {"type": "integer"}, "invalid": {"type": "integer"},
                                           "by_kind": {"type": "object",
                                                       "additionalProperties": {"type": "integer"}},
                                           "empty_lines": {"type": "integer"}}},
                "results": {"type": "array", "items": _ref("LookupResult")},
            },
        },
        "Territory": {
            "type": "object", "required": ["id", "kind", "code", "name", "label"],
            "properties": {"id": {"type": "string"}, "kind": _enum(TERRITORY_KINDS), "code": {"type": "string"},
                           "name": {"type": "string"}, "label": {"type": "string"}},
        },
        "TerritoryHits": {
            "type": "object", "required": ["results"],
            "properties": {"results": {"type": "array", "items": {
                "type": "object", "required": ["id", "label", "kind"],
                "properties": {"id": {"type": "string"}, "label": {"type": "string"},
                               "kind": _enum(TERRITORY_KINDS)}}}},
        },
        "CpvHits": {
            "type": "object", "required": ["results"],
            "properties": {"results": {"type": "array", "items": {
                "type": "object", "required": ["code", "label", "nature"],
                "properties": {"code": {"type": "string", "pattern": "^[0-9]{8}-[0-9]$"}, "label": {"type": "string"},
                               "nature": _enum(["travaux", "fournitures", "services"])}}}},
        },
        "SectorGroups": {
            "type": "object", "required": ["groups"],
            "properties": {"groups": {"type": "array", "items": {
                "type": "object", "required": ["id", "name", "slug", "sectors"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "slug": {"type": "string"},
                               "sectors": {"type": "array", "items": {
                                   "type": "object", "required": ["id", "name", "slug"],
                                   "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                                  "slug": {"type": "string"}}}}}}}},
        },
    }


def openapi_document() -> dict[str, Any]:
    document = _document()
    # any request may be refused before its endpoint: a NUL byte (400), a body over the size limit (413)
    for item in document["paths"].values():
        for operation in item.values():
            operation["responses"].setdefault("400", _error("Requête invalide (caractère nul, corps illisible)"))
            operation["responses"].setdefault("413", _error("Requête trop volumineuse"))
    return document


def _document() -> dict[str, Any]:
    # a limit over 20 is brought back to 20, and 0 to 1 (the autocompletes ask generously)
    limit = {"type": "integer", "minimum": 0, "default": 10, "description": "20 résultats au plus"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Marché inclusif — API publique",
            "version": "1.0.0",
            "description": "Annuaire des structures inclusives (SIAE, EA, EATT, ESAT, GEIQ), vérification de listes "
                           "de fournisseurs, référentiels (territoires, CPV, secteurs). Réponses JSON, messages en "
                           "français ; un paramètre invalide répond 400 en se nommant.",
            "license": {"name": "Licence Ouverte 2.0", "identifier": "etalab-2.0"},
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/structures": {"get": {
                "operationId": "searchStructures", "summary": "Rechercher des structures inclusives",
                "tags": ["Structures"], "parameters": _search_parameters(),
                "responses": {"200": _json(_ref("SearchResponse"), "Une page de résultats (vide au-delà de la "
                                                                    "dernière page, avec le nombre total)"),
                              "400": _json(_ref("ParameterError"), "Paramètre invalide")},
            }},
            "/api/v1/structures/{siret}": {"get": {
                "operationId": "getStructure", "summary": "Une structure par son SIRET", "tags": ["Structures"],
                "parameters": [{"name": "siret", "in": "path", "required": True,
                                "description": "14 chiffres (espaces acceptés)", "schema": TEXT}],
                "responses": {"200": _json(_ref("Structure"), "La structure"),
                              "404": _error("Aucune structure avec ce SIRET")},
            }},
            "/api/v1/structures/lookup": {"post": {
                "operationId": "lookupStructures", "summary": "Vérifier une liste de SIRET ou de SIREN",
                "tags": ["Structures"],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("LookupRequest")}}},
                "responses": {"200": _json(_ref("LookupResponse"), "Une réponse par numéro, dans l'ordre, et la "
                                                                    "synthèse"),
                              "400": _error(f"Corps JSON invalide ou plus de {MAX_LINES} numéros")},
            }},
            "/api/v1/openapi.json": {"get": {
                "operationId": "getOpenapi", "summary": "Ce document", "tags": ["Documentation"],
                "responses": {"200": _json({"type": "object"}, "Le document OpenAPI 3.1")},
            }},
            "/api/v1/territories": {"get": {
                "operationId": "searchTerritories", "summary": "Autocomplétion de territoires",
                "tags": ["Référentiels"],
                "parameters": [
                    _query("q", "Nom, code postal ou code INSEE", TEXT),
                    _query("kinds", "Types de territoire, séparés par des virgules", {"type": "string",
                           "pattern": KINDS_LIST,
                           "examples": ["commune,dep"], "description": f"parmi : {', '.join(TERRITORY_KINDS)}"}),
                    _query("limit", "Nombre de résultats", limit),
                ],
                "responses": {"200": _json(_ref("TerritoryHits"), "Territoires trouvés"),
                              "400": _error("Paramètre invalide")},
            }},
            "/api/v1/territories/{ref}": {"get": {
                "operationId": "getTerritory", "summary": "Un territoire par sa référence", "tags": ["Référentiels"],
                "parameters": [{"name": "ref", "in": "path", "required": True, "schema": TEXT,
                                "description": "commune:<code>, dep:<code>, reg:<code> ou country:FR"}],
                "responses": {"200": _json(_ref("Territory"), "Le territoire"),
                              "404": _error("Référence inconnue")},
            }},
            "/api/v1/cpv": {"get": {
                "operationId": "searchCpv", "summary": "Autocomplétion des codes CPV 2008", "tags": ["Référentiels"],
                "parameters": [_query("q", "Code ou libellé", TEXT),
                               _query("limit", "Nombre de résultats", limit)],
                "responses": {"200": _json(_ref("CpvHits"), "Codes trouvés"), "400": _error("Paramètre invalide")},
            }},
            "/api/v1/sectors": {"get": {
                "operationId": "listSectors", "summary": "Les secteurs d'activité par groupe", "tags": ["Référentiels"],
                "responses": {"200": _json(_ref("SectorGroups"), "Les 20 groupes et leurs secteurs")},
            }},
        },
        "components": {"schemas": _schemas()},
    }
