"""The drafting pages in Chromium, on a computer and a phone (axe and the CSP guard on each page): a public buyer
creates a tender, splits it in two lots, sizes the insertion clause of lot 1 and watches the checklist beside the
builder turn green as it types (htmx), then reads the annex and « Mes consultations »."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (base_url, browser_guard, browser_type_launch_args, check_page,  # noqa: F401
                                live_server)
from tests.e2e.test_journey import log_in

from .drafting_fixtures import NOW

BUYER = "acheteuse@ville.example.fr"
SIZES = [pytest.param((1280, 900), id="ordinateur"), pytest.param((390, 844), id="telephone")]


def tick(page: Page, field_id: str) -> None:
    """DSFR draws a checkbox on its label (the input itself is covered): click the label, as a person does."""
    page.locator(f"label[for='{field_id}']").click()


@pytest.mark.parametrize("size", SIZES)
def test_a_buyer_drafts_a_two_lot_tender_and_the_checklist_turns_green(page: Page, make_user, check_page, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    make_user(BUYER, name="Ville de Roubaix")
    log_in(page, BUYER)
    page.goto("/consultations/nouvelle")
    page.get_by_label("Intitulé de la consultation").fill("Entretien des espaces verts des écoles")
    page.get_by_label("Objet").fill("Écoles de Roubaix, 3 ans")
    # the CPV field searches the catalogue as one types (tom-select over /api/v1/cpv)
    page.get_by_role("combobox", name="Codes CPV").press_sequentially("entretien d'espaces verts", delay=20)
    page.get_by_role("option", name="77310000-6 — Réalisation et entretien d'espaces verts").click()
    page.keyboard.press("Escape")
    page.get_by_label("Montant estimé (€ HT)").fill("1 000 000")
    page.get_by_label("Date limite de réponse").fill((NOW + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"))
    check_page(page, "nouvelle consultation")
    page.get_by_role("button", name="Créer la consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Entretien des espaces verts des écoles")
    expect(page.get_by_text("77310000-6", exact=True)).to_be_visible()
    check_page(page, "consultation brouillon")

    page.get_by_role("link", name="Lots (découper)").click()
    page.get_by_label("Intitulé du lot").fill("Élagage")
    page.get_by_label("Montant estimé du lot (€ HT)").fill("300 000")
    page.get_by_role("button", name="Ajouter le lot").click()
    expect(page.get_by_role("cell", name="2. Élagage")).to_be_visible()
    check_page(page, "lots")

    page.get_by_role("link", name="Clauses du lot 1").click()
    checklist = page.locator("#verification")
    expect(checklist.get_by_text("Manquante", exact=True)).to_have_count(3)
    tick(page, "insertion")
    page.get_by_label("Montant servant au calcul (€ HT)").fill("700000")
    tick(page, "modes-0")
    tick(page, "publics-0")
    # no sector chosen: those of the CPV code (green spaces), a labour-intensive family (clauses/rules.py):
    # 700 000 × 70 % × 10 % ÷ 28 €/h = 1 750 h
    expect(checklist).to_contain_text("700\u202f000 € × 70 % × 10 % ÷ 28 €/h = 1\u202f750 h")
    tick(page, "environmental_conditions-0")
    tick(page, "environmental_criterion")
    page.get_by_label("Pondération du critère environnemental (%)").fill("20")
    page.get_by_label("Pondération du critère environnemental (%)").blur()
    expect(checklist.get_by_text("Respectée", exact=True)).to_have_count(3)
    expect(checklist).to_contain_text("Encore manquante : Élagage.")
    check_page(page, "clauses du lot 1, liste verte")
    page.get_by_role("button", name="Enregistrer les clauses").click()
    expect(page.get_by_text("1\u202f750 heures")).to_be_visible()

    page.get_by_role("link", name="Annexe des clauses (texte)").click()
    expect(page.get_by_label("Texte de l'annexe")).to_contain_text("1\u202f750 heures")
    check_page(page, "annexe")
    page.goto("/consultations/mes-consultations")
    expect(page.get_by_role("link", name="Entretien des espaces verts des écoles")).to_be_visible()
    check_page(page, "mes consultations")


@pytest.mark.parametrize("size", SIZES)
def test_a_published_tender_reads_the_same_for_anyone_with_its_rectificatif(page: Page, app, make_user, check_page,
                                                                           size):
    import io

    from werkzeug.datastructures import FileStorage

    from marche.extensions import db
    from marche.tenders import drafting
    from marche.tenders.models import TenderStatus

    from .drafting_fixtures import FULL_CLAUSES, new_tender, tender_input, user

    page.set_viewport_size({"width": size[0], "height": size[1]})
    make_user(BUYER, name="Ville de Roubaix")
    with app.test_request_context():
        buyer = user(BUYER)
        tender = new_tender(buyer)
        drafting.set_lot_clauses(buyer, tender.lots[0], FULL_CLAUSES)
        drafting.add_attachment(buyer, tender, FileStorage(io.BytesIO(b"%PDF-1.7\n%%EOF\n"),
                                                           filename="Règlement de la consultation.pdf"))
        tender.status, tender.published_at = TenderStatus.PUBLISHED, NOW
        later = (NOW + timedelta(days=45)).replace(tzinfo=None)
        drafting.update_tender(buyer, tender, tender_input(answers_deadline=later), note="Report à la demande des candidats")
        db.session.commit()
        tender_id = tender.id
    page.goto(f"/consultations/{tender_id}")
    expect(page.get_by_role("heading", name="Rectificatifs")).to_be_visible()
    expect(page.get_by_text("Report à la demande des candidats")).to_be_visible()
    expect(page.get_by_role("link", name="Règlement de la consultation.pdf")).to_be_visible()
    expect(page.get_by_text("833 heures")).to_be_visible()
    expect(page.get_by_role("link", name="Modifier la consultation")).to_have_count(0)
    check_page(page, "consultation publiée, visiteur")
