"""Organisations, memberships and join requests; hidden objects answer 404."""
from sqlalchemy import func, select

from marche.accounts.models import JoinRequest, Membership, Organisation
from marche.extensions import db
from tests.conftest import VALID_SIRETS, login, submit


def org_id_of(app, siret):
    with app.app_context():
        return db.session.execute(select(Organisation.id).where(Organisation.siret == siret)).scalar_one()


def test_join_request_approved_by_admin(app, make_user, mailbox):
    make_user("admin@ville.fr", siret=VALID_SIRETS[20])
    make_user("newcomer@example.fr", kind="private_company", siret=VALID_SIRETS[21], name="Autre")
    org_id = org_id_of(app, VALID_SIRETS[20])

    newcomer = app.test_client()
    login(newcomer, "newcomer@example.fr")
    # Not a member: the organisation page is hidden.
    assert newcomer.get(f"/organisations/{org_id}").status_code == 404
    response = submit(newcomer, "/organisations/rejoindre", {"siret": VALID_SIRETS[20], "message": "Bonjour"})
    assert response.status_code == 302
    assert mailbox.last_to("admin@ville.fr")["Subject"] == "Demande pour rejoindre Ville de Test"

    # A second request for the same organisation: clear message, no duplicate.
    again = submit(newcomer, "/organisations/rejoindre", {"siret": VALID_SIRETS[20]})
    assert "déjà en attente" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JoinRequest)) == 1
        request_id = db.session.execute(select(JoinRequest.id)).scalar_one()

    # The newcomer cannot approve their own request.
    assert submit(newcomer, f"/organisations/{org_id}/demandes/{request_id}", {"decision": "approve"},
                  form_url="/compte").status_code == 404

    admin = app.test_client()
    login(admin, "admin@ville.fr")
    page = admin.get(f"/organisations/{org_id}").get_data(as_text=True)
    assert "newcomer@example.fr" in page
    assert submit(admin, f"/organisations/{org_id}/demandes/{request_id}", {"decision": "approve"},
                  form_url=f"/organisations/{org_id}").status_code == 302
    assert mailbox.last_to("newcomer@example.fr")["Subject"].startswith("Votre demande")
    assert newcomer.get(f"/organisations/{org_id}").status_code == 200

    # Already a member: a clear message, nothing duplicated.
    member_again = submit(newcomer, "/organisations/rejoindre", {"siret": VALID_SIRETS[20]})
    assert "déjà membre" in member_again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Membership).where(Membership.organisation_id == org_id)) == 2


def test_join_unknown_or_invalid_siret(app, client, make_user):
    make_user("someone@example.fr")
    login(client, "someone@example.fr")
    invalid = submit(client, "/organisations/rejoindre", {"siret": "11111111111112"})
    assert "SIRET invalide" in invalid.get_data(as_text=True)
    unknown = submit(client, "/organisations/rejoindre", {"siret": VALID_SIRETS[40]})
    assert "Aucune organisation inscrite avec ce SIRET" in unknown.get_data(as_text=True)


def test_member_cannot_manage_and_last_admin_is_kept(app, make_user):
    make_user("admin@ville.fr", siret=VALID_SIRETS[22])
    org_id = org_id_of(app, VALID_SIRETS[22])
    admin = app.test_client()
    login(admin, "admin@ville.fr")
    with app.app_context():
        membership_id = db.session.execute(select(Membership.id)).scalar_one()
    response = submit(admin, f"/organisations/{org_id}/membres/{membership_id}/role", {"role": "member"},
                      form_url=f"/organisations/{org_id}")
    assert response.status_code == 302
    follow = admin.get(f"/organisations/{org_id}").get_data(as_text=True)
    assert "au moins un administrateur" in follow
    with app.app_context():
        assert db.session.get(Membership, membership_id).role == "admin"


def test_create_second_organisation_refuses_existing_siret(app, client, make_user):
    make_user("a@example.fr", siret=VALID_SIRETS[23])
    login(client, "a@example.fr")
    response = submit(client, "/organisations/nouvelle", {
        "kind": "facilitator", "organisation_name": "PLIE Test", "siret": VALID_SIRETS[23], "facilitator_kind": "plie"})
    assert "existe déjà avec ce SIRET" in response.get_data(as_text=True)
    ok = submit(client, "/organisations/nouvelle", {
        "kind": "facilitator", "organisation_name": "PLIE Test", "siret": VALID_SIRETS[24], "facilitator_kind": "plie",
        "territories": "dep:59"})
    assert ok.status_code == 302
    with app.app_context():
        plie = db.session.execute(select(Organisation).where(Organisation.siret == VALID_SIRETS[24])).scalar_one()
        assert plie.territories == ["dep:59"] and plie.kind == "facilitator"


def test_password_reset_link_works_once(app, client, make_user, mailbox):
    make_user("forgot@example.fr")
    assert submit(client, "/mot-de-passe-oublie", {"email": "forgot@example.fr"}).status_code == 302
    link = mailbox.link_to("forgot@example.fr", "/mot-de-passe/").replace("http://localhost", "")
    response = submit(client, link, {"password": "nouveau-secret-42", "password_confirm": "nouveau-secret-42"})
    assert response.status_code == 302
    assert login(client, "forgot@example.fr", "nouveau-secret-42").status_code == 302
    assert client.get(link).status_code == 400  # used: the password hash changed


def test_unknown_address_reset_says_nothing_specific(client, mailbox):
    response = submit(client, "/mot-de-passe-oublie", {"email": "personne@example.fr"}, follow_redirects=True)
    assert "Si un compte existe" in response.get_data(as_text=True)
    assert len(mailbox) == 0


def test_change_password(client, make_user):
    make_user("c@example.fr")
    login(client, "c@example.fr")
    wrong = submit(client, "/compte/mot-de-passe", {"current_password": "faux", "password": "nouveau-secret-42",
                                                   "password_confirm": "nouveau-secret-42"})
    assert "Le mot de passe actuel est incorrect." in wrong.get_data(as_text=True)
    ok = submit(client, "/compte/mot-de-passe", {"current_password": "motdepasse-solide-1",
                                                "password": "nouveau-secret-42", "password_confirm": "nouveau-secret-42"})
    assert ok.status_code == 302


def test_mail_links_ignore_the_host_header(client, make_user, mailbox):
    """A forged Host header must not put the reset token on someone else's domain."""
    make_user("victim@example.fr")
    page = client.get("/mot-de-passe-oublie", headers={"Host": "evil.example"})
    from tests.conftest import csrf_token

    client.post("/mot-de-passe-oublie", data={"email": "victim@example.fr", "csrf_token": csrf_token(page.get_data(as_text=True))},
                headers={"Host": "evil.example"})
    body = mailbox.body(mailbox.last_to("victim@example.fr"))
    assert "evil.example" not in body
    assert "http://localhost/mot-de-passe/" in body
