"""Browser: the search reads a place in the text (chip, literal link, distance order), every active filter is a
removable chip, and on a phone the filters sit in a drawer so the first result is near the top."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.e2e.test_directory import directory  # noqa: F401  (the fixture)

PHONE = {"width": 390, "height": 844}


def shown_distances(page: Page) -> list[float]:
    texts = page.locator(".marche-results .fr-card__desc").all_inner_texts()
    return [float(match.group(1).replace("\u202f", "").replace(" ", "").replace(",", "."))
            for t in texts if (match := re.search(r"à ([\d\s\u202f]+(?:,\d)?) km", t))]


def test_a_place_in_the_text_shows_a_chip_and_results_by_distance(page: Page, app, directory, check_page):  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/structures")
    page.get_by_label("Rechercher par nom, activité, ville ou SIRET").fill("insertion Lille")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    chip = page.get_by_role("link", name="Retirer le filtre Peut intervenir à : Lille (59)")
    expect(chip).to_be_visible()
    expect(page.get_by_role("link", name="Rechercher « insertion Lille » littéralement")).to_be_visible()
    # the text box keeps what was typed; the territory field stays empty (nothing was chosen there)
    expect(page.get_by_label("Rechercher par nom, activité, ville ou SIRET")).to_have_value("insertion Lille")
    expect(page.locator("#territory")).to_have_value("")
    distances = shown_distances(page)
    assert len(distances) >= 5 and distances == sorted(distances)
    first_card = page.locator(".marche-results .fr-card").first
    assert first_card.is_visible()
    check_page(page, "lille-chip")

    count = int(re.sub(r"\D", "", page.get_by_role("status").filter(has_text="structure").inner_text()))
    page.get_by_role("link", name="Rechercher « insertion Lille » littéralement").click()
    expect(page).to_have_url(re.compile(r"literal=1"))
    literal = int(re.sub(r"\D", "", page.get_by_role("status").filter(has_text="structure").inner_text()))
    assert literal < count  # « Lille » must now be a word of the structure
    expect(page.get_by_role("link", name="Retirer le filtre Recherche littérale")).to_be_visible()

    # every active filter is a chip that removes itself
    page.goto("/structures?kind=ESAT&kind=ACI&territory=dep:59&zrr=0")
    for name in ("Type : ESAT — ", "Type : ACI — ", "Peut intervenir sur : Nord (59)", "Implantée en ZRR / FRR : non"):
        expect(page.get_by_role("link", name=f"Retirer le filtre {name}")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Retirer le filtre Type : ESAT")).click()
    expect(page).not_to_have_url(re.compile(r"kind=ESAT"))
    expect(page).to_have_url(re.compile(r"kind=ACI"))
    expect(page.get_by_role("link", name=re.compile(r"^Retirer le filtre Type : ESAT"))).to_have_count(0)
    check_page(page, "chips")

    # a name shared by several communes asks which
    page.goto("/structures?q=menuiserie+Saint-Martin")
    expect(page.get_by_text("Vouliez-vous dire :")).to_be_visible()
    page.get_by_role("link", name="Saint-Martin (67)").click()
    expect(page.get_by_role("link", name="Retirer le filtre Peut intervenir sur : Saint-Martin (67)")).to_be_visible()
    expect(page.get_by_label("Rechercher par nom, activité, ville ou SIRET")).to_have_value("menuiserie")
    check_page(page, "vouliez-vous-dire")


def test_on_a_phone_the_filters_sit_in_a_drawer(page: Page, app, directory, check_page):  # noqa: F811
    page.set_viewport_size(PHONE)
    page.goto("/structures?q=Lille&kind=ACI")
    territory = page.locator("#territory-ts-control")
    check_page(page, "telephone-tiroir-ferme")
    first = page.locator(".marche-results .fr-card").first
    box = first.bounding_box()
    print(f"first result at y = {box['y']:.0f} px on a 390 px phone")
    assert box["y"] < 844, box  # on the first screen (before the drawer: ~2 400 px down)
    filters = page.get_by_role("button", name="Filtres (2)")
    expect(filters).to_be_visible()
    expect(territory).to_be_hidden()
    filters.click()
    expect(territory).to_be_visible()
    expect(filters).to_have_attribute("aria-expanded", "true")
    check_page(page, "telephone-tiroir-ouvert")
    distances = shown_distances(page)
    assert distances == sorted(distances) and distances
    # on a computer the filters are always shown, with no drawer button
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/structures?q=Lille&kind=ACI")
    expect(territory).to_be_visible()
    expect(page.get_by_role("button", name="Filtres (2)")).to_be_hidden()
