"""The « déduit » marks of an imported profile, on a computer and a phone, and the owners' invitation."""
from __future__ import annotations

import csv

from playwright.sync_api import Page, expect
from sqlalchemy import text

from marche.cli import DATA_DIR
from marche.extensions import db
from marche.suppliers.importer import import_structures
from tests.e2e.test_journey import log_in

COLLECTERIE = "75187049400026"


def test_deduced_sectors_are_marked_and_owners_invited(page: Page, app, make_user, check_page, tmp_path):
    with open(DATA_DIR / "structures_siae_geiq_ea.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    row = {**next(r for r in rows if r["siret"] == COLLECTERIE), "naf": "8121Z",
           "description": "Ressourcerie et nettoyage de locaux à Montreuil"}
    path = tmp_path / "collecterie.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE, name="La Collecterie")
    with app.app_context():
        import_structures(path)
        db.session.execute(text("UPDATE structure SET owner_organisation_id = (SELECT id FROM organisation "
                                "WHERE siret = :s)"), {"s": COLLECTERIE})
        db.session.commit()
        db.session.remove()

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/structures/{COLLECTERIE}")
    expect(page.locator(".fr-tag .fr-badge", has_text="déduit")).to_have_count(3)
    expect(page.get_by_text("secteur estimé par la plateforme")).to_be_visible()
    check_page(page, "secteurs-deduits-1280")
    page.set_viewport_size({"width": 375, "height": 800})
    check_page(page, "secteurs-deduits-375")

    log_in(page, "nadia@collecterie.fr", "motdepasse-solide-1")
    page.goto(f"/structures/{COLLECTERIE}/modifier")
    expect(page.get_by_text("Vos secteurs ont été déduits")).to_be_visible()
    check_page(page, "secteurs-deduits-modifier-375")
