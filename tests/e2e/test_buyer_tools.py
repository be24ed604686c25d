"""Buyers' daily tools in Chromium, on a computer and a phone (axe on each page): a favourite added from a
search result card (htmx, the page stays), the public one-SIRET check, and a message to a structure
received over real SMTP, with the sender's copy."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from marche.extensions import db, limiter
from marche.suppliers.models import StructureContact
from tests.conftest import VALID_SIRETS
from tests.e2e.test_journey import log_in
from tests.suppliers.conftest import make_structure  # noqa: F401  (a fixture, used by `directory`)

COLLECTERIE = "75187049400026"
CONTACT = "nadia@collecterie.example.fr"
BUYER = "acheteuse@ville.example.fr"
SIZES = [pytest.param((1280, 900), id="ordinateur"), pytest.param((390, 844), id="telephone")]


@pytest.fixture
def directory(app, make_structure, make_user):
    from marche.search.indexer import reindex_all

    structure_id = make_structure(siret=COLLECTERIE, name="La Collecterie")
    make_structure(siret="44229377500019", name="Atelier du Bois", kinds=("EI",))
    with app.app_context():
        db.session.add(StructureContact(structure_id=structure_id, name="Nadia Haddad", email=CONTACT))
        db.session.commit()
        reindex_all()
    make_user(BUYER, name="Ville de Lille")
    limiter.reset()
    yield
    from sqlalchemy import text

    with app.app_context():
        db.session.execute(text("TRUNCATE structure CASCADE"))
        db.session.commit()
        reindex_all()


@pytest.mark.parametrize("size", SIZES)
def test_favourite_from_a_result_card(page: Page, directory, check_page, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    log_in(page, BUYER)
    page.goto("/structures?q=collecterie")
    card = page.locator("li").filter(has=page.get_by_role("link", name="La Collecterie", exact=True))
    button = card.get_by_role("button", name="Ajouter aux favoris : La Collecterie")
    expect(button).to_be_visible()
    check_page(page, "resultats")
    url = page.url
    button.click()
    expect(card.get_by_role("status")).to_have_text("Ajoutée à la liste « Mes favoris ».")
    expect(card.get_by_role("link", name="« Mes favoris »")).to_be_visible()
    assert page.url == url  # htmx replaced the card's control; the search stayed where it was
    check_page(page, "resultat-enregistre")
    page.reload()
    expect(card.get_by_text("Enregistrée dans")).to_be_visible()
    card.get_by_role("link", name="« Mes favoris »").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes favoris")
    expect(page.get_by_role("link", name="La Collecterie")).to_be_visible()
    check_page(page, "liste")


@pytest.mark.parametrize("size", SIZES)
def test_public_siret_check(page: Page, directory, check_page, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto("/")
    page.get_by_role("link", name="Ce fournisseur est-il inclusif ? Vérifiez un SIRET sans compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce fournisseur est-il inclusif ?")
    field = page.get_by_label("Numéro SIRET ou SIREN du fournisseur")
    field.fill("751 870 494 0002A")
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_text("Le numéro ne doit contenir que des chiffres")).to_be_visible()
    expect(field).to_have_value("751 870 494 0002A")
    check_page(page, "erreur")
    field.fill("751 870 494 00026")
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_role("heading", level=2, name="Oui : La Collecterie est une structure inclusive")).to_be_visible()
    check_page(page, "inclusive")
    page.get_by_role("link", name="La Collecterie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("La Collecterie")
    page.goto("/ce-fournisseur-est-il-inclusif")
    page.get_by_label("Numéro SIRET ou SIREN du fournisseur").fill(" ".join([VALID_SIRETS[5][:3], VALID_SIRETS[5][3:6], VALID_SIRETS[5][6:9], VALID_SIRETS[5][9:]]))
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_role("heading", level=2)).to_contain_text("Non trouvé")
    check_page(page, "non-trouve")


@pytest.mark.parametrize("size", SIZES)
def test_contact_message_received_over_smtp(page: Page, directory, check_page, mailbox, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    log_in(page, BUYER)
    page.goto(f"/structures/{COLLECTERIE}")
    page.get_by_role("link", name="Contacter la structure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacter La Collecterie")
    check_page(page, "formulaire")
    page.get_by_label("Objet").fill("Demande de devis")
    page.get_by_label("Message").fill("   ")
    page.get_by_role("button", name="Envoyer le message").click()
    expect(page.get_by_text("Écrivez votre message : il est vide.")).to_be_visible()
    expect(page.get_by_label("Objet")).to_have_value("Demande de devis")
    check_page(page, "message-vide")
    body = "Bonjour,\nPouvez-vous collecter nos encombrants en mars ?\n<b>Merci</b>"
    page.get_by_label("Message").fill(body)
    page.get_by_role("button", name="Envoyer le message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("La Collecterie")
    expect(page.get_by_text("Votre message est envoyé à La Collecterie")).to_be_visible()
    check_page(page, "envoye")
    received = mailbox.last_to(CONTACT)
    assert received["Reply-To"] == BUYER and received["Subject"] == "Message via Marché inclusif : Demande de devis"
    assert body in mailbox.body(received).replace("\r\n", "\n")
    assert body in mailbox.body(mailbox.last_to(BUYER)).replace("\r\n", "\n")


@pytest.mark.parametrize("size", SIZES)
def test_bulk_check_with_spend_share(page: Page, directory, check_page, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    log_in(page, BUYER)
    page.goto("/verifier-mes-fournisseurs")
    other = VALID_SIRETS[6]
    page.get_by_label("Numéros SIRET ou SIREN").fill(
        f"Fournisseur\tSIRET\tMontant\nLa Collecterie\t751 870 494 00026\t1 200,50\n"
        f"Imprimerie\t{other}\t2 801,50\nSans numéro\t\t10,00\n")
    page.get_by_role("button", name="Vérifier").click()
    # 1 200,50 inclusive out of 4 012,00 read: 29,9 %
    expect(page.get_by_role("heading", name="Part inclusive de la dépense : 29,9 %")).to_be_visible()
    expect(page.get_by_text("2 fournisseurs distincts (par SIREN), dont 1 inclusif.")).to_be_visible()
    check_page(page, "part-inclusive")
