"""The market depth panel in Chromium (axe and the CSP guard): the buyer opens the clauses of its lot, sees the 2
structures that can answer and the warning, reserves the lot to EA and ESAT (none left, the levers say how to
widen it), then to SIAE with ISO 14001 required (1 left): the panel follows each change without a reload (htmx)."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from marche.extensions import db
from marche.reference.cpv_sectors import suggest_sectors
from marche.reference.models import Sector
from marche.search import document_types, indexer
from marche.suppliers.models import EnvCommitment, Structure
from marche.suppliers.services import refresh_derived
from tests.e2e.conftest import (base_url, browser_guard, browser_type_launch_args, check_page,  # noqa: F401
                                live_server)
from tests.e2e.test_journey import log_in
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)

from .drafting_fixtures import new_tender, user

BUYER = "acheteuse@ville.example.fr"
ROUBAIX = dict(commune="59512", department="59", region="32", lat=50.6927, lon=3.1778)


def tick(page: Page, field_id: str) -> None:
    page.locator(f"label[for='{field_id}']").click()


def test_the_panel_follows_the_reservation_and_the_commitments(page: Page, app, make_user, make_structure,
                                                               check_page):
    make_user(BUYER, name="Ville de Roubaix")
    ids = [make_structure(siret=siret, name=name, **ROUBAIX)
           for siret, name in (("75187049400026", "Jardins de Roubaix"), ("44306184100047", "Verts Chantiers"))]
    with app.test_request_context():
        tender = new_tender(user(BUYER))
        sector = suggest_sectors(list(tender.cpv_codes))[0]
        for structure_id in ids:
            structure = db.session.get(Structure, structure_id)
            structure.sectors = [db.session.get(Sector, sector.id)]
            refresh_derived(structure)
        holder = db.session.get(Structure, ids[0])
        holder.env_commitments.append(EnvCommitment(label="iso14001"))
        db.session.commit()
        indexer.index_ids(document_types.get("structures"), db.session, ids, wait=True)
        clauses_url = f"/consultations/{tender.id}/lots/{tender.lots[0].id}/clauses"
        db.session.remove()
    log_in(page, BUYER)
    page.goto(clauses_url)
    panel = page.locator("#profondeur")
    expect(panel.locator("strong.fr-text--lead")).to_have_text("2")
    expect(panel).to_contain_text("Jardins de Roubaix")
    expect(panel).to_contain_text("Seules 2 structures de l'annuaire peuvent répondre")
    check_page(page, "profondeur : 2 structures")
    tick(page, "reservation-2")  # réservé aux EA et ESAT
    expect(panel.locator("strong.fr-text--lead")).to_have_text("0")
    # the summary beside the reservation follows too (out of band)
    expect(page.locator("#profondeur-resume-reservation")).to_contain_text("0 structure peut répondre")
    expect(panel).to_contain_text("Réserver le lot aux SIAE, EA et ESAT ensemble (L2113-14) : passerait de 0 "
                                  "structure à 2 structures")
    tick(page, "reservation-1")  # réservé aux SIAE
    tick(page, "required_env-0")  # ISO 14001
    expect(panel.locator("strong.fr-text--lead")).to_have_text("1")
    expect(panel).to_contain_text("Engagement exigé en cours de validité : ISO 14001")
    check_page(page, "profondeur : SIAE et ISO 14001")
