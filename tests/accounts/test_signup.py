"""Signup, e-mail confirmation, login, logout; each refusal answers in French beside its field."""
import re

from sqlalchemy import func, select

from marche.accounts.models import JoinRequest, Organisation, User
from marche.core.models import AuditEntry
from marche.extensions import db
from tests.conftest import page_text, VALID_SIRETS, login, submit

SIGNUP = {
    "full_name": "Louise Petit", "email": "Louise.Petit@ville-exemple.fr", "password": "un-mot-de-passe-7",
    "password_confirm": "un-mot-de-passe-7", "kind": "public_buyer", "organisation_name": "Ville d'Exemple",
    "siret": VALID_SIRETS[10], "buyer_category": "local_authority", "accept_terms": "y",
}


def test_signup_creates_user_organisation_and_sends_confirmation(app, client, mailbox):
    response = submit(client, "/inscription", SIGNUP)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.email_confirmed_at is None
        assert user.organisation.siret == SIGNUP["siret"]
        assert user.primary_membership.role == "admin"
        actions = db.session.execute(select(AuditEntry.action)).scalars().all()
        assert "user.created" in actions and "organisation.created" in actions
    message = mailbox.last_to("louise.petit@ville-exemple.fr")
    assert message["Subject"] == "Confirmez votre adresse e-mail"
    assert message.get_body(preferencelist=("html",)) is not None

    # Not confirmed yet: login is refused with a way to get a new link.
    refused = submit(client, "/connexion", {"email": "louise.petit@ville-exemple.fr", "password": SIGNUP["password"]})
    assert refused.status_code == 403
    assert "Confirmez d'abord votre adresse" in page_text(refused)

    link = mailbox.link_to("louise.petit@ville-exemple.fr", "/compte/confirmer/")
    confirmed = client.get(link.replace("http://localhost", ""))
    assert confirmed.status_code == 302
    assert login(client, "LOUISE.PETIT@ville-exemple.fr", SIGNUP["password"]).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Louise Petit" in home and "Acheteur public" in home


