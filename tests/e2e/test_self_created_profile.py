"""In Chromium, desktop and phone: a structure creates the profile the lists lack (a mistyped SIRET kept
and explained first), the Nord's facilitator publishes it, the structure is mailed. Axe clean."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from marche.extensions import db
from tests.conftest import VALID_SIRETS
from tests.e2e.test_journey import log_in, nav_link

PASSWORD = "Demo-marche-2026"
SIRET = VALID_SIRETS[47]


@pytest.fixture
def demo(app):
    from marche.demo import create_demo

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        create_demo()
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_create_a_profile_then_the_facilitator_publishes_it(page: Page, demo, mailbox, check_page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, "structure@demo.marche.local", PASSWORD)
    page.goto("/structures/creer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer la fiche de ma structure")
    check_page(page, f"creer-{width}px")
    page.get_by_label("SIRET de la structure").fill("123 456 78A")
    page.get_by_label("Raison sociale").fill("Atelier Adapté du Nord")
    page.get_by_text("EA — Entreprise adaptée", exact=True).click()
    page.get_by_label("Code postal").fill("59100")
    page.get_by_label("Commune").fill("Roubaix")
    page.get_by_role("button", name="Créer la fiche").click()
    expect(page.get_by_text("« 123 456 78A » n'est pas un SIRET : 14 chiffres attendus.")).to_be_visible()
    expect(page.get_by_label("Raison sociale")).to_have_value("Atelier Adapté du Nord")  # kept
    check_page(page, f"creer-erreur-{width}px")
    page.get_by_label("SIRET de la structure").fill(SIRET)
    page.get_by_role("button", name="Créer la fiche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Atelier Adapté du Nord")
    expect(page.get_by_text("En attente de vérification", exact=True)).to_be_visible()
    check_page(page, f"fiche-en-attente-{width}px")
    page.context.clear_cookies()

    log_in(page, "facilitateur@demo.marche.local", PASSWORD)
    if width < 1000:
        page.get_by_role("button", name="Menu").click()
    nav_link(page, "Fiches à vérifier").click()
    expect(page.get_by_role("link", name="Atelier Adapté du Nord")).to_be_visible()
    check_page(page, f"a-verifier-{width}px")
    page.get_by_role("button", name="Publier la fiche Atelier Adapté du Nord").click()
    expect(page.get_by_text("Fiche publiée : elle entre dans l'annuaire.")).to_be_visible()
    assert "est vérifiée et publiée" in mailbox.body(mailbox.last_to("structure@demo.marche.local"))
    page.context.clear_cookies()
    page.goto(f"/structures/{SIRET}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Atelier Adapté du Nord")
