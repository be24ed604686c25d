"""The search page: bad parameters get a French message (never a 500); an outage shows a banner."""
from marche import create_app
from tests.conftest import page_text


def test_unknown_filter_value_is_explained_in_french(client):
    response = client.get("/structures?kind=XYZ")
    assert response.status_code == 400
    text = page_text(response)
    assert "Valeur inconnue pour « kind » : XYZ" in text and "ESAT" in text


def test_very_long_query_is_refused_clearly(client):
    response = client.get("/structures?q=" + "a" * 10000)
    assert response.status_code == 400
    assert "limitée à 200 caractères" in page_text(response)


def test_control_characters_are_refused(client):
    response = client.get("/structures?q=abc%00def")
    assert response.status_code == 400
    assert "caractères non autorisés" in page_text(response)


def test_meilisearch_down_shows_the_banner_and_still_answers(app_config):
    app = create_app({**app_config, "MEILI_URL": "http://127.0.0.1:1"})
    response = app.test_client().get("/structures?territory=dep:59&territory_mode=located")
    assert response.status_code == 200
    text = page_text(response)
    assert "Le moteur de recherche est momentanément indisponible" in text
    assert "structure" in text
