"""GET /api/v1/clauses/hours and /api/v1/clauses/legal-check: the calculator and the legal check as JSON, a bad
parameter named in a French 400, both in the OpenAPI document."""
from __future__ import annotations

import pytest

from marche.api.openapi import openapi_document

HOURS = "/api/v1/clauses/hours"
CHECK = "/api/v1/clauses/legal-check"
DOMAIN_EXAMPLE = {"amount": "1000000", "labour_share": "0.5", "insertion_rate": "0.05", "hourly_cost": "30"}


def test_hours_of_domain_example(client):
    response = client.get(HOURS, query_string=DOMAIN_EXAMPLE)
    assert response.status_code == 200
    body = response.get_json()
    assert body["hours"] == 833 and body["etp"] == 0.52  # 833.33 h, 833 / 1 607 = 0.518
    assert body["formula"].replace("\u202f", " ") == "1 000 000 € × 50 % × 5 % ÷ 30 €/h = 833 h"


@pytest.mark.parametrize("name, value, words", [
    ("labour_share", "1.01", "entre 0 et 1"),
    ("insertion_rate", "-0.01", "entre 0 et 1"),
    ("hourly_cost", "0", "entre 0.01 et"),
    ("amount", "-1", "entre 0 et"),
    ("amount", "abc", "nombre"),
    ("labour_share", "0,5", "point décimal"),
    ("amount", "NaN", "nombre"),
])
def test_hours_out_of_range_is_a_400_naming_the_parameter(client, name, value, words):
    response = client.get(HOURS, query_string={**DOMAIN_EXAMPLE, name: value})
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == name and words in body["message"]


def test_hours_edges_are_accepted(client):
    assert client.get(HOURS, query_string={**DOMAIN_EXAMPLE, "labour_share": "1", "insertion_rate": "0"}
                      ).get_json()["hours"] == 0
    assert client.get(HOURS, query_string={**DOMAIN_EXAMPLE, "labour_share": "1", "insertion_rate": "1"}
                      ).get_json()["hours"] == 33333  # 1 000 000 / 30 = 33 333.3


def test_hours_missing_parameter_is_a_400(client):
    response = client.get(HOURS, query_string={"amount": "1000"})
    assert response.status_code == 400 and response.get_json()["parameter"] in DOMAIN_EXAMPLE


def check(client, **params):
    base = {"buyer_category": "local_authority", "nature": "services", "amount": "216000",
            "launch_date": "2026-08-22"}
    return client.get(CHECK, query_string={**base, **params})


def test_legal_check_at_the_threshold_and_the_day_before(client):
    at = check(client).get_json()
    assert [o["code"] for o in at["obligations"]] == ["social_consideration", "environmental_award_criterion",
                                                      "environmental_execution_condition"]
    assert [o["required"] for o in at["obligations"]] == [True, True, True]
    assert at["obligations"][0]["threshold"] == 216000 and at["obligations"][0]["applies_from"] == "2026-08-22"
    below = check(client, amount="215999.99").get_json()
    assert [o["required"] for o in below["obligations"]] == [False, True, True]
    day_before = check(client, launch_date="2026-08-21").get_json()
    assert [o["required"] for o in day_before["obligations"]] == [False, True, False]


def test_legal_check_private_and_defence(client):
    assert not any(o["required"] for o in check(client, buyer_category="private").get_json()["obligations"])
    body = check(client, defence="1").get_json()
    assert not any(o["required"] for o in body["obligations"])


def test_legal_check_procedure_warning(client):
    body = check(client, procedure="Procédure adaptée").get_json()
    assert body["procedure"]["fits"] is False and "ne correspond pas" in body["procedure"]["warning"]
    body = check(client, amount="215999.99", procedure="Procédure adaptée").get_json()
    assert body["procedure"]["fits"] is True and body["procedure"]["warning"] is None


@pytest.mark.parametrize("name, value", [("buyer_category", "ministry"), ("nature", "concession"),
                                         ("launch_date", "22/08/2026"), ("launch_date", "2026-02-30"),
                                         ("launch_date", "20260822"), ("amount", "-5"), ("defence", "maybe"),
                                         ("procedure", "Gré à gré")])
def test_legal_check_bad_parameter_is_a_400(client, name, value):
    response = check(client, **{name: value})
    assert response.status_code == 400 and response.get_json()["parameter"] == name


def test_both_are_in_the_openapi_document():
    paths = openapi_document()["paths"]
    for path, names in ((HOURS, set(DOMAIN_EXAMPLE)),
                        (CHECK, {"buyer_category", "nature", "amount", "launch_date", "defence"})):
        parameters = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert names <= parameters
    assert "private" in next(p for p in paths[CHECK]["get"]["parameters"]
                             if p["name"] == "buyer_category")["schema"]["enum"]
