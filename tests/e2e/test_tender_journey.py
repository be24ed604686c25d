"""Issue 19's whole journey in one browser run (axe and the CSP guard on each page): a public buyer describes its
need in plain words and accepts the suggested CPV code and place, drafts a 2-lot tender, sizes the insertion clause
of lot 1 and watches the checklist turn green, gives lot 2 its clauses, downloads the annex PDF and submits; the
Nord facilitator validates; the buyer publishes, and once the deadline has passed awards lot 1 to a structure of
the directory and declares lot 2 unsuccessful."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect

from marche.core.dates import today
from marche.core.models import utcnow
from marche.extensions import db
from marche.tenders.models import Tender, TenderStatus
from tests.e2e.test_journey import flash, log_in, log_out, nav_link
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)
from tests.tenders.factories import make_facilitator

BUYER, FACILITATOR = "acheteuse@roubaix.example.fr", "plie@nord.example.fr"


def thousands(number) -> str:
    """1750 → « 1 750 » with the narrow no-break space French figures use."""
    return f"{int(number):,}".replace(",", "\u202f")


def tick(page: Page, field_id: str) -> None:
    """DSFR draws a checkbox on its label: click the label, as a person does."""
    page.locator(f"label[for='{field_id}']").click()


def test_need_to_award(page: Page, app, catalogue_index, make_user, make_structure, check_page):  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 900})
    make_user(BUYER, name="Ville de Roubaix")
    make_structure(siret="75187049400026", name="La Collecterie")
    with app.app_context():
        make_facilitator(make_user, FACILITATOR, ["dep:59"], name="PLIE Lille Avenir")

    log_in(page, BUYER)
    page.goto("/consultations/nouvelle")
    # the need in plain words: the box suggests CPV codes, sectors, the place and the duration
    page.get_by_label("Décrivez votre besoin").fill("entretien des espaces verts des écoles de Roubaix, 3 ans")
    suggestion = page.get_by_role("button", name=re.compile(r"^77310000-6 — "))
    expect(suggestion).to_be_visible(timeout=15_000)
    check_page(page, "besoin décrit")
    suggestion.click()
    page.get_by_role("button", name=re.compile(r"^Lieu : Roubaix")).click()
    page.get_by_role("button", name="Durée : 36 mois").click()
    expect(page.locator("#cpv_codes")).to_have_value(re.compile("77310000-6"))
    expect(page.locator("#duration_months")).to_have_value("36")
    page.get_by_label("Intitulé de la consultation").fill("Entretien des espaces verts des écoles")
    page.get_by_label("Montant estimé (€ HT)").fill("1 000 000")
    page.get_by_label("Date de lancement").fill(today().isoformat())
    page.get_by_label("Date limite de réponse").fill((utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Créer la consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Entretien des espaces verts des écoles")
    expect(page.get_by_text("77310000-6", exact=True)).to_be_visible()
    tender_id = int(re.search(r"/consultations/(\d+)", page.url).group(1))
    with app.app_context():
        tender = db.session.get(Tender, tender_id)
        assert tender.place_ref == "commune:59512" and tender.duration_months == 36
        assert tender.sectors  # suggested from the CPV code (data/cpv_secteurs.csv)

    page.get_by_role("link", name="Lots (découper)").click()
    page.get_by_label("Intitulé du lot").fill("Élagage")
    page.get_by_label("Montant estimé du lot (€ HT)").fill("300 000")
    page.get_by_role("button", name="Ajouter le lot").click()
    expect(page.get_by_role("cell", name="2. Élagage")).to_be_visible()

    # lot 1: the insertion clause sized by the calculator, the checklist turns green as the buyer types
    page.get_by_role("link", name="Clauses du lot 1").click()
    checklist = page.locator("#verification")
    expect(checklist.get_by_text("Manquante", exact=True)).to_have_count(3)
    tick(page, "insertion")
    page.get_by_label("Montant servant au calcul (€ HT)").fill("700000")
    tick(page, "modes-0")
    tick(page, "publics-0")
    # the sectors suggested from the CPV code are green spaces, a labour-intensive family (clauses/rules.py):
    # 70 % of labour, 10 % of insertion, 28 €/h → 700 000 × 0,7 × 0,1 ÷ 28 = 1 750 h
    hours = round(Decimal(700_000) * Decimal("0.7") * Decimal("0.1") / Decimal(28))
    expect(checklist).to_contain_text(f"700\u202f000 € × 70 % × 10 % ÷ 28 €/h = {thousands(hours)} h")
    tick(page, "environmental_conditions-0")
    tick(page, "environmental_criterion")
    page.get_by_label("Pondération du critère environnemental (%)").fill("20")
    page.get_by_label("Pondération du critère environnemental (%)").blur()
    expect(checklist.get_by_text("Respectée", exact=True)).to_have_count(3)
    check_page(page, "clauses du lot 1")
    page.get_by_role("button", name="Enregistrer les clauses").click()
    expect(page.get_by_text(f"{thousands(hours)} heures")).to_be_visible()

    # lot 2: a social criterion and the two environmental lines
    page.goto(f"/consultations/{tender_id}")
    page.get_by_role("link", name="Clauses du lot 2").click()
    tick(page, "social_criterion")
    page.get_by_label("Pondération du critère social (%)").fill("10")
    tick(page, "environmental_conditions-1")
    tick(page, "environmental_criterion")
    page.get_by_label("Pondération du critère environnemental (%)").fill("15")
    page.get_by_label("Pondération du critère environnemental (%)").blur()
    expect(page.locator("#verification").get_by_text("Respectée", exact=True)).to_have_count(3)
    page.get_by_role("button", name="Enregistrer les clauses").click()

    # the annex as a PDF, then the tender goes for validation
    page.goto(f"/consultations/{tender_id}")
    pdf = page.request.get(page.get_by_role("link", name="Annexe des clauses (PDF)").first.get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    page.get_by_role("button", name="Envoyer pour validation").click()
    expect(flash(page).first).to_contain_text("Consultation envoyée pour validation")
    log_out(page)

    log_in(page, FACILITATOR)
    nav_link(page, "Consultations à valider").click()
    page.get_by_role("link", name="Entretien des espaces verts des écoles").click()
    page.get_by_role("button", name="Valider la consultation").click()
    expect(flash(page).first).to_contain_text("Consultation validée")
    log_out(page)

    log_in(page, BUYER)
    page.goto(f"/consultations/{tender_id}")
    page.get_by_role("button", name="Publier la consultation").click()
    expect(flash(page).first).to_contain_text("Consultation publiée.")
    with app.app_context():  # later: the answers deadline passes
        tender = db.session.get(Tender, tender_id)
        tender.questions_deadline, tender.answers_deadline = utcnow() - timedelta(days=2), utcnow() - timedelta(minutes=1)
        db.session.commit()
    page.goto(f"/consultations/{tender_id}")
    check_page(page, "consultation clôturée")
    page.get_by_role("link", name="Attribuer ou déclarer infructueux le lot 1").click()
    page.get_by_label("Chercher le titulaire dans l'annuaire (nom ou SIRET)").fill("collecterie")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_label("La Collecterie").check(force=True)
    page.get_by_label("Montant attribué (€ HT)").fill("690000")
    page.get_by_label("Date d'attribution").fill(today().isoformat())
    page.get_by_label("Nombre d'offres reçues").first.fill("3")
    page.get_by_role("button", name="Enregistrer l'attribution").click()
    expect(flash(page).first).to_contain_text("Lot 1 attribué à La Collecterie")
    page.get_by_role("link", name="Attribuer ou déclarer infructueux le lot 2").click()
    page.get_by_label("Motif").fill("Aucune offre conforme.")
    page.get_by_role("button", name="Déclarer infructueux").click()
    expect(page.get_by_text("la consultation est « Attribuée »")).to_be_visible()
    check_page(page, "consultation attribuée")
    with app.app_context():
        tender = db.session.get(Tender, tender_id)
        assert tender.status == TenderStatus.AWARDED
        assert [lot.status for lot in tender.lots] == ["awarded", "unsuccessful"]
