"""GET /api/v1/need and the /besoin page with its htmx partial: answers for good, empty, bad and
over-long texts (400 or empty, never a 500), in the OpenAPI document."""
from __future__ import annotations

import pytest

from marche.search.need import MAX_LENGTH


@pytest.fixture
def web(catalogue_index):
    return catalogue_index.test_client()


def test_the_need_answers_codes_sectors_place_and_duration(web):
    response = web.get("/api/v1/need", query_string={"q": "entretien des espaces verts des écoles de Roubaix, 3 ans"})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"cpv", "sectors", "place", "duration_months", "backend"}
    assert body["cpv"][0]["code"] == "77310000-6" and body["cpv"][0]["nature"] == "services"
    assert body["place"] == {"ref": "commune:59512", "label": body["place"]["label"]}
    assert "Roubaix" in body["place"]["label"]
    assert body["duration_months"] == 36 and body["backend"] == "meili"
    assert all(set(sector) == {"id", "slug", "name", "group"} for sector in body["sectors"])


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "   "}])
def test_an_empty_text_is_an_empty_answer(web, query):
    response = web.get("/api/v1/need", query_string=query)
    assert response.status_code == 200
    assert response.get_json() == {"cpv": [], "sectors": [], "place": None, "duration_months": None,
                                   "backend": "meili"}


@pytest.mark.parametrize("query, parameter", [
    ({"q": "x" * (MAX_LENGTH + 1)}, "q"), ({"q": "nettoyage\x00"}, "q"), ({"q": ["a", "b"]}, "q")])
def test_a_bad_text_is_a_400_naming_it(web, query, parameter):
    response = web.get("/api/v1/need", query_string=query)
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


def test_a_text_of_the_longest_length_answers(web):
    assert web.get("/api/v1/need", query_string={"q": "nettoyage " * (MAX_LENGTH // 10)}).status_code == 200


def test_the_route_is_in_the_openapi_document(web):
    document = web.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/need"]["get"]
    assert operation["operationId"] == "suggestNeed"
    assert [p["name"] for p in operation["parameters"]] == ["q"]


def test_the_page_has_the_labelled_box_and_its_htmx_trigger(web):
    page = web.get("/besoin").get_data(as_text=True)
    assert '<label class="fr-label" for="besoin-texte">Décrivez votre besoin' in page
    assert 'hx-trigger="input changed delay:250ms' in page
    assert 'hx-get="/besoin/suggestions"' in page
    assert "js/need.js" in page and "<script>" not in page


def test_the_page_without_javascript_shows_the_suggestions(web):
    page = web.get("/besoin", query_string={"q": "netoyage de bureaux Lille"}).get_data(as_text=True)
    assert 'data-need-value="90919200-4"' in page
    assert 'data-need-value="commune:59350"' in page


def test_the_partial_lists_buttons_and_escapes_the_text(web):
    response = web.get("/besoin/suggestions", query_string={"q": "traiteur <script>alert(1)</script>", "box": "b"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<script>" not in html
    assert 'data-need-kind="cpv" data-need-value="55520000-1"' in html
    assert 'data-need-kind="sector"' in html


@pytest.mark.parametrize("text", ["", "zzzzqqqq", "x" * 5000])
def test_the_partial_never_fails(web, text):
    response = web.get("/besoin/suggestions", query_string={"q": text})
    assert response.status_code == 200


def test_meilisearch_down_the_suggestions_come_from_sql_and_say_so(app_config, catalogue_index):
    from marche import create_app

    down = create_app({**app_config, "MEILI_URL": "http://127.0.0.1:1"}).test_client()
    body = down.get("/api/v1/need", query_string={"q": "traiteur"}).get_json()
    assert body["backend"] == "sql" and body["cpv"][0]["code"] == "55520000-1"
    html = down.get("/besoin/suggestions", query_string={"q": "traiteur"}).get_data(as_text=True)
    assert "momentanément indisponible" in html and 'data-need-value="55520000-1"' in html


def test_the_box_id_given_to_the_partial_is_only_letters_digits_and_dashes(web):
    html = web.get("/besoin/suggestions", query_string={"q": "traiteur", "box": '"><b>x</b>é-1'}).get_data(as_text=True)
    assert 'id="bxb-1-cpv-titre"' in html and "<b>" not in html
