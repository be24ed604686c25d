"""« Secteurs à compléter » in the browser: the Nord's facilitator finds the profiles of Lille without sectors,
chooses one's sectors in the tag box, goes on to the next; a buyer's search by that sector then finds it,
and its page says who gave them. Computer and phone widths, axe-clean."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from marche.extensions import db
from marche.reference.models import Sector
from marche.search.indexer import wait_for_pending
from marche.suppliers.models import Structure
from tests.conftest import VALID_SIRETS
from tests.e2e.test_journey import flash, log_in, nav_link
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)

LILLE = {"commune": "59350", "department": "59", "region": "32", "lat": 50.63, "lon": 3.06}
FIRST, SECOND = VALID_SIRETS[11], VALID_SIRETS[12]


def test_the_facilitator_completes_sectors_and_buyers_find_them(page: Page, app, make_user, make_structure,
                                                                check_page):
    make_structure(siret=FIRST, name="Atelier Chantier de Fives", kinds=("ACI",), naf_code="8899B", **LILLE)
    make_structure(siret=SECOND, name="Blanchisserie Solidaire", kinds=("EI",), **LILLE)
    make_user("plie@lille.fr", kind="facilitator", siret=VALID_SIRETS[44], name="PLIE de Lille")
    with app.app_context():
        db.session.execute(db.text("update organisation set verification_status = 'verified', "
                                   "territories = '{dep:59}' where kind = 'facilitator'"))
        db.session.commit()
        sector_id = db.session.execute(select(Sector.id).where(Sector.name == "Création et entretien des espaces verts")
                                       ).scalar_one()

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "plie@lille.fr", "motdepasse-solide-1")
    nav_link(page, "Secteurs à compléter").click()
    expect(page.get_by_role("heading", name="Fiches à compléter : 2")).to_be_visible()
    expect(page.locator("#couverture")).to_contain_text("ACI — Atelier et chantier d'insertion")
    check_page(page, "liste-1280")
    page.get_by_role("link", name=re.compile("Atelier Chantier de Fives")).click()
    expect(page.get_by_text("8899B — Action sociale sans hébergement n.c.a.")).to_be_visible()
    control = page.locator("#sectors-ts-control")
    control.click()
    control.fill("entretien des espaces")
    page.locator(".ts-dropdown .option", has_text="Création et entretien des espaces verts").click()
    expect(page.locator("select#sectors + .ts-wrapper .item")).to_have_count(1)
    check_page(page, "fiche-1280")
    page.get_by_role("button", name="Enregistrer et passer à la suivante").click()
    expect(flash(page)).to_contain_text("Secteurs de « Atelier Chantier de Fives » enregistrés.")
    expect(page.get_by_role("heading", name="Secteurs de « Blanchisserie Solidaire »")).to_be_visible()
    page.set_viewport_size({"width": 375, "height": 800})
    check_page(page, "fiche-375")
    page.get_by_role("button", name="Enregistrer et revenir à la liste").click()
    expect(page.get_by_text("Choisissez au moins un secteur.")).to_be_visible()  # nothing chosen: said beside it
    page.goto("/animation/secteurs")
    expect(page.get_by_role("heading", name="Fiches à compléter : 1")).to_be_visible()
    check_page(page, "liste-375")

    with app.app_context():
        wait_for_pending()
        given = db.session.execute(select(Structure).where(Structure.siret == FIRST)).scalar_one()
        assert given.sectors_given_by == "PLIE de Lille (facilitateur du territoire)"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/structures?sector={sector_id}")
    expect(page.get_by_role("link", name=re.compile("Atelier Chantier de Fives"))).to_be_visible()
    page.goto(f"/structures/{FIRST}")
    expect(page.locator("#secteurs-renseignes")).to_contain_text(
        "Secteurs renseignés par PLIE de Lille (facilitateur du territoire) le")
    check_page(page, "fiche-publique-1280")
