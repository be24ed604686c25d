"""The pages a public site owes: reachable by anyone from every page's footer, true to the configuration
and to the code (durations are read from the settings the code uses), and a status page in words."""
from __future__ import annotations

import re

import pytest

from marche import create_app
from marche.accounts.services import LOGIN_FAILURE_RETENTION
from tests.conftest import page_text

PAGES = {
    "/mentions-legales": "Mentions légales",
    "/donnees-personnelles": "Données personnelles",
    "/conditions-d-utilisation": "Conditions d'utilisation",
    "/accessibilite": "Déclaration d'accessibilité",
    "/etat-des-services": "État des services",
}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_public_and_linked_from_the_footer(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert re.search(rf"<h1>{re.escape(PAGES[path])}</h1>", response.get_data(as_text=True).replace("&#39;", "'"))
    footer = client.get("/").get_data(as_text=True).split('id="pied-de-page"')[1]
    assert f'href="{path}"' in footer


def test_signup_links_the_terms_and_the_data_page(client):
    html = client.get("/inscription").get_data(as_text=True)
    assert 'href="/conditions-d-utilisation"' in html and 'href="/donnees-personnelles"' in html


def test_operator_comes_from_the_configuration(app_config):
    operator = {"OPERATOR_NAME": "Conseil départemental du Nord", "OPERATOR_DPO": "dpo@lenord.example",
                "OPERATOR_HOST": "Hébergeur Exemple, 59000 Lille"}
    client = create_app({**app_config, **operator}).test_client()
    legal = page_text(client.get("/mentions-legales"))
    assert "Conseil départemental du Nord" in legal and "Hébergeur Exemple, 59000 Lille" in legal
    assert "dpo@lenord.example" in page_text(client.get("/donnees-personnelles"))
    # what the operator did not set is said so, never invented
    assert re.search(r"publication</h2>\s*<p>non renseigné</p>", legal)


def test_an_unset_operator_reads_not_filled_in(client):
    assert page_text(client.get("/mentions-legales")).count("non renseigné") >= 4


def test_data_page_states_the_durations_the_code_uses(client, app):
    text = page_text(client.get("/donnees-personnelles"))
    minutes = int(LOGIN_FAILURE_RETENTION.total_seconds()) // 60
    assert f"{minutes} minutes" in text
    assert f"valables {app.config['TOKEN_MAX_AGE'] // 3600} h, {app.config['RESET_TOKEN_MAX_AGE'] // 3600} h" in text
    assert f"{app.config['INVITATION_MAX_AGE'] // 86400} jours" in text


def test_status_page_says_each_service_in_words(client):
    html = client.get("/etat-des-services").get_data(as_text=True)
    rows = dict(re.findall(r'data-service="(\w+)">.*?fr-badge[^>]*>([^<]+)<', html, re.S))
    assert rows == {"database": "opérationnel", "search": "opérationnel", "queue": "sans file (traitements immédiats)"}


def test_status_page_shows_a_service_down(app_config):
    client = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"}).test_client()
    html = client.get("/etat-des-services").get_data(as_text=True)
    rows = dict(re.findall(r'data-service="(\w+)">.*?fr-badge[^>]*>([^<]+)<', html, re.S))
    assert rows["queue"] == "indisponible" and rows["database"] == "opérationnel"


def test_status_page_answers_503_when_the_database_is_down(app_config):
    client = create_app({**app_config, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}).test_client()
    response = client.get("/etat-des-services")
    assert response.status_code == 503
    assert "indisponible" in response.get_data(as_text=True)


def test_home_promises_only_what_exists(client):
    """Each role's card leads to a page that answers (no « bientôt »: tenders, groupings and hours have landed)."""
    html = client.get("/").get_data(as_text=True)
    cards = html.split('id="ce-que-fait-le-portail"', 1)[1].split("</main>", 1)[0]
    links = re.findall(r'<h2 class="fr-card__title[^"]*"><a href="([^"]+)"', cards)
    assert len(links) == 4
    for link in links:
        assert client.get(link).status_code == 200, link
    assert "Bientôt" not in page_text(client.get("/"))


