"""GET /api/v1/tenders/search: the tender search engine's answers (open published tenders only, the same as
the search page), facets, answers valid against the OpenAPI document, and a French 400 naming a bad parameter."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from marche.api.openapi import openapi_document
from marche.extensions import db
from marche.search.indexer import wait_for_pending
from tests.tenders.tender_search_data import HIDDEN, build_tenders

PATH, DOCUMENT = "/api/v1/tenders/search", openapi_document()


def validate(status: int, body) -> None:
    schema = DOCUMENT["paths"][PATH]["get"]["responses"][str(status)]["content"]["application/json"]["schema"]
    Draft202012Validator({"components": DOCUMENT["components"], **schema}).validate(body)


@pytest.fixture
def data(app):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        ids = build_tenders()
        wait_for_pending()
        db.session.remove()
    return ids


def test_open_tenders_with_facets(client, data):
    response = client.get(PATH, query_string={"reserved": "siae", "sort": "recent"})
    body = response.get_json()
    assert response.status_code == 200, body
    validate(200, body)
    assert body["count"] == 2 and body["backend"] == "meilisearch"
    assert {hit["id"] for hit in body["results"]} == {data["cleaning"], data["catering"]}
    assert body["facets"]["reserved"] == {"siae": 1, "disability": 1, "both": 1}
    catering = next(hit for hit in body["results"] if hit["id"] == data["catering"])
    assert catering["url"] == f"http://localhost/consultations/{data['catering']}"
    assert [lot["reservation"] for lot in catering["lots"]] == ["disability", "both"]
    everything = client.get(PATH, query_string={"per_page": "100"}).get_json()
    assert everything["count"] == 6
    assert not {hit["id"] for hit in everything["results"]} & {data[k] for k in HIDDEN}


def test_page_and_api_agree(client, data):
    body = client.get(PATH, query_string={"territory": "dep:59", "q": "nettoyage"}).get_json()
    assert [hit["id"] for hit in body["results"]] == [data["cleaning"]]


@pytest.mark.parametrize("params, parameter", [
    ({"kind": "auction"}, "kind"), ({"reserved": "any"}, "reserved"), ({"cpv": "4"}, "cpv"),
    ({"territory": "dep:999"}, "territory"), ({"structure": "424242"}, "structure"), ({"sector": "x"}, "sector"),
    ({"deadline_before": "demain"}, "deadline_before"), ({"page": "0"}, "page"), ({"sort": "name"}, "sort"),
])
def test_bad_parameters_are_a_french_400_naming_them(client, data, params, parameter):
    response = client.get(PATH, query_string=params)
    body = response.get_json()
    assert response.status_code == 400 and body["parameter"] == parameter, body
    validate(400, body)
