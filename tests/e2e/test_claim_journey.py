"""A structure signs up, is offered its profile, claims it; the territory's facilitator is mailed and
approves (after trying to refuse without a reason); the approval is mailed, « Ma fiche » appears in the
menu and leads to the edit page, which keeps typed text and shows every chosen sector. Desktop and
phone screenshots, axe on each page."""
from __future__ import annotations

import csv
import re

from playwright.sync_api import Page, expect
from sqlalchemy import text

from marche.cli import DATA_DIR
from marche.extensions import db
from marche.suppliers.importer import import_structures
from tests.conftest import VALID_SIRETS
from tests.e2e.test_journey import PASSWORD, flash, log_in, log_out, main_nav, nav_link, wait_for_mail

COLLECTERIE = "75187049400026"
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
KBIS = b"%PDF-1.7\n% extrait Kbis de la matrice\n%%EOF\n"


def both_sizes(page: Page, check_page, name: str) -> None:
    page.set_viewport_size(PHONE)
    check_page(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)
    check_page(page, f"{name}-1280")


def test_signup_offered_claim_facilitator_approves_ma_fiche(page: Page, app, make_user, mailbox, live_link,
                                                            check_page, browser_guard, tmp_path):
    with open(DATA_DIR / "structures_siae_geiq_ea.csv", newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["siret"] == COLLECTERIE)
    row = {**row, "naf": "8121Z", "description": "Ressourcerie et nettoyage de locaux à Montreuil"}
    path = tmp_path / "collecterie.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    make_user("plie93@example.fr", kind="facilitator", siret=VALID_SIRETS[41], name="PLIE Est Ensemble")
    with app.app_context():
        import_structures(path)
        db.session.execute(text("UPDATE organisation SET verification_status = 'verified', territories = '{dep:93}' "
                                "WHERE kind = 'facilitator'"))
        db.session.commit()
        db.session.remove()

    # signup of the structure, with the profile's SIRET
    page.set_viewport_size(DESKTOP)
    page.goto("/inscription")
    page.get_by_label("Prénom et nom").fill("Nadia Haddad")
    page.get_by_label("Adresse e-mail").fill("nadia@collecterie.fr")
    page.get_by_label(re.compile(r"^Mot de passe")).fill(PASSWORD)
    page.get_by_label("Confirmer le mot de passe").fill(PASSWORD)
    page.get_by_label("Type d'organisation").select_option(value="inclusive_structure")
    page.get_by_label("Nom de l'organisation").fill("La Collecterie")
    page.get_by_label(re.compile(r"^SIRET de l'organisation")).fill(COLLECTERIE)
    page.get_by_text("J'accepte les conditions d'utilisation du portail", exact=True).click()
    page.get_by_role("button", name="Créer mon compte").click()
    expect(flash(page).filter(has_text="la plateforme vous proposera de la revendiquer")).to_be_visible()
    check_page(page, "inscription-fiche-trouvee")

    wait_for_mail(mailbox, "nadia@collecterie.fr")
    page.goto(live_link(mailbox, "nadia@collecterie.fr", "/compte/confirmer/"))
    log_in(page, "nadia@collecterie.fr")
    expect(page).to_have_url(re.compile(r"/ma-fiche$"))
    expect(page.get_by_role("heading", name="Une fiche correspond à votre organisation")).to_be_visible()
    both_sizes(page, check_page, "fiche-proposee")

    # one click into the claim form, evidence step open
    page.get_by_role("link", name=re.compile("Revendiquer cette fiche")).click()
    page.get_by_text("Document (extrait Kbis, convention SIAE…)", exact=True).click()
    page.get_by_label(re.compile(r"^Document \(PDF, PNG ou JPEG")).set_input_files(
        files=[{"name": "kbis.pdf", "mimeType": "application/pdf", "buffer": KBIS}])
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(flash(page).filter(has_text="Votre demande est envoyée")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Demande en cours d'examen \(déposée le \d\d/\d\d/\d{4}\)"))).to_be_visible()
    both_sizes(page, check_page, "demande-en-cours")
    log_out(page)

    # the territory's facilitator is mailed, opens the claims page, must give a reason to refuse
    mail = wait_for_mail(mailbox, "plie93@example.fr")
    assert "Nadia Haddad (nadia@collecterie.fr), de « La Collecterie »" in mailbox.body(mail)
    log_in(page, "plie93@example.fr")
    nav_link(page, "Revendications").click()
    expect(page.get_by_text("nadia@collecterie.fr")).to_be_visible()
    both_sizes(page, check_page, "revendications")
    page.get_by_role("button", name="Refuser la demande pour La Collecterie").click()
    expect(page.get_by_text("Indiquez le motif du refus")).to_be_visible()
    check_page(page, "refus-sans-motif")
    page.get_by_role("button", name="Accepter la demande pour La Collecterie").click()
    expect(flash(page).filter(has_text="Demande acceptée")).to_be_visible()
    log_out(page)

    # the approval reaches the claimant, who finds « Ma fiche » in the menu
    approval = wait_for_mail(mailbox, "nadia@collecterie.fr")
    assert approval["Subject"] == "Votre demande pour la fiche La Collecterie"
    assert "Votre demande est acceptée" in mailbox.body(approval)
    log_in(page, "nadia@collecterie.fr")
    main_nav(page).get_by_role("link", name="Ma fiche").click()
    expect(page).to_have_url(re.compile(rf"/structures/{COLLECTERIE}/modifier$"))
    expect(page.get_by_text("Vos secteurs ont été déduits")).to_be_visible()

    # every chosen sector is shown in the tag box, none hidden behind a count
    chosen = page.locator("select#sectors option:checked").count()
    assert chosen >= 2
    control = page.locator("select#sectors + .ts-wrapper .ts-control")
    items = control.locator(".item")
    expect(items).to_have_count(chosen)
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        box = control.bounding_box()
        wrapper = page.locator("select#sectors + .ts-wrapper").bounding_box()
        for item in items.all():  # inside the box that draws it: not clipped, not scrolled away
            shown = item.bounding_box()
            for outer in (box, wrapper):
                assert outer["y"] - 1 <= shown["y"] and shown["y"] + shown["height"] <= outer["y"] + outer["height"] + 1
                assert outer["x"] - 1 <= shown["x"] and shown["x"] + shown["width"] <= outer["x"] + outer["width"] + 1
    both_sizes(page, check_page, "modifier-fiche")

    # typing in the profile, then sending another form: the browser asks first, nothing is lost
    page.get_by_label(re.compile(r"^Présentation")).fill("Collecte, tri et revente d'objets à Montreuil.")
    page.get_by_role("button", name="Ajouter le contact").click()
    page.wait_for_timeout(300)
    assert [d for d in browser_guard.dialogs if d.startswith("beforeunload")], browser_guard.dialogs
    browser_guard.dialogs.clear()  # the one dialog this page is meant to open (dismissed: we stay)
    expect(page.get_by_label(re.compile(r"^Présentation"))).to_have_value("Collecte, tri et revente d'objets à Montreuil.")
    page.get_by_role("button", name="Enregistrer la fiche").click()
    expect(flash(page).filter(has_text="La fiche est enregistrée.")).to_be_visible()
    assert not browser_guard.dialogs
