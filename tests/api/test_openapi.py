"""The OpenAPI document: every /api/v1 route of the app is described, the document is well formed, and
real answers of the endpoints validate against the response schemas it declares."""
from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import text

from marche import create_app
from marche.cli import DATA_DIR
from marche.extensions import db
from marche.search.query import SORTS, TERRITORY_MODES
from marche.suppliers.importer import import_structures
from marche.suppliers.models import EnvLabel, ServiceKind, StructureKind

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
ACI = "75187049400026"

#: the shape OpenAPI 3.1 asks for, reduced to what this document must hold
DOCUMENT_SHAPE = {
    "type": "object",
    "required": ["openapi", "info", "paths", "components"],
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.1\.\d+$"},
        "info": {"type": "object", "required": ["title", "version"],
                 "properties": {"title": {"type": "string"}, "version": {"type": "string"}}},
        "paths": {
            "type": "object",
            "propertyNames": {"pattern": "^/"},
            "additionalProperties": {
                "type": "object",
                "propertyNames": {"enum": sorted(HTTP_METHODS | {"parameters", "summary", "description"})},
                "additionalProperties": {
                    "type": "object",
                    "required": ["responses", "operationId"],
                    "properties": {
                        "operationId": {"type": "string"},
                        "parameters": {"type": "array", "items": {
                            "type": "object", "required": ["name", "in", "schema"],
                            "properties": {"in": {"enum": ["query", "path", "header", "cookie"]},
                                           "name": {"type": "string"}, "required": {"type": "boolean"}}}},
                        "responses": {
                            "type": "object", "minProperties": 1,
                            "propertyNames": {"pattern": r"^([1-5][0-9]{2}|default)$"},
                            "additionalProperties": {"type": "object", "required": ["description"]},
                        },
                    },
                },
            },
        },
        "components": {"type": "object", "properties": {"schemas": {"type": "object"}}},
    },
}


@pytest.fixture(autouse=True)
def _empty_search_index(app):
    """Imports here index structures through the outbox; leave the search index as empty as the tables."""
    yield
    from marche.search.indexer import reindex_all

    with app.app_context():
        db.session.remove()
        db.session.execute(text("TRUNCATE structure CASCADE"))
        db.session.commit()
        reindex_all()


@pytest.fixture(scope="module")
def api_app(app_config, app):
    application = create_app(app_config)
    # the factory registers the API (api.init_app): a fixture that added it "if missing" would hide its loss
    assert "api_v1" in application.blueprints
    return application


@pytest.fixture
def api(api_app):
    return api_app.test_client()


@pytest.fixture
def document(api):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def _openapi_path(rule: str) -> str:
    """Flask's `/territories/<path:ref>` is OpenAPI's `/territories/{ref}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_is_documented(api_app, document):
    routes = [(rule, method.lower()) for rule in api_app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for method in rule.methods - {"HEAD", "OPTIONS"}]
    assert len(routes) >= 8
    for rule, method in routes:
        path = _openapi_path(rule.rule)
        assert path in document["paths"], f"{path} absent du document OpenAPI"
        assert method in document["paths"][path], f"{method.upper()} {path} absent du document OpenAPI"
        template_names = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in document["paths"][path][method].get("parameters", []) if p["in"] == "path"}
        assert template_names == declared, path
    for expected in ("/api/v1/structures", "/api/v1/structures/{siret}", "/api/v1/structures/lookup",
                     "/api/v1/territories", "/api/v1/territories/{ref}", "/api/v1/cpv", "/api/v1/sectors"):
        assert expected in document["paths"]


def test_document_structure(document):
    Draft202012Validator(DOCUMENT_SHAPE).validate(document)
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    # every reference points at a declared schema
    text = repr(document)
    for ref in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert ref in document["components"]["schemas"], ref
    ids = [op["operationId"] for item in document["paths"].values() for m, op in item.items() if m in HTTP_METHODS]
    assert len(ids) == len(set(ids))


def test_enums_follow_the_code(document):
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/structures"]["get"]["parameters"]}

    def enum(name):
        schema = parameters[name]["schema"]
        return schema.get("items", schema)["enum"]

    assert enum("kind") == [k.value for k in StructureKind]
    assert enum("env") == [e.value for e in EnvLabel]
    assert enum("service") == [s.value for s in ServiceKind]
    assert enum("territory_mode") == list(TERRITORY_MODES)
    assert enum("sort") == list(SORTS)
    assert parameters["per_page"]["schema"]["maximum"] == 100
    for name in ("q", "kind", "sector", "territory", "territory_mode", "near", "radius_km", "env", "service",
                 "page", "per_page"):
        assert name in parameters


def _validator(document, path: str, method: str, status: str) -> Draft202012Validator:
    schema = document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return Draft202012Validator({"components": document["components"], **schema})


def test_real_answers_match_the_declared_schemas(api, api_app, document):
    with api_app.app_context():
        import_structures(DATA_DIR / "structures_siae_geiq_ea.csv")
        db.session.commit()
    answers = [
        ("/api/v1/structures/{siret}", "get", "200", api.get(f"/api/v1/structures/{ACI}")),
        ("/api/v1/structures/{siret}", "get", "404", api.get("/api/v1/structures/00000000000000")),
        ("/api/v1/structures", "get", "200", api.get("/api/v1/structures?kind=ACI&per_page=5")),
        ("/api/v1/structures", "get", "400", api.get("/api/v1/structures?kind=SCOP")),
        ("/api/v1/structures/lookup", "post", "200",
         api.post("/api/v1/structures/lookup", json={"sirets": [ACI, "807469317", "12"]})),
        ("/api/v1/structures/lookup", "post", "400", api.post("/api/v1/structures/lookup", data="x")),
        ("/api/v1/territories", "get", "200", api.get("/api/v1/territories?q=lille&kinds=commune,dep")),
        ("/api/v1/territories", "get", "400", api.get("/api/v1/territories?kinds=planete")),
        ("/api/v1/territories/{ref}", "get", "200", api.get("/api/v1/territories/dep:59")),
        ("/api/v1/territories/{ref}", "get", "404", api.get("/api/v1/territories/dep:999")),
        ("/api/v1/cpv", "get", "200", api.get("/api/v1/cpv?q=peinture")),
        ("/api/v1/sectors", "get", "200", api.get("/api/v1/sectors")),
        ("/api/v1/market-depth", "get", "200", api.get("/api/v1/market-depth?kind=ACI&territory=dep:59")),
        ("/api/v1/market-depth", "get", "400", api.get("/api/v1/market-depth?env=vert")),
    ]
    for path, method, status, response in answers:
        assert str(response.status_code) == status, (path, response.data[:200])
        _validator(document, path, method, status).validate(response.json)
