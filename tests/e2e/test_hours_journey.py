"""Issue 22's journey in one browser run (axe and the CSP guard on each page, phone and desktop): a Lille tender is
awarded to an ACI and its contract appears for the facilitator of the Nord; the ACI imports a CSV of hours with one
bad line and reads the report by line and column, fixes the file and imports it; the facilitator validates the
lines."""
from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from marche.accounts.models import OrganisationKind, User
from marche.extensions import db
from marche.insertion.models import Contract, DeclarationStatus, HoursDeclaration
from marche.tenders import award
from marche.tenders.models import Tender, TenderStatus
from tests.e2e.test_journey import flash, log_in, log_out
from tests.e2e.test_tender_workflow import both_sizes
from tests.tenders.answers_world import owned_structure
from tests.tenders.factories import complete_clauses, make_facilitator, make_tender, organisation_of

BUYER, FACILITATOR, ACI = "acheteuse@lille.example.fr", "clauses@plie-lille.example.fr", "direction@aci.example.fr"
TITLE = "Entretien des espaces verts des écoles de Lille"


def world(app, make_user) -> None:
    """A closed Lille tender whose lot carries an insertion clause of 250 h (300 000 € × 50 % × 5 % ÷ 30 €/h),
    awarded to the ACI two months ago: the award event makes the contract."""
    with app.app_context():
        buyer = make_user(BUYER, name="Ville de Lille")
        make_facilitator(make_user, FACILITATOR, ["dep:59"], name="PLIE Lille Métropole")
        aci = make_user(ACI, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Jardins de Lille SAS")
        structure_id = owned_structure(organisation_of(aci), "Les Jardins de Lille", ("ACI",))
        tender_id = make_tender(organisation_of(buyer), status=TenderStatus.CLOSED, lots=[complete_clauses("300000")],
                                title=TITLE)
        tender = db.session.get(Tender, tender_id)
        award.award_lot(db.session.get(User, buyer), tender, tender.lots[0], award.AwardData(
            structure_id=structure_id, siret="", holder_name="", amount="280000",
            awarded_on=date.today() - timedelta(days=62), offers_count=3))
        db.session.commit()


def last_month() -> date:
    first = date.today().replace(day=1) - timedelta(days=1)
    return first.replace(day=1)


def test_an_award_becomes_a_contract_whose_hours_are_imported_and_validated(page: Page, app, make_user, check_page,
                                                                            tmp_path):
    world(app, make_user)
    with app.app_context():
        contract = db.session.scalar(db.select(Contract))
        assert contract is not None and contract.hours_target == 250
        contract_id = contract.id

    # the contract appears for the facilitator of the Nord
    log_in(page, FACILITATOR)
    page.goto("/contrats")
    expect(page.get_by_role("link", name=re.compile(TITLE))).to_be_visible()
    both_sizes(page, check_page, "marches-du-facilitateur")
    page.get_by_role("link", name=re.compile(TITLE)).click()
    expect(page.locator("#tableau-de-bord")).to_contain_text("250 h")
    check_page(page, "marche-vu-par-le-facilitateur")
    # a long page on a phone: its summary leads to each part
    summary = page.locator("#sommaire")
    expect(summary.get_by_role("link")).to_have_text(["Tableau de bord", "Déclarer à la place du titulaire",
                                                      "Heures déclarées", "Verrouiller un mois", "Qui déclare",
                                                      "État du marché"])
    log_out(page)

    # the ACI imports a file with one bad line: the report names it, nothing is recorded
    month = last_month()
    good = f"Code participant;Mois;Mode;Heures;Année de naissance;Sexe\n" \
           f"LIL-101;{month:%m/%Y};embauche;35,5;1990;F\n" \
           f"LIL-102;{month:%m/%Y};embauche;70;2002;M\n"
    bad_file, good_file = tmp_path / "heures.csv", tmp_path / "heures-corrige.csv"
    bad_file.write_text(good.replace(f"LIL-102;{month:%m/%Y}", "LIL-102;13/2026"), encoding="cp1252")
    good_file.write_text(good, encoding="cp1252")
    log_in(page, ACI)
    page.goto(f"/contrats/{contract_id}")
    page.get_by_role("link", name="importez un fichier CSV ou Excel").click()
    both_sizes(page, check_page, "import")
    page.locator("input[type=file]").set_input_files(str(bad_file))
    page.get_by_role("button", name="Importer").click()
    report = page.locator("#rapport")
    expect(report).to_contain_text("ligne 3, colonne « Mois »")
    both_sizes(page, check_page, "import-refuse")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(HoursDeclaration)) == 0

    # fixed, the file goes in whole
    page.locator("input[type=file]").set_input_files(str(good_file))
    page.get_by_role("button", name="Importer").click()
    expect(page.locator("#etat-import")).to_contain_text("2 lignes déclarées")
    check_page(page, "import-termine")
    log_out(page)

    # the facilitator validates both lines
    log_in(page, FACILITATOR)
    page.goto(f"/contrats/{contract_id}")
    for _ in range(2):
        page.get_by_role("button", name="Valider").first.click()
        expect(flash(page).first).to_contain_text("Déclaration validée")
    expect(page.locator("#declarations")).to_be_visible()
    with app.app_context():
        lines = db.session.scalars(db.select(HoursDeclaration)).all()
        assert sorted(line.hours for line in lines) == [35.5, 70]
        assert {line.status for line in lines} == {DeclarationStatus.VALIDATED}

    # the dashboard and the bilan PDF show the new hours: 105,5 h validated, 42,2 % of 250 h, two participants
    board = page.locator("#tableau-de-bord")
    expect(board).to_contain_text("105,50 h")
    expect(board).to_contain_text("42,2 %")
    expect(page.locator("canvas[data-insertion-chart]")).to_be_visible()
    both_sizes(page, check_page, "heures-validees")
    with page.expect_download() as download:
        page.get_by_role("link", name="Bilan PDF").click()
    path = tmp_path / "bilan.pdf"
    download.value.save_as(path)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in (TITLE, "105,50", "250"):
        assert expected in text, expected
