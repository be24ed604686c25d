"""No script runs that we did not write: HTML payloads in every user text a page shows stay text.

Each text field holds `"><img src=x onerror=alert(1)>` or `<svg onload=alert(1)>`; every page that
shows them is visited (map tooltips and popups opened too) and must show the payload as text, contain
no element the payload would have created, open no dialog and raise no CSP violation (the last two are
checked for every e2e test by `browser_guard` in conftest.py).
"""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from marche.extensions import db
from tests.e2e.test_journey import PASSWORD, log_in, log_out, luhn_siret, main_nav
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture reused, not copied)

IMG = '"><img src=x onerror=alert(1)>'
SVG = "<svg onload=alert(1)>"
SIRET = "75187049400026"
#: one distinct text per field, so that each one is found on its page
#: the claim's evidence: a document checked by content (a minimal PDF)
KBIS_PDF = b"%PDF-1.4\n% extrait Kbis\n%%EOF\n"
TEXT = {
    "name": f"Raison {IMG}",
    "brand": f"Enseigne {SVG}",
    "description": f"Présentation {IMG} {SVG}",
    "reference_client": f"Client {SVG}",
    "reference_description": f"Prestation {IMG}",
    "contact_name": f"Contact {IMG}",
    "contact_role": f"Fonction {SVG}",
    "contact_phone": "<svg onload=alert(1)>",
    "buyer_name": f"Camille {SVG}",
    "buyer_organisation": f"Ville {IMG}",
    "member_name": f"Nadia {IMG}",
    "structure_organisation": f"Collectif {SVG}",
    "claim_message": f"C'est nous {IMG}",
    "favourite_list": f"Liste {SVG}",
}
BUYER, MEMBER, ADMIN = "acheteur.xss@example.fr", "structure.xss@example.fr", "admin.xss@example.fr"


@pytest.fixture
def hostile_texts(app, make_structure):  # noqa: F811
    """Payloads written through the services (audit, outbox, search index), like a real user's edits."""
    from sqlalchemy import select

    from marche.accounts import services as accounts
    from marche.accounts.models import OrganisationKind
    from marche.reference.models import Sector
    from marche.search.indexer import wait_for_pending
    from marche.suppliers import services as suppliers
    from marche.suppliers.models import EnvLabel, Structure

    structure_id = make_structure(siret=SIRET, name="Provisoire")
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        admin = accounts.create_user(ADMIN, PASSWORD, "Équipe plateforme", confirmed=True)
        admin.is_platform_admin = True
        buyer = accounts.create_user(BUYER, PASSWORD, TEXT["buyer_name"], confirmed=True)
        buyer_org = accounts.create_organisation(buyer, accounts.OrganisationData(
            name=TEXT["buyer_organisation"], kind=OrganisationKind.PUBLIC_BUYER, siret=luhn_siret(),
            buyer_category="local_authority"))
        member = accounts.create_user(MEMBER, PASSWORD, TEXT["member_name"], confirmed=True)
        accounts.create_organisation(member, accounts.OrganisationData(
            name=TEXT["structure_organisation"], kind=OrganisationKind.INCLUSIVE_STRUCTURE, siret=SIRET))
        structure = db.session.get(Structure, structure_id)
        sector = db.session.execute(select(Sector).order_by(Sector.id).limit(1)).scalar_one()
        suppliers.update_profile(admin, structure, suppliers.ProfileData(
            name=TEXT["name"], brand=TEXT["brand"], description=TEXT["description"], website="https://example.fr",
            sector_ids=[sector.id], service_kinds=[], area_kind="radius", area_radius_km=30, area_refs_text="",
            employees_count=None, inclusion_workers_count=None, turnover_band=None))
        suppliers.add_reference(admin, structure, TEXT["reference_client"], TEXT["reference_description"], 2025)
        suppliers.add_contact(admin, structure, TEXT["contact_name"], TEXT["contact_role"], "contact@example.fr",
                              TEXT["contact_phone"])
        suppliers.add_env_commitment(admin, structure, next(iter(EnvLabel)).value, date(2025, 1, 1), None, None)
        suppliers.request_claim(member, structure, suppliers.ClaimProof(kind="document", document=KBIS_PDF),
                                TEXT["claim_message"])
        db.session.commit()  # the outbox sends the structure to the search index after this commit
        buyer_org_id = buyer_org.id
        wait_for_pending()
        db.session.remove()
    return {"buyer_organisation_id": buyer_org_id}


