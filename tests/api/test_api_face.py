"""One API face: every /api/v1/ route is in `api/`, the document is generated from the schemas that read the
parameters, parameters accept what the API publishes (sector slugs, environmental codes), a single-valued
parameter given twice is a 400, and `include_synthetic` is no longer a parameter of the public API."""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from marche.api.openapi import openapi_document
from marche.api.schemas import SECTOR, CpvSearchParameters, StructureSearchParameters, TerritorySearchParameters
from marche.extensions import db
from marche.reference.models import Sector
from marche.search.indexer import reindex_all
from marche.suppliers.models import EnvCommitment, Structure

SIRETS = ("11111111100011", "22222222200022", "33333333300033")


@pytest.fixture
def directory(app):
    """Three structures: two in a first sector, one in a second sector with ISO 14001."""
    with app.app_context():
        first, second = db.session.execute(select(Sector).order_by(Sector.id).limit(2)).scalars().all()
        rows = [
            Structure(siret=SIRETS[0], siren=SIRETS[0][:9], name="Atelier Alpha", kinds=["EI"], source="test",
                      sectors=[first]),
            Structure(siret=SIRETS[1], siren=SIRETS[1][:9], name="Atelier Beta", kinds=["ACI"], source="test",
                      sectors=[first]),
            Structure(siret=SIRETS[2], siren=SIRETS[2][:9], name="Atelier Gamma", kinds=["EA"], source="test",
                      sectors=[second]),
        ]
        rows[2].env_commitments.append(EnvCommitment(label="iso14001", expires_on=date.today() + timedelta(30)))
        db.session.add_all(rows)
        db.session.commit()
        reindex_all()
        yield {"first": first.id, "first_slug": first.slug, "second": second.id, "second_slug": second.slug}


def _sirets(response) -> set[str]:
    assert response.status_code == 200, response.data[:300]
    return {result["siret"] for result in response.json["results"]}


def test_every_api_route_lives_in_the_api_blueprint(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]
    assert len(rules) >= 8
    for rule in rules:
        assert rule.endpoint.startswith("api_v1."), rule.endpoint
        assert app.view_functions[rule.endpoint].__module__ == "marche.api.views", rule.endpoint


def test_front_end_calls_existing_api_routes(client):
    script = Path(__file__).resolve().parents[2] / "marche" / "static" / "js" / "forms.js"
    called = set(re.findall(r'"(/api/v1/[a-z/]+)', script.read_text(encoding="utf-8")))
    assert called == {"/api/v1/territories", "/api/v1/territories/"}
    assert client.get("/api/v1/territories?q=lille&kinds=commune").json["results"]
    assert client.get("/api/v1/territories/" + "commune%3A59350").json["id"] == "commune:59350"


def test_document_parameters_are_the_schema_fields():
    paths = openapi_document()["paths"]
    for path, schema in (("/api/v1/structures", StructureSearchParameters),
                         ("/api/v1/territories", TerritorySearchParameters), ("/api/v1/cpv", CpvSearchParameters)):
        documented = [p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"]
        assert documented == list(schema().fields), path
    names = [p["name"] for p in paths["/api/v1/structures"]["get"]["parameters"]]
    assert "include_synthetic" not in names
    # a list parameter is an array, a single one is not
    by_name = {p["name"]: p["schema"] for p in paths["/api/v1/structures"]["get"]["parameters"]}
    assert by_name["kind"]["type"] == "array" and by_name["territory"]["type"] == "string"


def test_sector_by_slug_or_by_id(client, directory):
    by_id = _sirets(client.get(f"/api/v1/structures?sector={directory['first']}"))
    assert by_id == {SIRETS[0], SIRETS[1]}
    assert _sirets(client.get(f"/api/v1/structures?sector={directory['first_slug']}")) == by_id
    assert _sirets(client.get(f"/api/v1/structures?sector={directory['second_slug']}")) == {SIRETS[2]}
    both = f"sector={directory['first_slug']},{directory['second']}"
    assert _sirets(client.get(f"/api/v1/structures?{both}")) == set(SIRETS[:3])


def test_published_sector_slugs_are_accepted(client, directory):
    groups = client.get("/api/v1/sectors").json["groups"]
    slugs = {sector["slug"] for group in groups for sector in group["sectors"]}
    assert len(slugs) == 154 and all(re.fullmatch(SECTOR, slug) for slug in slugs)
    for slug in sorted(slugs)[:10]:
        assert client.get(f"/api/v1/structures?sector={slug}&per_page=1").status_code == 200, slug


def test_unknown_sector_slug_is_a_400_naming_it(client, directory):
    body = client.get("/api/v1/structures?sector=nulle-part").json
    assert body["parameter"] == "sector" and "inconnu" in body["message"] and "nulle-part" in body["message"]
    assert directory["first_slug"] in body["allowed"]


def test_environmental_commitment_by_its_published_code(client, directory):
    gamma = client.get(f"/api/v1/structures/{SIRETS[2]}").json
    assert gamma["env"] == ["iso14001"]
    for code in gamma["env"]:
        assert _sirets(client.get(f"/api/v1/structures?env={code}")) == {SIRETS[2]}


@pytest.mark.parametrize("query, parameter", [
    ("territory=dep:59&territory=dep:62", "territory"),
    ("page=1&page=2", "page"),
    ("q=alpha&q=beta", "q"),
    ("sort=name&sort=relevance", "sort"),
    ("facets=1&facets=0", "facets"),
])
def test_a_single_parameter_given_twice_is_a_400(client, query, parameter):
    response = client.get(f"/api/v1/structures?{query}")
    assert response.status_code == 400
    body = response.json
    assert body == {"error": "Paramètre invalide", "parameter": parameter,
                    "message": f"« {parameter} » ne peut être donné qu'une fois (reçu 2 fois)."}


def test_reference_parameters_given_twice_are_a_400(client):
    for url in ("/api/v1/territories?q=lille&q=nord", "/api/v1/cpv?limit=2&limit=3"):
        response = client.get(url)
        assert response.status_code == 400 and response.json["error"] == "Requête invalide", url
        assert "qu'une fois" in response.json["message"]


def test_list_parameters_may_repeat(client, directory):
    assert _sirets(client.get("/api/v1/structures?kind=EI&kind=ACI")) == {SIRETS[0], SIRETS[1]}


def test_include_synthetic_is_ignored_like_any_unknown_parameter(client, directory):
    """Benchmark data lives in the bench's own database: the API has nothing to opt into."""
    plain = client.get("/api/v1/structures?q=atelier&per_page=100")
    for value in ("1", "0", "true"):
        with_it = client.get(f"/api/v1/structures?q=atelier&include_synthetic={value}&per_page=100")
        assert with_it.json == plain.json
    assert _sirets(plain) == set(SIRETS)


def test_answers_are_shaped_by_the_schema(client, directory):
    """The search answer carries exactly the Structure schema's fields (and no internal one)."""
    document = openapi_document()
    declared = set(document["components"]["schemas"]["Structure"]["properties"])
    result = client.get("/api/v1/structures?q=gamma").json["results"][0]
    assert set(result) == declared - {"distance_km"}
    assert "is_synthetic" not in result and "id" not in result


def test_served_document_is_the_generated_one(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json == openapi_document()
    assert response.json["openapi"] == "3.1.0"
