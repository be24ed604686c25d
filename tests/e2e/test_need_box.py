"""Browser: a buyer describes a need in plain words, sees CPV codes, sectors and the place suggested while
typing, clicks them (the `need:accept` event, the choices listed) and reaches the directory search for the
chosen sectors and place; axe-clean on a desktop and on a phone."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

PHONE = {"width": 390, "height": 844}


def test_typing_a_need_and_accepting_suggestions(page: Page, catalogue_index, check_page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/besoin")
    accepted = page.evaluate_handle("""() => { const seen = [];
        document.getElementById('besoin').addEventListener('need:accept', e => seen.push(e.detail)); return seen; }""")
    page.get_by_label("Décrivez votre besoin").press_sequentially("entretien des espaces verts des écoles de Roubaix, 3 ans",
                                                                  delay=5)
    green = page.get_by_role("button", name=re.compile(r"^77310000-6 — Réalisation et entretien d'espaces verts"))
    expect(green).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Lieu : Roubaix"))).to_be_visible()
    expect(page.get_by_role("button", name="Durée : 36 mois")).to_be_visible()
    check_page(page, "suggestions")

    green.click()
    page.get_by_role("button", name="Création et entretien des espaces verts").click()
    page.get_by_role("button", name=re.compile(r"^Lieu : Roubaix")).click()
    details = accepted.json_value()
    assert [d["kind"] for d in details] == ["cpv", "sector", "place"]
    assert details[0] == {"kind": "cpv", "value": "77310000-6", "label": "Réalisation et entretien d'espaces verts"}
    assert details[1]["value"] == "23" and details[2]["value"] == "commune:59512"
    chosen = page.locator("[data-need-chosen] li")
    expect(chosen).to_have_count(3)
    link = page.get_by_role("link", name="Chercher les structures inclusives pour ces choix")
    expect(link).to_have_attribute("href", re.compile(r"sector=23.*territory=commune%3A59512"))
    check_page(page, "choix")
    link.click()
    expect(page).to_have_url(re.compile(r"/structures\?sector=23&territory=commune%3A59512"))


def test_the_box_fills_the_fields_it_names(page: Page, catalogue_index):
    page.goto("/besoin")
    # a form that names its fields, as the tender form will (data-*-target)
    page.evaluate("""() => { const box = document.getElementById('besoin');
        for (const [kind, tag] of [['cpv', 'input'], ['place', 'input'], ['sector', 'select']]) {
          const field = document.createElement(tag); field.id = 'f-' + kind; field.setAttribute('aria-label', kind);
          if (tag === 'select') { field.multiple = true;
            for (const value of ['8', '164']) { const o = document.createElement('option'); o.value = value;
              o.textContent = value; field.appendChild(o); } }
          document.body.appendChild(field); box.setAttribute('data-' + kind + '-target', field.id); } }""")
    page.get_by_label("Décrivez votre besoin").fill("netoyage de bureaux à Lille")
    page.get_by_role("button", name=re.compile(r"^90919200-4")).click()
    page.get_by_role("button", name=re.compile(r"^Lieu : Lille")).click()
    page.get_by_role("button", name="Nettoyage de locaux", exact=True).click()
    page.get_by_label("Décrivez votre besoin").fill("90911200")
    page.get_by_role("button", name=re.compile(r"^90911200-8")).click()
    expect(page.locator("#f-cpv")).to_have_value("90919200-4, 90911200-8")
    assert page.locator("#f-sector").evaluate("s => Array.from(s.selectedOptions).map(o => o.value)") == ["8"]
    expect(page.locator("#f-place")).to_have_value("commune:59350")


def test_the_box_on_a_phone(page: Page, catalogue_index, check_page):
    page.set_viewport_size(PHONE)
    page.goto("/besoin")
    page.get_by_label("Décrivez votre besoin").fill("traiteur pour une cantine scolaire")
    expect(page.get_by_role("button", name=re.compile(r"^55"))).not_to_have_count(0)
    check_page(page, "telephone")