def assert_shown_as_text(page: Page, *keys: str) -> None:
    """Each payload is visible as text, and nothing it would have created exists in the page."""
    for key in keys:
        expect(page.get_by_text(TEXT[key], exact=False).first).to_be_visible()
    assert page.locator("img[src='x'], [onerror], [onload]").count() == 0, page.url


def hover_until_tooltip(page: Page, target, text: str) -> None:
    """Hover a map feature until its tooltip shows `text` (the map may still be fitting its bounds)."""
    tooltip = page.locator(".leaflet-tooltip").filter(has_text=text)
    target.scroll_into_view_if_needed()
    for _ in range(20):
        box = target.bounding_box()
        if box:
            page.mouse.move(0, 0)
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            if tooltip.count():
                break
        page.wait_for_timeout(250)
    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_text(text)  # text, not markup: the tooltip holds no element of the payload
    assert tooltip.locator("img, svg").count() == 0


def test_html_payloads_stay_text_on_every_page(page: Page, hostile_texts, check_page):
    log_in(page, BUYER)
    expect(page.get_by_role("banner")).to_contain_text(TEXT["buyer_name"])
    assert_shown_as_text(page, "buyer_name", "buyer_organisation")  # the header, on every page
    # htmx read its configuration from base.html: no eval, no injected <style>, no <script> from fragments
    assert page.evaluate("() => [htmx.config.allowEval, htmx.config.includeIndicatorStyles,"
                         " htmx.config.allowScriptTags]") == [False, False, False]

    page.goto("/compte")
    assert_shown_as_text(page, "buyer_name")
    check_page(page, "compte")
    page.goto(f"/organisations/{hostile_texts['buyer_organisation_id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(TEXT["buyer_organisation"])
    check_page(page, "organisation")

    page.goto(f"/structures/{SIRET}")
    expect(page.get_by_role("heading", level=1)).to_have_text(TEXT["brand"])
    assert_shown_as_text(page, "name", "brand", "description", "reference_client", "reference_description",
                         "contact_name", "contact_role", "contact_phone")
    page.locator("[data-area-map] path.leaflet-interactive").first.wait_for(state="attached")
    hover_until_tooltip(page, page.locator("[data-area-map]"), TEXT["brand"])  # the point is the map's centre
    check_page(page, "fiche")

    page.get_by_label("Ou nouvelle liste").fill(TEXT["favourite_list"])
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Ajoutée à la liste « {TEXT['favourite_list']} »")
    main_nav(page).get_by_role("link", name="Mes favoris").click()
    assert_shown_as_text(page, "favourite_list")
    check_page(page, "favoris")
    page.get_by_role("link", name=TEXT["favourite_list"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TEXT["favourite_list"])
    assert_shown_as_text(page, "brand")
    check_page(page, "liste-favoris")

    page.goto(f"/structures?q={SIRET}")
    expect(page.get_by_role("link", name=TEXT["brand"])).to_be_visible()
    check_page(page, "recherche-liste")
    # a territory typed in the address never comes back into the tom-select field unchecked
    page.goto("/structures?" + urlencode({"territory": IMG}))
    expect(page.get_by_text(re.compile("territoire", re.I)).first).to_be_visible()
    assert page.locator("img[src='x'], [onerror], [onload]").count() == 0
    assert page.locator(".ts-control .item").count() == 0

    page.goto(f"/structures?q={SIRET}")
    page.get_by_role("link", name="Carte").click()
    expect(page).to_have_url(re.compile(r"vue=carte"))
    marker = page.locator("[data-results-map] .leaflet-marker-icon").first
    marker.wait_for()
    hover_until_tooltip(page, marker, TEXT["brand"])
    marker.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup.get_by_role("link", name=TEXT["brand"])).to_be_visible()
    assert popup.locator("img, svg").count() == 0
    check_page(page, "recherche-carte")

    page.goto("/verifier-mes-fournisseurs")
    page.get_by_label("Numéros SIRET ou SIREN").fill(f"{SIRET}\n{IMG}\n{SVG}")
    page.get_by_role("button", name="Vérifier", exact=True).click()
    results = page.locator("#resultats")
    expect(results.get_by_role("link", name=TEXT["brand"])).to_be_visible()
    for payload in (IMG, SVG):
        expect(results.get_by_text(payload, exact=True)).to_be_visible()
    assert_shown_as_text(page, "brand")
    check_page(page, "verification")
    log_out(page)

    log_in(page, ADMIN)
    page.goto("/structures/revendications")
    row = page.get_by_role("listitem").filter(has_text=TEXT["claim_message"])
    expect(row).to_contain_text(TEXT["structure_organisation"])
    expect(row.get_by_role("link", name=TEXT["brand"], exact=True)).to_be_visible()
    assert_shown_as_text(page, "claim_message", "structure_organisation", "brand")
    check_page(page, "revendications")
    log_out(page)

    log_in(page, MEMBER)
    page.goto("/compte")
    assert_shown_as_text(page, "member_name", "structure_organisation")
    check_page(page, "compte-structure")


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_profile_and_map_look_right(page: Page, hostile_texts, check_page, width, height):
    """Desktop and phone: the profile's map and the results map render, and their tooltips show names."""
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, BUYER)
    page.goto(f"/structures/{SIRET}")
    area_map = page.locator("[data-area-map]")
    area_map.locator("path.leaflet-interactive").first.wait_for(state="attached")
    box = area_map.bounding_box()
    assert box and box["width"] <= width and box["height"] >= 300  # the map fits the screen and has a height
    hover_until_tooltip(page, area_map, TEXT["brand"])
    check_page(page, f"fiche-{width}px")

    page.goto(f"/structures?q={SIRET}&vue=carte")
    marker = page.locator("[data-results-map] .leaflet-marker-icon").first
    marker.wait_for()
    hover_until_tooltip(page, marker, TEXT["brand"])
    check_page(page, f"carte-{width}px")


