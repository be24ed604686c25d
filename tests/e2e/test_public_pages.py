"""The public information pages in a real browser: reachable from the footer, accessible (axe-core), on a
computer and a phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

FOOTER_LINKS = ["Mentions légales", "Données personnelles", "Conditions d'utilisation",
                "Accessibilité : partiellement conforme", "État des services"]


@pytest.mark.parametrize("width", [1280, 375])
def test_footer_leads_to_every_public_page(page: Page, live_server, check_page, width):
    page.set_viewport_size({"width": width, "height": 900})
    for label in FOOTER_LINKS:
        page.goto("/")
        page.locator("#pied-de-page").get_by_role("link", name=label).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        check_page(page, f"{label}-{width}px")
    expect(page.locator('[data-service="database"]')).to_contain_text("opérationnel")


@pytest.mark.parametrize("width", [1280, 375])
def test_home_cards_lead_to_what_each_role_does(page: Page, live_server, check_page, width):
    """The whole card is the link (DSFR « enlarge link »); each leads to a page that exists."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/")
    check_page(page, f"accueil-{width}px")
    cards = page.locator("#ce-que-fait-le-portail .fr-card")
    expect(cards).to_have_count(4)
    cards.filter(has_text="Structures inclusives").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("consultation")
