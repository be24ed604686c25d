"""The structure side in Chromium (axe and the CSP guard on each page): a structure member opens a published
tender the relay proposed, reads why, declares interest, asks the buyer a question, declares its offer, then
finds the tender on its dashboard; the buyer sees the offer and answers the question, and a visitor reads the
answer without the structure's name."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from marche.extensions import db
from marche.tenders.models import Tender, TenderNotification, TenderStatus
from tests.e2e.conftest import (base_url, browser_guard, browser_type_launch_args, check_page,  # noqa: F401
                                live_server)
from tests.e2e.test_journey import log_in

from .answers_world import BUYER, INSERTION, people  # noqa: F401 (fixture)
from .factories import make_tender

QUESTION = "Les tontes du mois d'août sont-elles comprises ?"
ANSWER = "Oui, une tonte par quinzaine."


def test_a_structure_declares_interest_and_asks_a_question(page: Page, app, people, check_page):
    with app.app_context():
        tender_id = make_tender(people["org"], status=TenderStatus.PUBLISHED, title="Tonte des parcs de Lille")
        lot_id = db.session.get(Tender, tender_id).lots[0].id
        db.session.add(TenderNotification(tender_id=tender_id, structure_id=people["aci"], lot_ids=[lot_id],
                                          reasons={str(lot_id): ["Secteur : Espaces verts"]}))
        db.session.commit()
    log_in(page, INSERTION)
    page.goto(f"/consultations/{tender_id}")
    answer = page.locator("#reponse")
    expect(answer).to_contain_text("Vous répondez pour Les Jardins Solidaires")
    expect(answer).to_contain_text("Secteur : Espaces verts")
    check_page(page, "consultation, côté structure")
    answer.get_by_role("button", name="Nous sommes intéressés").click()
    expect(page.get_by_text("Intérêt enregistré")).to_be_visible()
    expect(page.locator("#reponse")).to_contain_text("Intéressés depuis")
    check_page(page, "intérêt déclaré")

    page.get_by_label("Votre question à l'acheteur").fill(QUESTION)
    page.get_by_role("button", name="Poser la question").click()
    expect(page.get_by_text("Question envoyée à l'acheteur")).to_be_visible()
    expect(page.locator("#questions")).to_contain_text(QUESTION)
    check_page(page, "question posée")

    page.locator("#reponse").get_by_role("button", name="J'ai déposé une offre").click()
    expect(page.get_by_text("Offre déclarée : l'acheteur voit")).to_be_visible()
    check_page(page, "offre déclarée")

    page.get_by_role("link", name="Mes consultations à suivre").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes consultations à suivre")
    expect(page.get_by_role("link", name="Tonte des parcs de Lille").first).to_be_visible()
    check_page(page, "tableau de bord de la structure")

    page.context.clear_cookies()
    log_in(page, BUYER)
    page.goto(f"/consultations/{tender_id}")
    questions = page.locator("#questions")
    expect(questions).to_contain_text("Les Jardins Solidaires")
    expect(page.locator("#reponses-recues")).to_contain_text("Offre déposée sur le profil d'acheteur")
    questions.get_by_label("Réponse (publiée pour tous, sans le nom de la structure)").fill(ANSWER)
    questions.get_by_role("button", name="Publier la réponse").click()
    expect(page.get_by_text("Réponse publiée : tous ceux")).to_be_visible()
    check_page(page, "question répondue, côté acheteur")

    page.context.clear_cookies()
    page.goto(f"/consultations/{tender_id}")
    questions = page.locator("#questions")
    expect(questions).to_contain_text(ANSWER)
    expect(questions).not_to_contain_text("Jardins Solidaires")
    check_page(page, "question publiée, visiteur")