def test_guard_sees_a_script_we_did_not_write(page: Page, browser_guard, live_server):
    """The guard itself: an injected inline handler is blocked by the CSP and reported; a dialog is seen."""
    page.goto("/")
    page.evaluate("""() => { const p = document.createElement('p');
                             p.innerHTML = '<img src="/static/none.png" onerror="alert(1)">';
                             document.body.append(p); }""")
    page.wait_for_function("() => (window.__cspViolations || []).length > 0", timeout=5000)
    problems = browser_guard.problems()
    assert any("script-src" in problem for problem in problems), problems
    page.evaluate("() => setTimeout(() => alert('pas de nous'), 0)")  # runs outside the page's CSP, as devtools
    page.wait_for_timeout(300)
    assert any("pas de nous" in problem for problem in browser_guard.problems())
    # the violations were provoked on purpose: forget them so that the teardown check passes
    browser_guard.csp_violations.clear()
    browser_guard.csp_console_errors.clear()
    browser_guard.dialogs.clear()
    page.goto("/")  # a fresh document: window.__cspViolations is empty again
    assert browser_guard.problems() == []


#: counts every markup assignment (innerHTML/outerHTML) a script makes after the page starts
COUNT_MARKUP_WRITES_JS = """
(() => {
  window.__markupWrites = [];
  for (const name of ["innerHTML", "outerHTML"]) {
    const property = Object.getOwnPropertyDescriptor(Element.prototype, name);
    Object.defineProperty(Element.prototype, name, {
      get: property.get,
      set(value) { window.__markupWrites.push(`${name} ${this.className}`); return property.set.call(this, value); },
    });
  }
})();
"""


@pytest.mark.parametrize("width", [1280, 375])
def test_dsfr_writes_no_markup_into_the_header(page: Page, live_server, width):
    """The DSFR copies the header's tool links into the phone menu with innerHTML unless the two already
    match; a style attribute in that copy breaks the CSP (seen once in CI on /compte). We render both."""
    page.set_viewport_size({"width": width, "height": 800})
    page.add_init_script(COUNT_MARKUP_WRITES_JS)
    for path in ("/", "/connexion", "/structures"):
        page.goto(path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(200)  # the DSFR starts its components after load
        writes = page.evaluate("() => window.__markupWrites")
        assert [w for w in writes if "fr-header" in w] == [], (path, writes)
        assert page.locator(".fr-header__menu-links a", has_text="Se connecter").count() == 1
    if width < 992:  # the phone menu shows the same links
        page.get_by_role("button", name="Menu").click()
        expect(page.locator("#menu-modal").get_by_role("link", name="Se connecter")).to_be_visible()
