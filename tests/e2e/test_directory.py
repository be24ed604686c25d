"""Browser journey in the directory: search, filter, map, profile, favourite, exports (axe on each page)."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from marche.cli import DATA_DIR
from marche.extensions import db
from tests.e2e.test_journey import log_in, nav_link

COLLECTERIE = "75187049400026"


@pytest.fixture
def directory(app):
    """The real structures, indexed through the outbox like in production, and the demo accounts."""
    from marche.demo import create_demo
    from marche.search.indexer import wait_for_pending
    from marche.suppliers.importer import import_esat, import_structures

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        import_structures(DATA_DIR / "structures_siae_geiq_ea.csv")
        import_esat(DATA_DIR / "esat_finess.csv")
        db.session.commit()
        create_demo()
        db.session.commit()
        wait_for_pending()
        db.session.remove()


def test_search_filter_map_favourite_export(page: Page, directory, check_page):
    log_in(page, "acheteur.public@demo.marche.local", "Demo-marche-2026")
    page.goto("/structures")
    check_page(page, "recherche")

    page.get_by_label("Rechercher par nom, activité, ville ou SIRET").fill("colecterie")  # a typo on purpose
    page.get_by_role("button", name="Rechercher", exact=True).click()
    expect(page.get_by_role("link", name="La Collecterie")).to_be_visible()
    check_page(page, "recherche-texte")

    page.get_by_label("Rechercher par nom, activité, ville ou SIRET").fill("")
    page.locator("label[for='f-kind-ESAT']").click()
    page.get_by_role("button", name="Appliquer les filtres").click()
    expect(page).to_have_url(re.compile(r"kind=ESAT"))
    count_text = page.get_by_role("status").filter(has_text="structures").inner_text()
    esat_count = int(re.sub(r"\D", "", count_text))
    assert 1000 < esat_count < 1600  # 1 504 FINESS rows, several sites per SIRET merged
    check_page(page, "recherche-esat")

    page.get_by_role("link", name="Carte").click()
    expect(page).to_have_url(re.compile(r"vue=carte"))
    page.wait_for_selector(".leaflet-marker-icon, .marker-cluster", timeout=10000)
    assert page.locator(".marker-cluster, .leaflet-marker-icon").count() > 0
    check_page(page, "carte")

    page.goto(f"/structures/{COLLECTERIE}")
    expect(page.get_by_role("heading", level=1)).to_have_text("La Collecterie")
    page.get_by_label("Ou nouvelle liste").fill("Ressourceries 2027")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Ajoutée à la liste « Ressourceries 2027 »")
    check_page(page, "fiche-favori")

    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Mes favoris").click()
    page.get_by_role("link", name="Ressourceries 2027").click()
    check_page(page, "liste-favoris")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Exporter en Excel (XLSX)").click()
    assert download_info.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(download_info.value.path().read_bytes())).active
    rows = list(sheet.values)
    assert rows[0][0] == "SIRET" and rows[1][0] == COLLECTERIE

    page.goto("/structures?kind=ESAT&territory=dep:59&territory_mode=located")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Exporter en CSV").click()
    lines = open(download_info.value.path(), encoding="utf-8-sig").read().splitlines()
    assert lines[0].startswith("SIRET;FINESS;Raison sociale")
    shown = int(re.sub(r"\D", "", page.get_by_role("status").filter(has_text="structure").inner_text()))
    assert len(lines) - 1 == shown > 0


def test_structure_edits_its_profile_and_admin_sees_claims(page: Page, directory, check_page):
    log_in(page, "structure@demo.marche.local", "Demo-marche-2026")
    page.goto(f"/structures/{COLLECTERIE}")
    page.get_by_role("link", name="Modifier la fiche").click()
    check_page(page, "modifier-fiche")
    page.get_by_label("Nombre de salariés").fill("41")
    page.get_by_role("button", name="Enregistrer la fiche").click()
    expect(page.get_by_role("status")).to_contain_text("La fiche est enregistrée.")
    expect(page.get_by_role("main")).to_contain_text("41, dont 24 en insertion")
    check_page(page, "fiche-modifiee")
    page.get_by_role("button", name="Se déconnecter").click()

    log_in(page, "admin@demo.marche.local", "Demo-marche-2026")
    nav_link(page, "Revendications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revendications de fiches")
    check_page(page, "revendications")
