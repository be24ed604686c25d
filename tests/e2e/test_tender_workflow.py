"""The tender workflow in a browser: the buyer sends a 2-lot tender for validation, the Nord facilitator finds it in
its queue and validates it, the buyer publishes; once the deadline has passed, the buyer awards lot 1 to a
structure of the directory (after a refused invalid SIRET) and declares lot 2 unsuccessful. Desktop and phone
screenshots, axe on each page."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from marche.core.models import utcnow
from marche.extensions import db
from marche.tenders.models import Tender, TenderStatus
from tests.e2e.test_journey import flash, log_in, log_out, nav_link
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)
from tests.tenders.factories import complete_clauses, make_facilitator, make_tender, organisation_of

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


def both_sizes(page: Page, check_page, name: str) -> None:
    page.set_viewport_size(PHONE)
    check_page(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)
    check_page(page, f"{name}-1280")


def test_submit_validate_publish_award(page: Page, app, make_user, make_structure, check_page):  # noqa: F811
    buyer = make_user("acheteur@lille.example.fr", name="Ville de Lille")
    make_structure(siret="75187049400026", name="La Collecterie")
    with app.app_context():
        make_facilitator(make_user, "plie@nord.example.fr", ["dep:59"], name="PLIE Lille Avenir")
        tender_id = make_tender(organisation_of(buyer), lots=[complete_clauses("200000"), complete_clauses("100000")],
                                title="Entretien des espaces verts des écoles")
    page.set_viewport_size(DESKTOP)

    log_in(page, "acheteur@lille.example.fr")
    page.goto(f"/consultations/{tender_id}/suivi")
    expect(page.get_by_role("heading", name="Suivi de la consultation")).to_be_visible()
    both_sizes(page, check_page, "brouillon")
    page.get_by_role("button", name="Envoyer pour validation").click()
    expect(flash(page).first).to_contain_text("Consultation envoyée pour validation")
    log_out(page)

    log_in(page, "plie@nord.example.fr")
    nav_link(page, "Consultations à valider").click()
    both_sizes(page, check_page, "file-a-valider")
    page.get_by_role("link", name="Entretien des espaces verts des écoles").click()
    page.get_by_label("Commentaire pour l'acheteur (facultatif)").fill("Clauses claires, bonne consultation.")
    both_sizes(page, check_page, "a-valider")
    page.get_by_role("button", name="Valider la consultation").click()
    expect(flash(page).first).to_contain_text("Consultation validée")
    log_out(page)

    log_in(page, "acheteur@lille.example.fr")
    page.goto(f"/consultations/{tender_id}/suivi")
    expect(page.get_by_text("Clauses claires, bonne consultation.")).to_be_visible()
    page.get_by_role("button", name="Publier la consultation").click()
    expect(flash(page).first).to_contain_text("Consultation publiée.")
    with app.app_context():  # the answers deadline passes
        tender = db.session.get(Tender, tender_id)
        tender.questions_deadline, tender.answers_deadline = utcnow() - timedelta(days=2), utcnow() - timedelta(minutes=1)
        db.session.commit()
    page.goto(f"/consultations/{tender_id}/suivi")
    both_sizes(page, check_page, "cloturee")
    page.get_by_role("link", name="Attribuer ou déclarer infructueux le lot 1").click()
    page.get_by_label("Chercher le titulaire dans l'annuaire (nom ou SIRET)").fill("collecterie")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_label("La Collecterie").check(force=True)  # DSFR draws the radio on its label
    page.get_by_label("Montant attribué (€ HT)").fill("abc")
    page.get_by_label("Date d'attribution").fill("2026-11-02")
    page.get_by_label("Nombre d'offres reçues").first.fill("4")
    page.get_by_role("button", name="Enregistrer l'attribution").click()
    expect(page.get_by_text("Montant attribué : un nombre en euros HT")).to_be_visible()
    both_sizes(page, check_page, "attribution-erreur")
    expect(page.get_by_label("La Collecterie")).to_be_checked()  # the choice is kept
    page.get_by_label("Montant attribué (€ HT)").fill("185000")
    page.get_by_role("button", name="Enregistrer l'attribution").click()
    expect(flash(page).first).to_contain_text("Lot 1 attribué à La Collecterie")
    page.get_by_role("link", name="Attribuer ou déclarer infructueux le lot 2").click()
    page.get_by_label("Motif").fill("Aucune offre reçue.")
    page.get_by_role("button", name="Déclarer infructueux").click()
    expect(page.get_by_text("la consultation est « Attribuée »")).to_be_visible()
    both_sizes(page, check_page, "attribuee")
    with app.app_context():
        assert db.session.get(Tender, tender_id).status == TenderStatus.AWARDED
