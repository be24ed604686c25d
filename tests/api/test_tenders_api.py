"""GET /api/v1/tenders and /api/v1/tenders/<id>: public tenders only (a draft, a submitted or a cancelled tender
answers 404 exactly as an unknown id), the filters as parameters, a bad parameter named in a French 400, and
answers that validate against the OpenAPI document."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from marche.accounts.models import Organisation
from marche.api.openapi import openapi_document
from marche.clauses.calculator import insertion_hours
from marche.extensions import db
from marche.reference.models import Sector
from marche.tenders.models import LotAward, Tender, TenderRectificatif
from tests.tenders.public_tenders import NOW, add_tender, clauses, insertion

LIST, DOCUMENT = "/api/v1/tenders", openapi_document()


def validate(path: str, status: int, body) -> None:
    schema = DOCUMENT["paths"][path]["get"]["responses"][str(status)]["content"]["application/json"]["schema"]
    Draft202012Validator({"components": DOCUMENT["components"], **schema}).validate(body)


@pytest.fixture
def tenders(app):
    """A published 2-lot tender with clauses, and one tender in each other state."""
    with app.app_context():
        buyer = Organisation(name="Ville de Lille", kind="public_buyer", siret="21590350100017",
                             buyer_category="local_authority")
        db.session.add(buyer)
        db.session.commit()
        ids = {"published": add_tender(
            buyer.id, "Entretien des espaces verts des écoles", object="Tonte et taille", kind="call_for_tenders",
            nature="services", cpv_codes=["77310000-6"], place_ref="commune:59350", amount=Decimal("300000"),
            contact_name="Claire Martin", contact_email="claire@lille.example.fr",
            lots=[{"title": "Tonte", "amount": Decimal("180000"),
                   "clauses": clauses(insertion=insertion("180000", "0.7", "0.1", "28"), social_criterion=10,
                                      environmental_conditions=("waste_sorting", "free_text"),
                                      environmental_free_text="Broyage sur place", environmental_criterion=15)},
                  {"title": "Désherbage", "amount": Decimal("120000"), "place_ref": "commune:59599",
                   "clauses": clauses(reservation="both", environmental_conditions=("reuse",))}])}
        for status in ("draft", "submitted", "closed", "awarded", "unsuccessful", "cancelled"):
            ids[status] = add_tender(buyer.id, f"Consultation {status}", status=status,
                                     deadline=NOW - timedelta(days=2) if status != "draft" else None)
        tender = db.session.get(Tender, ids["awarded"])
        tender.lots[0].status = "awarded"
        tender.lots[0].award = LotAward(awarded=True, holder_siret="75187049400026", holder_name="La Collecterie",
                                        amount=Decimal("23800.50"), awarded_on=NOW.date(), offers_count=3)
        published = db.session.get(Tender, ids["published"])
        published.rectificatifs.append(TenderRectificatif(
            changes=[{"field": "answers_deadline", "label": "Date limite de réponse", "before": "01/12/2026",
                      "after": "08/12/2026"}], note="Visite ajoutée"))
        db.session.commit()
    return ids


def test_list_shows_published_tenders_with_their_lots(client, tenders):
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.get_json()
    validate("/api/v1/tenders", 200, body)
    assert (body["count"], body["page"], body["per_page"]) == (1, 1, 20)
    item = body["results"][0]
    assert item["id"] == tenders["published"] and item["status"] == "published"
    assert item["buyer_name"] == "Ville de Lille" and item["amount"] == 300000
    assert item["place"] == {"ref": "commune:59350", "label": "Lille (59)"}
    assert item["url"] == f"/consultations/{tenders['published']}"
    expected_hours = int(insertion_hours("180000", "0.7", "0.1", "28").hours)  # 180 000 × 0.7 × 0.1 ÷ 28 = 450
    assert item["lots"] == [
        {"position": 1, "title": "Tonte", "amount": 180000, "insertion_hours": expected_hours,
         "clause_types": ["insertion", "social_criterion", "environmental_condition", "environmental_criterion"]},
        {"position": 2, "title": "Désherbage", "amount": 120000, "insertion_hours": None,
         "clause_types": ["reserved", "environmental_condition"]}]
    assert expected_hours == 450


def test_status_filter_lists_the_other_public_states(client, tenders):
    body = client.get(LIST, query_string={"status": "closed,awarded,unsuccessful"}).get_json()
    assert {r["id"] for r in body["results"]} == {tenders["closed"], tenders["awarded"], tenders["unsuccessful"]}
    response = client.get(LIST, query_string={"status": "draft"})
    assert response.status_code == 400 and response.get_json()["parameter"] == "status"
    assert "published" in response.get_json()["allowed"]


@pytest.mark.parametrize("params, expected", [
    ({"q": "ESPACES verts"}, True), ({"q": "désherbage"}, True), ({"q": "piscine"}, False),
    ({"cpv": "77"}, True), ({"cpv": "77000000-0"}, True), ({"cpv": "45"}, False),
    ({"territory": "dep:59"}, True), ({"territory": "commune:59599"}, True), ({"territory": "dep:62"}, False),
    ({"kind": "call_for_tenders"}, True), ({"kind": "sourcing,quote_request"}, False),
    ({"reserved": "siae"}, True), ({"reserved": "any"}, True),
    ({"clause": "insertion"}, True), ({"clause": ["insertion_object"]}, False),
    ({"clause": ["insertion_object", "reserved"]}, True),
])
def test_filters(client, tenders, params, expected):
    body = client.get(LIST, query_string=params).get_json()
    assert ([r["id"] for r in body["results"]] == [tenders["published"]]) is expected, body


def test_deadline_after(client, tenders):
    deadline = (NOW + timedelta(days=20))
    from marche.core.dates import today

    day = today(deadline)
    assert client.get(LIST, query_string={"deadline_after": day.isoformat()}).get_json()["count"] == 1
    assert client.get(LIST, query_string={"deadline_after": (day + timedelta(days=1)).isoformat()}
                      ).get_json()["count"] == 0


def test_sector_by_slug_or_id(client, tenders, app):
    with app.app_context():
        green = db.session.execute(select(Sector).where(Sector.slug == "creation-et-entretien-des-espaces-verts")
                                   ).scalar_one()
        tender = db.session.get(Tender, tenders["published"])
        tender.sectors.append(green)
        db.session.commit()
        green_id = green.id
    for value in (green.slug, str(green_id)):
        assert client.get(LIST, query_string={"sector": value}).get_json()["count"] == 1
    assert client.get(LIST, query_string={"sector": "blanchisserie"}).get_json()["count"] == 0


@pytest.mark.parametrize("params, parameter, words", [
    ({"cpv": "7"}, "cpv", "2 à 8 chiffres"),
    ({"cpv": "77310000-5"}, "cpv", "inconnu"),  # a whole code with a wrong check digit
    ({"territory": "dep:999"}, "territory", "inconnu"),
    ({"territory": "Lille"}, "territory", "invalide"),
    ({"sector": "pas-un-secteur"}, "sector", "inconnu"),
    ({"sector": "987654"}, "sector", "inconnu"),
    ({"reserved": "tous"}, "reserved", "inconnue"),
    ({"clause": "sociale"}, "clause", "inconnue"),
    ({"kind": "marché"}, "kind", "inconnue"),
    ({"deadline_after": "2026-13-01"}, "deadline_after", "AAAA-MM-JJ"),
    ({"deadline_after": "15/01/2027"}, "deadline_after", "AAAA-MM-JJ"),
    ({"territory_mode": "around"}, "territory_mode", "inconnue"),
    ({"page": "0"}, "page", "compris entre"),
    ({"per_page": "101"}, "per_page", "compris entre"),
    ({"q": "x" * 201}, "q", "limitée"),
])
def test_bad_parameters_are_a_french_400_naming_them(client, tenders, params, parameter, words):
    response = client.get(LIST, query_string=params)
    assert response.status_code == 400, response.data
    body = response.get_json()
    validate("/api/v1/tenders", 400, body)
    assert body["parameter"] == parameter and words in body["message"], body


def test_detail_of_a_published_tender(client, tenders):
    response = client.get(f"{LIST}/{tenders['published']}")
    assert response.status_code == 200
    body = response.get_json()
    validate("/api/v1/tenders/{tender_id}", 200, body)
    assert body["object"] == "Tonte et taille" and body["contact"]["email"] == "claire@lille.example.fr"
    first, second = body["lots"]
    computed = insertion_hours("180000", "0.7", "0.1", "28")
    assert first["clauses"]["insertion"]["hours"] == int(computed.hours) == 450
    assert first["clauses"]["insertion"]["etp"] == float(computed.etp) == 0.28  # 450 ÷ 1 607
    assert first["insertion_etp"] == 0.28
    assert first["clauses"]["insertion"]["formula"] == computed.formula
    assert [m["code"] for m in first["clauses"]["insertion"]["modes"]] == ["direct_hire"]
    assert first["clauses"]["social_criterion"] == {"weight": 10, "description": "", "cost": False}
    assert [c["code"] for c in first["clauses"]["environmental_conditions"]] == ["waste_sorting", "free_text"]
    assert first["clauses"]["environmental_free_text"] == "Broyage sur place"
    assert first["place"] is None and second["place"] == {"ref": "commune:59599", "label": "Tourcoing (59)"}
    assert second["clauses"]["reservation"]["code"] == "both"
    assert second["clauses"]["reservation"]["article"] == "L2113-14"
    assert second["clauses"]["insertion"] is None and second["award"] is None
    assert body["rectificatifs"][0]["changes"][0]["after"] == "08/12/2026"


def test_detail_of_an_awarded_tender_names_the_holder(client, tenders):
    body = client.get(f"{LIST}/{tenders['awarded']}").get_json()
    validate("/api/v1/tenders/{tender_id}", 200, body)
    assert body["status"] == "awarded"
    assert body["lots"][0]["award"] == {"holder_name": "La Collecterie", "holder_siret": "75187049400026",
                                        "amount": 23800.5, "awarded_on": NOW.date().isoformat(),
                                        "offers_count": 3}


def test_hidden_tenders_answer_404_as_an_unknown_id(client, tenders):
    unknown = client.get(f"{LIST}/987654")
    assert unknown.status_code == 404
    validate("/api/v1/tenders/{tender_id}", 404, unknown.get_json())
    for status in ("draft", "submitted", "cancelled"):
        response = client.get(f"{LIST}/{tenders[status]}")
        assert response.status_code == 404
        assert response.get_json()["error"] == unknown.get_json()["error"]
        assert "Consultation" not in response.get_data(as_text=True)  # not even its title
    for status in ("closed", "awarded", "unsuccessful"):
        assert client.get(f"{LIST}/{tenders[status]}").status_code == 200
    assert client.get(f"{LIST}/{2**31}").status_code == 404  # beyond PostgreSQL's integer: no overflow
    assert client.get(f"{LIST}/{2**70}").status_code == 404


def test_endpoints_are_in_the_document():
    paths = DOCUMENT["paths"]
    parameters = {p["name"] for p in paths["/api/v1/tenders"]["get"]["parameters"]}
    assert parameters == {"q", "cpv", "sector", "territory", "territory_mode", "kind", "reserved", "clause",
                          "deadline_after", "status", "sort", "page", "per_page"}
    assert "404" in paths["/api/v1/tenders/{tender_id}"]["get"]["responses"]
