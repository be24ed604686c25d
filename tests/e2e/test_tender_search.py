"""The tender search and the watch in Chromium, on a computer and a phone (axe on each page): filter the open
tenders, look at the department map, save the search, change its frequency, see it among « Veille »."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from marche.accounts.models import OrganisationKind
from marche.extensions import db, limiter
from marche.search.indexer import wait_for_pending
from tests.e2e.test_journey import log_in
from tests.tenders.tender_search_data import build_tenders

MEMBER = "veille.navigateur@example.fr"
SIZES = [pytest.param((1280, 900), id="ordinateur"), pytest.param((390, 844), id="telephone")]


@pytest.fixture
def tenders(app, make_user):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        build_tenders()
        wait_for_pending()
        db.session.remove()
    make_user(MEMBER, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Atelier du navigateur")
    limiter.reset()
    yield
    from tests.conftest import truncate_tables

    truncate_tables(app)


@pytest.mark.parametrize("size", SIZES)
def test_search_map_save_and_watch(page: Page, tenders, check_page, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    log_in(page, MEMBER)
    page.goto("/consultations/recherche?reserved=siae")
    expect(page.get_by_role("status").first).to_contain_text("2 consultations ouvertes")
    expect(page.get_by_role("link", name="Restauration collective")).to_be_visible()
    check_page(page, "resultats")
    page.get_by_role("link", name="Carte").click()
    expect(page.get_by_role("region", name="Carte des consultations par département")).to_be_visible()
    outlines = page.locator("[data-tender-map] path.leaflet-interactive")
    expect(outlines.first).to_be_attached()
    assert outlines.count() >= 96  # every department drawn from our own outlines (area_map.js)
    # the region-wide tender, not coloured on the map, is listed under it with its link
    page.get_by_role("link", name="Hauts-de-France").click()
    expect(page).to_have_url(re.compile(r"territory=reg%3A32"))
    expect(page.get_by_role("link", name="Restauration collective")).to_be_visible()
    page.go_back()
    expect(outlines.first).to_be_attached()
    check_page(page, "carte")
    page.goto("/consultations/recherche?reserved=siae")
    page.get_by_label("Nom de la recherche").fill("SIAE partout")
    page.get_by_role("button", name="Enregistrer cette recherche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recherche enregistrée « SIAE partout »")
    check_page(page, "recherche-enregistree")
    page.get_by_text("Chaque semaine (un courriel récapitulatif)").click()  # DSFR: the label covers the radio
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("cell", name="Chaque semaine (un courriel récapitulatif)")).to_be_visible()
    check_page(page, "veille")


def test_on_a_phone_the_tender_filters_sit_in_a_drawer(page: Page, tenders, check_page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/consultations/recherche?reserved=siae&kind=call_for_tenders")
    first = page.locator(".marche-results .fr-card").first
    box = first.bounding_box()
    assert box["y"] < 844, box  # the first result on the first screen, not under two screens of filters
    filters = page.get_by_role("button", name="Filtres (2)")
    expect(filters).to_be_visible()
    expect(page.get_by_label("Code CPV (début)")).to_be_hidden()
    filters.click()
    expect(page.get_by_label("Code CPV (début)")).to_be_visible()
    check_page(page, "filtres-ouverts")
    # on a computer the filters are always shown, with no drawer button
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/consultations/recherche?reserved=siae")
    expect(page.get_by_label("Code CPV (début)")).to_be_visible()
    expect(page.get_by_role("button", name="Filtres (1)")).to_be_hidden()
