"""French error pages."""
from marche import create_app


def test_404_is_french(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_post_without_csrf_gives_french_400(client):
    response = client.post("/connexion", data={"email": "a@b.fr", "password": "x"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "jeton de sécurité" in body and "<html lang=\"fr\"" in body


def test_api_errors_are_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"] == "Page introuvable"


def test_405_is_french(client):
    response = client.get("/deconnexion")
    assert response.status_code == 405
    assert "Méthode non autorisée" in response.get_data(as_text=True)


def test_500_is_french(app_config):
    app = create_app({**app_config, "TESTING": False})

    @app.get("/__boom")
    def boom():  # a route that fails, to see the page a user gets
        raise RuntimeError("boom")

    response = app.test_client().get("/__boom")
    assert response.status_code == 500
    assert "Erreur inattendue" in response.get_data(as_text=True)
