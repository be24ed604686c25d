"""Issue 21's journey in one browser run (axe and the CSP guard on each page): an ACI forms a solidaire grouping on
a Lille tender, finds an EA through the partner suggestions and invites it; the EA's admin accepts from the mailed
link; the ACI shares the lot 60 / 40 and confirms the grouping (its interest declared); the DC1-style PDF
downloads and lists both; the buyer sees the grouping on the tender page."""
from __future__ import annotations

import re
import subprocess

from playwright.sync_api import Page, expect

from marche.accounts.models import OrganisationKind
from marche.extensions import db
from marche.geo.models import Commune
from marche.groupings.models import Grouping, GroupingStatus
from marche.reference.models import Sector
from marche.search.structures import index_structures
from marche.suppliers.models import Structure
from marche.suppliers.services import refresh_derived
from marche.tenders.models import Tender, TenderStatus
from tests.e2e.test_journey import flash, log_in, log_out, wait_for_mail
from tests.tenders.factories import complete_clauses, make_tender, organisation_of

BUYER, ACI, EA = "acheteuse@lille.example.fr", "direction@jardins-lille.example.fr", "direction@atelier-nord.example.fr"
TITLE = "Entretien des espaces verts et des locaux des écoles"


def structure(name: str, kinds: list[str], sector_slugs: list[str], owner: int, siret: str) -> int:
    lille = db.session.get(Commune, "59350")
    row = Structure(siret=siret, siren=siret[:9], name=name, kinds=kinds, source="test", commune_code="59350",
                    department_code="59", region_code="32", city=lille.name, latitude=lille.latitude,
                    longitude=lille.longitude, area_kind="radius", area_radius_km=30, area_refs=[],
                    owner_organisation_id=owner)
    row.sectors = list(db.session.scalars(db.select(Sector).where(Sector.slug.in_(sector_slugs))))
    db.session.add(row)
    refresh_derived(row)
    db.session.flush()
    return row.id


def world(app, make_user) -> int:
    """A Lille tender reserved to SIAE and EA/ESAT whose lot needs green spaces and cleaning; the ACI does green
    spaces, the EA cleaning. Returns the tender id."""
    with app.app_context():
        buyer = make_user(BUYER, name="Ville de Lille")
        aci = make_user(ACI, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Jardins de Lille SAS")
        ea = make_user(EA, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Atelier du Nord SAS")
        green, cleaning = "creation-et-entretien-des-espaces-verts", "nettoyage-de-locaux-16"
        ids = [structure("Les Jardins de Lille", ["ACI"], [green], organisation_of(aci), "81000000000001"),
               structure("Atelier du Nord", ["EA"], [cleaning], organisation_of(ea), "81000000000002")]
        tender_id = make_tender(organisation_of(buyer), status=TenderStatus.PUBLISHED, amount="120000",
                                lots=[dict(complete_clauses(), reservation="both")], title=TITLE)
        tender = db.session.get(Tender, tender_id)
        tender.sectors = list(db.session.scalars(db.select(Sector).where(Sector.slug.in_([green, cleaning]))))
        db.session.commit()
        index_structures(db.session, ids, wait=True)
    return tender_id


def pdf_text(path: str) -> str:
    return subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout


def test_an_aci_and_an_ea_answer_together(page: Page, app, make_user, mailbox, live_link, check_page, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 900})
    tender_id = world(app, make_user)

    # the ACI forms a solidaire grouping from the tender page
    log_in(page, ACI)
    page.goto(f"/consultations/{tender_id}")
    page.get_by_role("link", name="Répondre en groupement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Répondre en groupement")
    page.get_by_role("radio", name="Solidaire").check(force=True)  # DSFR draws the radio on its label
    check_page(page, "former un groupement")
    page.get_by_role("button", name="Créer le groupement").click()
    expect(flash(page)).to_contain_text("Groupement créé")

    # the suggestions name the EA, with why: the missing sector, the reserved lot
    suggestions = page.locator("#suggestions")
    card = suggestions.locator("li", has_text="Atelier du Nord").first
    expect(card).to_contain_text("Nettoyage")
    expect(card).to_contain_text("L2113-14")
    check_page(page, "suggestions de partenaires")
    card.get_by_role("button", name=re.compile("^Inviter")).click()
    expect(flash(page)).to_contain_text("Invitation envoyée à Atelier du Nord")
    log_out(page)

    # the EA's admin accepts from the mailed link
    wait_for_mail(mailbox, EA)
    log_in(page, EA)
    page.goto(live_link(mailbox, EA, "/groupements/"))
    expect(page.locator("#invitation")).to_contain_text("Invitation pour Atelier du Nord")
    check_page(page, "invitation reçue")
    page.get_by_role("button", name="Accepter l'invitation").click()
    expect(flash(page)).to_contain_text("Vous faites désormais partie du groupement")
    log_out(page)

    # the ACI shares the lot 60 / 40 and confirms: the interest is declared to the buyer
    log_in(page, ACI)
    with app.app_context():
        grouping = db.session.scalar(db.select(Grouping))
        grouping_id = grouping.id
    page.goto(f"/groupements/{grouping_id}")
    page.get_by_role("link", name=re.compile("^Répartir")).click()
    page.get_by_label("Part de Les Jardins de Lille (%)").fill("60")
    page.get_by_label("Part de Atelier du Nord (%)").fill("40")
    page.get_by_label("Prestations de Atelier du Nord").fill("Nettoyage des locaux")
    check_page(page, "répartition du lot")
    page.get_by_role("button", name="Enregistrer la répartition").click()
    expect(flash(page)).to_contain_text("Répartition enregistrée")
    expect(page.locator("td[data-total]").first).to_have_text("100,00 %")
    page.get_by_role("button", name="Confirmer le groupement et déclarer son intérêt").click()
    expect(page.locator("#statut")).to_have_text("Confirmé (intérêt déclaré)")
    check_page(page, "groupement confirmé")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page, "groupement confirmé (téléphone)")
    page.set_viewport_size({"width": 1280, "height": 900})

    # the DC1-style summary downloads and lists both members
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Récapitulatif de candidature")).click()
    path = tmp_path / "dc1.pdf"
    download.value.save_as(path)
    text = pdf_text(str(path))
    for expected in ("Les Jardins de Lille", "81000000000001", "Atelier du Nord", "81000000000002", "olidaire"):
        assert expected in text, expected
    log_out(page)

    # the buyer sees the grouping that answered, with its members
    log_in(page, BUYER)
    page.goto(f"/consultations/{tender_id}")
    panel = page.locator("#groupements")
    expect(panel).to_contain_text("Groupements qui ont répondu")
    expect(panel).to_contain_text("Les Jardins de Lille / Atelier du Nord")
    expect(panel).to_contain_text("60,00 %")
    check_page(page, "l'acheteuse voit le groupement")
    with app.app_context():
        assert db.session.get(Grouping, grouping_id).status == GroupingStatus.CONFIRMED
