"""End-to-end journeys in a real browser (chromium) against the live server.

Every page visited gets a full-page screenshot in test-artifacts/e2e/ and an axe-core check.
"""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from marche.extensions import db

PASSWORD = "motdepasse-solide-1"


def luhn_siret(prefix: str = "2159035010000") -> str:
    """Complete a 13-digit prefix with the digit that makes a valid SIRET (Luhn)."""
    from marche.core.identifiers import is_valid_siret

    for digit in "0123456789":
        if is_valid_siret(prefix + digit):
            return prefix + digit
    raise AssertionError(prefix)


def wait_for_mail(mailbox, address: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return mailbox.last_to(address)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def header(page: Page):
    return page.get_by_role("banner")


def main_nav(page: Page):
    return page.get_by_role("navigation", name="Menu principal")


def nav_link(page: Page, name: str):
    """A link of the main menu; the territory's work sits in the « Animation du territoire » drop-down, opened first."""
    link = main_nav(page).get_by_role("link", name=name)
    if not link.is_visible():
        main_nav(page).get_by_role("button", name="Animation du territoire").click()
    return link


def flash(page: Page):
    return page.get_by_role("main").get_by_role("status")


def fill_signup(page: Page, *, name: str, email: str, siret: str, organisation: str = "Ville de Testville") -> None:
    page.get_by_label("Prénom et nom").fill(name)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label(re.compile(r"^Mot de passe")).fill(PASSWORD)
    page.get_by_label("Confirmer le mot de passe").fill(PASSWORD)
    page.get_by_label("Type d'organisation").select_option(label="Acheteur public")
    page.get_by_label("Nom de l'organisation").fill(organisation)
    page.get_by_label(re.compile(r"^SIRET de l'organisation")).fill(siret)
    page.get_by_label(re.compile(r"^Catégorie d'acheteur public")).select_option(label="Collectivité territoriale")
    terms = page.get_by_label("J'accepte les conditions d'utilisation du portail")
    # DSFR draws the checkbox on its label (the input itself is covered): click the label, as a person does
    page.get_by_text("J'accepte les conditions d'utilisation du portail", exact=True).click()
    expect(terms).to_be_checked()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()


def log_out(page: Page) -> None:
    header(page).get_by_role("button", name="Se déconnecter").click()
    expect(flash(page)).to_contain_text("Vous êtes déconnecté.")
    expect(header(page).get_by_role("link", name="Se connecter")).to_be_visible()


def test_signup_confirm_login_logout(app, live_server, page: Page, mailbox, live_link, check_page):
    email = "camille.durand@example.fr"
    siret = luhn_siret()

    page.goto("/inscription")
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un compte")
    check_page(page, "inscription")
    fill_signup(page, name="Camille Durand", email=email, siret=siret, organisation="Ville de Testville")
    page.get_by_role("button", name="Créer mon compte").click()

    # redirected to the login page with the success message
    expect(page).to_have_url(re.compile(r"/connexion$"))
    expect(flash(page)).to_contain_text("Un e-mail de confirmation vient de vous être envoyé")
    check_page(page, "connexion-apres-inscription")

    # logging in before confirming is refused with a message asking to confirm
    log_in(page, email)
    expect(flash(page)).to_contain_text("Confirmez d'abord votre adresse e-mail")
    expect(page.get_by_role("button", name="Renvoyer le lien de confirmation")).to_be_visible()
    expect(header(page).get_by_role("link", name="Se connecter")).to_be_visible()
    check_page(page, "connexion-non-confirmee")

    # the confirmation e-mail really went through the SMTP server
    message = wait_for_mail(mailbox, email)
    assert "Confirmez" in message["Subject"]
    raw_link = mailbox.link_to(email, "/compte/confirmer/")
    link = live_link(mailbox, email, "/compte/confirmer/")
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/connexion$"))
    expect(flash(page)).to_contain_text("Votre adresse e-mail est confirmée")
    check_page(page, "confirmation")

    log_in(page, email)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(flash(page)).to_contain_text("Bienvenue, Camille Durand.")
    account = header(page).get_by_role("link", name=re.compile("Camille Durand"))
    expect(account).to_contain_text("Ville de Testville")
    expect(account).to_contain_text("(Acheteur public)")
    expect(main_nav(page).get_by_role("link", name="Mon organisation")).to_be_visible()
    expect(main_nav(page).get_by_role("link", name="Administration")).to_have_count(0)
    check_page(page, "accueil-connecte")

    account.click()
    expect(page).to_have_url(re.compile(r"/compte$"))
    expect(page.get_by_role("main")).to_contain_text("Rôle : Acheteur public")
    expect(page.get_by_role("main")).to_contain_text(f"{email} (confirmée)")
    check_page(page, "compte")

    main_nav(page).get_by_role("link", name="Mon organisation").click()
    expect(page).to_have_url(re.compile(r"/organisations/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ville de Testville")
    expect(page.get_by_role("main")).to_contain_text(siret)
    expect(page.get_by_role("main")).to_contain_text("Collectivité territoriale")
    expect(page.get_by_role("row", name=re.compile("Camille Durand"))).to_be_visible()
    check_page(page, "organisation")

    log_out(page)
    check_page(page, "accueil-deconnecte")
    # the e-mail's link is built on the signup request's host (today) or on BASE_URL; either way the
    # path is the one the live server just honoured
    assert urlsplit(raw_link).netloc in {urlsplit(live_server).netloc, urlsplit(app.config["BASE_URL"]).netloc}
    assert urlsplit(raw_link).path == urlsplit(link).path


DEMO_ROLES = [
    ("acheteur.public@demo.marche.local", "Acheteur public"),
    ("acheteur.prive@demo.marche.local", "Acheteur privé"),
    ("structure@demo.marche.local", "Structure inclusive"),
    ("facilitateur@demo.marche.local", "Facilitateur"),
    # a facilitator awaiting the platform's verification: same role, no power yet
    ("facilitateur.attente@demo.marche.local", "Facilitateur"),
    ("admin@demo.marche.local", "Administrateur"),
]


@pytest.fixture
def demo_accounts(app):
    from marche.demo import create_demo

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        logins = create_demo()
        db.session.commit()
        db.session.remove()
    return {entry["email"]: entry for entry in logins}


def test_demo_roles_header_and_navigation(page: Page, demo_accounts, check_page):
    assert {email for email, _ in DEMO_ROLES} == set(demo_accounts)
    for email, role in DEMO_ROLES:
        slug = email.split("@")[0].replace(".", "-")
        log_in(page, email, demo_accounts[email]["password"])
        expect(page).to_have_url(re.compile(r"/$"))
        account = header(page).get_by_role("link", name=re.compile(re.escape(f"({role})")))
        expect(account).to_be_visible()
        expect(page.get_by_role("main")).to_contain_text(f"Vous êtes connecté en tant que {role}")
        nav = main_nav(page)
        expect(nav.get_by_role("link", name="Mon compte")).to_be_visible()
        expect(nav.get_by_role("link", name="Mon organisation")).to_be_visible()
        admin_link = nav.get_by_role("link", name="Administration")
        check_page(page, f"accueil-{slug}")

        if role == "Administrateur":
            expect(admin_link).to_be_visible()
            admin_link.click()
            expect(page).to_have_url(re.compile(r"/admin/outbox$"))
            expect(admin_link).to_have_attribute("aria-current", "page")
            check_page(page, "administration")
        else:
            expect(admin_link).to_have_count(0)
            response = page.goto("/admin/outbox")
            assert response is not None and response.status == 404
            expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
            expect(page.get_by_role("main")).to_contain_text("Erreur 404")
            expect(page).to_have_title(re.compile("Page introuvable"))
            check_page(page, f"admin-404-{slug}")

        page.goto("/compte")
        expect(page.get_by_role("main")).to_contain_text(f"Rôle : {role}")
        check_page(page, f"compte-{slug}")
        log_out(page)


def test_signup_invalid_siret_shows_error_beside_field(page: Page, mailbox, check_page):
    page.goto("/inscription")
    fill_signup(page, name="Dominique Faux", email="dominique@example.fr", siret="12345678901234")
    page.get_by_role("button", name="Créer mon compte").click()

    expect(page).to_have_url(re.compile(r"/inscription$"))
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient des erreurs")
    siret = page.get_by_label(re.compile(r"^SIRET de l'organisation"))
    expect(siret).to_have_attribute("aria-invalid", "true")
    expect(siret).to_have_accessible_description("SIRET invalide")
    expect(siret).to_have_value("12345678901234")
    error = page.locator("#siret-erreurs")
    expect(error).to_have_text("SIRET invalide")
    # the message sits in the SIRET field's own group, right after the input
    expect(page.locator(".fr-input-group--error").filter(has=siret)).to_contain_text("SIRET invalide")
    expect(page.locator(".fr-input-group--error")).to_have_count(1)
    check_page(page, "inscription-siret-invalide")
    assert len(mailbox) == 0
