"""The workflow pages through HTTP: panel, moves, queue, award page; hidden tenders answer 404, refusals are
French and keep the input."""
from __future__ import annotations

from datetime import timedelta

import pytest

from marche.accounts.models import OrganisationKind
from marche.clauses import rules
from marche.core.models import utcnow
from marche.extensions import db
from marche.tenders.models import LotStatus, Tender, TenderStatus as S
from tests.conftest import VALID_SIRETS, csrf_token, login, page_text
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)

from .factories import make_facilitator, make_tender, no_environment_clauses, organisation_of


@pytest.fixture
def world(app, make_user):
    with app.app_context():
        ids = {"buyer": make_user("acheteur@lille.example.fr", name="Ville de Lille"),
               "other_buyer": make_user("acheteur@roubaix.example.fr", name="Ville de Roubaix"),
               "nord": make_facilitator(make_user, "plie@nord.example.fr", ["dep:59"], name="PLIE Nord"),
               "rhone": make_facilitator(make_user, "plie@rhone.example.fr", ["dep:69"], name="PLIE Rhône")}
        ids["org"] = organisation_of(ids["buyer"])
    return ids


def status_of(app, tender_id: int) -> str:
    with app.app_context():
        return db.session.get(Tender, tender_id).status


def post(client, url: str, page: str, data: dict | None = None):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def test_the_whole_workflow_through_the_pages(app, client, world):
    with app.app_context():
        tender_id = make_tender(world["org"])
    page = f"/consultations/{tender_id}/suivi"
    login(client, "acheteur@lille.example.fr")
    html = page_text(client.get(page))
    assert "Envoyer pour validation" in html and "Brouillon" in html and "PLIE Nord" in html  # assist candidate
    response = post(client, f"/consultations/{tender_id}/soumettre", page)
    assert response.status_code == 302 and status_of(app, tender_id) == S.SUBMITTED
    assert "Publier" not in page_text(client.get(page))  # not validated yet
    client.post("/deconnexion", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})

    # the Rhône facilitator sees neither the queue entry nor the tender
    login(client, "plie@rhone.example.fr")
    assert "Entretien des espaces verts" not in page_text(client.get("/consultations/a-valider"))
    assert client.get(page).status_code == 404
    token = csrf_token(client.get("/consultations/a-valider").get_data(as_text=True))
    assert client.post(f"/consultations/{tender_id}/valider", data={"csrf_token": token}).status_code == 404
    client.post("/deconnexion", data={"csrf_token": token})

    login(client, "plie@nord.example.fr")
    assert "Entretien des espaces verts" in page_text(client.get("/consultations/a-valider"))
    response = post(client, f"/consultations/{tender_id}/valider", page, {"note": "Très clair."})
    assert response.status_code == 302 and status_of(app, tender_id) == S.SUBMITTED
    assert "Très clair." in page_text(client.get(page))
    token = csrf_token(client.get(page).get_data(as_text=True))
    client.post("/deconnexion", data={"csrf_token": token})

    login(client, "acheteur@lille.example.fr")
    response = post(client, f"/consultations/{tender_id}/publier", page)
    assert response.status_code == 302 and status_of(app, tender_id) == S.PUBLISHED


def test_submit_with_a_missing_legal_line_is_refused_with_its_article(app, client, world):
    with app.app_context():
        tender_id = make_tender(world["org"], lots=[no_environment_clauses()])
    page = f"/consultations/{tender_id}/suivi"
    login(client, "acheteur@lille.example.fr")
    assert rules.ENVIRONMENTAL_AWARD_CRITERION.article in page_text(client.get(page))  # shown before trying
    response = post(client, f"/consultations/{tender_id}/soumettre", page)
    assert response.status_code == 302
    html = page_text(client.get(response.headers["Location"]))
    assert "Envoi pour validation impossible" in html
    assert f"{rules.ENVIRONMENTAL_EXECUTION_CONDITION.label} ({rules.ENVIRONMENTAL_EXECUTION_CONDITION.article})" in html
    assert status_of(app, tender_id) == S.DRAFT


def test_send_back_without_comment_shows_the_error_beside_the_field(app, client, world):
    with app.app_context():
        tender_id = make_tender(world["org"], status=S.SUBMITTED)
    page = f"/consultations/{tender_id}/suivi"
    login(client, "plie@nord.example.fr")
    response = post(client, f"/consultations/{tender_id}/renvoyer", page, {"comment": " "})
    assert response.status_code == 400
    assert "Ce qu'il faut changer : ce champ est obligatoire." in page_text(response)
    assert status_of(app, tender_id) == S.SUBMITTED
    response = post(client, f"/consultations/{tender_id}/renvoyer", page, {"comment": "Précisez les publics."})
    assert response.status_code == 302 and status_of(app, tender_id) == S.DRAFT
    # a draft again: the validator no longer sees it (it did not assist)
    assert client.get(page).status_code == 404