def test_invalid_siret_is_shown_beside_the_field(client):
    response = submit(client, "/inscription", {**SIGNUP, "siret": "12345678901234"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'id="siret-erreurs"><p class="fr-error-text">SIRET invalide</p>', html)
    assert db_count(client.application, User) == 0


def test_duplicate_email_is_a_field_error_case_insensitive(client, make_user):
    make_user("louise.petit@ville-exemple.fr")
    response = submit(client, "/inscription", {**SIGNUP, "email": "LOUISE.PETIT@Ville-Exemple.fr",
                                               "siret": VALID_SIRETS[11]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="email-erreurs"' in html and "Un compte existe déjà avec cette adresse e-mail." in html
    assert db_count(client.application, User) == 1


def test_public_buyer_needs_a_category(client):
    response = submit(client, "/inscription", {**SIGNUP, "buyer_category": ""})
    assert "Choisissez la catégorie d'acheteur public." in page_text(response)


def test_weak_password_refused(client):
    response = submit(client, "/inscription", {**SIGNUP, "password": "abcdefghijkl", "password_confirm": "abcdefghijkl"})
    assert "lettres et chiffres" in response.get_data(as_text=True)
    assert db_count(client.application, User) == 0


def test_signup_with_existing_siret_sends_a_join_request(app, client, make_user, mailbox):
    make_user("admin@ville-exemple.fr", siret=SIGNUP["siret"])
    response = submit(client, "/inscription", SIGNUP, follow_redirects=True)
    assert "ses administrateurs ont reçu" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1
        join = db.session.execute(select(JoinRequest)).scalar_one()
        assert join.status == "pending"
    assert mailbox.last_to("admin@ville-exemple.fr")["Subject"].startswith("Demande pour rejoindre")


def test_tampered_or_expired_confirmation_offers_a_new_link(app, client, make_user, mailbox):
    submit(client, "/inscription", SIGNUP)
    link = mailbox.link_to(SIGNUP["email"], "/compte/confirmer/").replace("http://localhost", "")
    tampered = client.get(link[:-3] + "abc")
    assert tampered.status_code == 400
    body = page_text(tampered)
    assert "n'est pas valide" in body and "Recevoir un nouveau lien" in body

    app.config["TOKEN_MAX_AGE"] = -1
    try:
        expired = client.get(link)
    finally:
        app.config["TOKEN_MAX_AGE"] = 48 * 3600
    assert expired.status_code == 400 and "a expiré" in expired.get_data(as_text=True)

    mailbox.clear()
    resent = submit(client, "/compte/renvoyer-confirmation", {"email": SIGNUP["email"]}, form_url="/connexion")
    assert resent.status_code == 302
    new_link = mailbox.link_to(SIGNUP["email"], "/compte/confirmer/").replace("http://localhost", "")
    assert client.get(new_link).status_code == 302


def test_wrong_password_and_logout(client, make_user):
    make_user("a@example.fr")
    wrong = login(client, "a@example.fr", "pas-le-bon-mot")
    assert wrong.status_code == 200 and "incorrect" in wrong.get_data(as_text=True)
    assert login(client, "a@example.fr").status_code == 302
    assert client.get("/compte").status_code == 200
    assert submit(client, "/deconnexion", {}, form_url="/compte").status_code == 302
    assert client.get("/compte").status_code == 302  # back to the login page


def test_ten_failed_logins_in_a_minute_give_429(client, make_user):
    make_user("target@example.fr")
    for _ in range(10):
        assert login(client, "target@example.fr", "mauvais-mot-de-passe").status_code == 200
    blocked = login(client, "target@example.fr", "motdepasse-solide-1")
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.get_data(as_text=True)


def post_login(client, email, password, address):
    page = client.get("/connexion", environ_base={"REMOTE_ADDR": address})
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post("/connexion", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_failures_from_many_addresses_do_not_lock_the_owner_out(client, make_user):
    """Was: 10 failures from anywhere locked the account (an attacker could lock its owner out)."""
    make_user("target@example.fr")
    for i in range(10):
        assert post_login(client, "target@example.fr", "faux-faux-faux", f"10.0.0.{i}").status_code == 200
    assert post_login(client, "target@example.fr", "motdepasse-solide-1", "10.0.1.1").status_code == 302


def test_slow_global_guard_per_account(app, make_user):
    """50 failures in an hour on one account, from 50 addresses: the 51st attempt answers 429 from anywhere."""
    from marche.accounts.services import LOGIN_LIMITS

    make_user("target@example.fr")
    limit = LOGIN_LIMITS["account"][1]
    attacker = app.test_client()
    for i in range(limit - 1):
        assert post_login(attacker, "target@example.fr", "faux-faux-faux", f"10.1.{i // 200}.{i % 200}").status_code == 200
    owner = app.test_client()
    assert post_login(owner, "target@example.fr", "motdepasse-solide-1", "192.0.2.7").status_code == 302
    assert post_login(attacker, "target@example.fr", "faux-faux-faux", "10.2.0.1").status_code == 200
    blocked = post_login(app.test_client(), "target@example.fr", "motdepasse-solide-1", "192.0.2.8")
    assert blocked.status_code == 429 and "Trop de tentatives" in page_text(blocked)


def test_one_address_trying_many_accounts_is_slowed(app, make_user):
    from marche.accounts.services import LOGIN_LIMITS

    make_user("owner@example.fr")
    limit = LOGIN_LIMITS["address"][1]
    for i in range(limit):
        assert post_login(app.test_client(), f"victime{i}@example.fr", "faux-faux-faux", "10.9.9.9").status_code == 200
    assert post_login(app.test_client(), "owner@example.fr", "motdepasse-solide-1", "10.9.9.9").status_code == 429
    assert post_login(app.test_client(), "owner@example.fr", "motdepasse-solide-1", "10.9.9.10").status_code == 302


def test_forwarded_for_is_ignored_unless_configured(client, make_user):
    """An attacker cannot dodge the per-address limit by inventing X-Forwarded-For headers."""
    make_user("target@example.fr")
    for i in range(10):
        page = client.get("/connexion")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        client.post("/connexion", data={"email": "target@example.fr", "password": "faux", "csrf_token": token},
                    headers={"X-Forwarded-For": f"203.0.113.{i}"})
    assert login(client, "target@example.fr").status_code == 429


def test_forwarded_for_counts_when_one_proxy_is_configured(app_config, make_user):
    """Behind a configured proxy (PROXY_FIX_X_FOR=1) the forwarded address is the client's address."""
    from marche import create_app

    make_user("target@example.fr")
    behind_proxy = create_app({**app_config, "PROXY_FIX_X_FOR": "1"}).test_client()

    def attempt(password, client_address):
        page = behind_proxy.get("/connexion", headers={"X-Forwarded-For": client_address})
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        return behind_proxy.post("/connexion", data={"email": "target@example.fr", "password": password,
                                                     "csrf_token": token}, headers={"X-Forwarded-For": client_address})

    for _ in range(10):
        assert attempt("faux-faux-faux", "203.0.113.5").status_code == 200
    assert attempt("motdepasse-solide-1", "203.0.113.5").status_code == 429
    assert attempt("motdepasse-solide-1", "198.51.100.9").status_code == 302


def test_old_failures_are_purged_and_no_longer_count(app, client, make_user):
    from datetime import timedelta

    from marche.accounts.models import LoginFailure
    from marche.core.models import utcnow

    make_user("target@example.fr")
    with app.app_context():
        old = utcnow() - timedelta(hours=2)
        db.session.add_all([LoginFailure(account_key="target@example.fr", address="127.0.0.1", created_at=old)
                            for _ in range(60)])
        db.session.commit()
    assert login(client, "target@example.fr", "mauvais").status_code == 200  # counted once, old rows purged
    assert login(client, "target@example.fr").status_code == 302
    assert db_count(app, LoginFailure) == 1


def test_successful_logins_are_not_counted(client, make_user):
    make_user("busy@example.fr")
    for _ in range(12):
        assert login(client, "busy@example.fr").status_code == 302
        submit(client, "/deconnexion", {}, form_url="/compte")


def db_count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))