def test_another_organisations_tender_is_hidden(app, client, world):
    with app.app_context():
        draft = make_tender(world["org"])
        submitted = make_tender(world["org"], status=S.SUBMITTED)
    login(client, "acheteur@roubaix.example.fr")
    token = csrf_token(client.get("/").get_data(as_text=True))
    for tender_id in (draft, submitted, 987654321):
        assert client.get(f"/consultations/{tender_id}/suivi").status_code == 404
        for path in ("soumettre", "publier", "annuler", "commentaires", "assistance", "valider", "renvoyer"):
            assert client.post(f"/consultations/{tender_id}/{path}", data={"csrf_token": token}).status_code == 404
    assert client.get("/consultations/a-valider").status_code == 404  # a buyer has no queue


def test_a_move_without_csrf_token_is_refused(app, client, world):
    with app.app_context():
        tender_id = make_tender(world["org"])
    login(client, "acheteur@lille.example.fr")
    assert client.post(f"/consultations/{tender_id}/soumettre").status_code == 400
    assert status_of(app, tender_id) == S.DRAFT


def test_reading_a_published_tender_past_its_deadline_closes_it(app, client, world):
    with app.app_context():
        tender_id = make_tender(world["org"], status=S.PUBLISHED, answers_deadline=utcnow() - timedelta(seconds=1))
    login(client, "acheteur@lille.example.fr")
    html = page_text(client.get(f"/consultations/{tender_id}/suivi"))
    assert status_of(app, tender_id) == S.CLOSED
    assert "Attribuer ou déclarer infructueux" in html


def test_the_award_page_keeps_the_input_and_names_the_field(app, client, world):
    with app.app_context():
        tender_id = make_tender(world["org"], status=S.CLOSED)
        lot_id = db.session.get(Tender, tender_id).lots[0].id
    url = f"/consultations/{tender_id}/lots/{lot_id}/attribution"
    login(client, "acheteur@lille.example.fr")
    form = {"outcome": "awarded", "attribution-siret": "21590350000000", "attribution-holder_name": "Verts du Nord",
            "attribution-amount": "125000", "attribution-awarded_on": "2026-11-02", "attribution-offers_count": "4"}
    response = post(client, url, url, form)
    assert response.status_code == 400
    html = page_text(response)
    assert "SIRET invalide" in html and 'value="125000"' in html and 'value="Verts du Nord"' in html
    response = post(client, url, url, {**form, "attribution-amount": "0", "attribution-siret": VALID_SIRETS[48]})
    assert response.status_code == 400 and "supérieur à 0" in page_text(response)
    response = post(client, url, url, {**form, "attribution-siret": VALID_SIRETS[48]})
    assert response.status_code == 302
    with app.app_context():
        tender = db.session.get(Tender, tender_id)
        assert tender.lots[0].status == LotStatus.AWARDED and tender.status == S.AWARDED


def test_the_award_page_finds_holders_in_the_directory_and_refuses_a_draft(app, client, world, make_structure):
    structure_id = make_structure(siret="75187049400026", name="La Collecterie")
    with app.app_context():
        tender_id = make_tender(world["org"])
        lot_id = db.session.get(Tender, tender_id).lots[0].id
    url = f"/consultations/{tender_id}/lots/{lot_id}/attribution"
    login(client, "acheteur@lille.example.fr")
    html = page_text(client.get(url + "?q=collecterie"))
    assert "s'attribue une fois la consultation clôturée" in html and "La Collecterie" not in html  # no form
    with app.app_context():
        db.session.get(Tender, tender_id).status = S.CLOSED
        db.session.commit()
    html = page_text(client.get(url + "?q=collecterie"))
    assert f'value="{structure_id}"' in html and "La Collecterie" in html
    response = post(client, url, url, {"outcome": "unsuccessful", "infructueux-reason": "",
                                       "infructueux-offers_count": "0"})
    assert response.status_code == 400 and "Motif : indiquez pourquoi" in page_text(response)
    assert client.get(f"/consultations/{tender_id}/lots/987654321/attribution").status_code == 404


def test_a_facilitator_asked_to_assist_reads_and_comments_the_draft(app, client, world):
    with app.app_context():
        tender_id = make_tender(world["org"])
        nord_org, rhone_org = organisation_of(world["nord"]), organisation_of(world["rhone"])
    page = f"/consultations/{tender_id}/suivi"
    login(client, "acheteur@lille.example.fr")
    assert post(client, f"/consultations/{tender_id}/assistance", page,
                {"organisation": str(rhone_org)}).status_code == 400
    assert post(client, f"/consultations/{tender_id}/assistance", page,
                {"organisation": str(nord_org)}).status_code == 302
    client.post("/deconnexion", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    login(client, "plie@nord.example.fr")
    assert "Accompagnements demandés (1)" in page_text(client.get("/consultations/a-valider"))
    response = post(client, f"/consultations/{tender_id}/commentaires", page, {"body": "Ajoutez un critère social."})
    assert response.status_code == 302
    html = page_text(client.get(page))
    assert "Ajoutez un critère social." in html and "Valider la consultation" not in html  # a draft: nothing to validate
