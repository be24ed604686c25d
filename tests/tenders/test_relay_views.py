"""The relay's pages: the one-click unsubscribe link of a real relay mail (page, form POST, RFC 8058 POST), a
tampered token answering 404, and the preferences page of the structure's organisation members."""
from __future__ import annotations

import pytest

from marche.extensions import db
from marche.tenders import relay
from tests.conftest import csrf_token, login, page_text, submit
from tests.tenders.relay_fixtures import build, publish, recipients, submitted_tender

A_SIRET = "80000000000000"  # « Atelier A » of relay_fixtures (index 0)


@pytest.fixture
def world(app, make_user):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        built = build(make_user)
        db.session.remove()
    return built


def relay_mails_on(app, structure_id: int) -> bool:
    with app.app_context():
        return relay.relay_mails_on(db.session, structure_id)


def publish_one(app, world, title: str) -> None:
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        publish(world, submitted_tender(world, title=title))
        db.session.remove()


def test_the_link_of_a_relay_mail_unsubscribes_after_a_confirmation(app, client, world, mailbox):
    publish_one(app, world, "Tonte des pelouses")
    link = mailbox.link_to("a@a.example.fr", "/diffusion/desabonnement/")
    path = link.removeprefix(app.config["BASE_URL"])
    page = client.get(path)
    assert page.status_code == 200 and "Ne plus recevoir ces e-mails" in page_text(page)
    assert relay_mails_on(app, world.structures["Atelier A"])  # a GET (a link scanner) changes nothing
    # the page's form (the signed token is the proof: RFC 8058 clients post without a form, see below)
    done = client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert done.status_code == 302
    assert not relay_mails_on(app, world.structures["Atelier A"])
    assert "ne reçoit plus" in page_text(client.get(path))
    # the next tender reaches everyone but A
    mailbox.clear()
    publish_one(app, world, "Taille des haies")
    assert "a@a.example.fr" not in recipients(mailbox, "Nouvelle consultation")
    assert "b@b.example.fr" in recipients(mailbox, "Nouvelle consultation")


def test_the_one_click_post_of_a_mail_client_unsubscribes(app, client, world, mailbox):
    publish_one(app, world, "Tonte des pelouses")
    header = mailbox.last_to("b@b.example.fr")["List-Unsubscribe"].strip("<>")
    response = client.post(header.removeprefix(app.config["BASE_URL"]), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    assert not relay_mails_on(app, world.structures["Bâtisseurs B"])
    assert relay_mails_on(app, world.structures["Atelier A"])


def test_a_tampered_or_foreign_token_is_404(app, client, world):
    with app.app_context():
        token = relay.unsubscribe_token(world.structures["Atelier A"])
        from itsdangerous import URLSafeSerializer

        forged = URLSafeSerializer("pas-la-cle", salt=relay.UNSUBSCRIBE_PURPOSE).dumps({"sid": world.structures["Atelier A"]})
        other_purpose = URLSafeSerializer(app.config["SECRET_KEY"], salt="marche-confirm-email").dumps(
            {"sid": world.structures["Atelier A"]})
        missing = relay.unsubscribe_token(999_999)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, forged, other_purpose, missing, "x"):
        assert client.get(f"/diffusion/desabonnement/{bad}").status_code == 404
        assert client.post(f"/diffusion/desabonnement/{bad}", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert relay_mails_on(app, world.structures["Atelier A"])


def test_the_members_switch_relay_mails_back_on_and_nobody_else_can(app, client, world, make_user):
    with app.app_context():
        relay.set_relay_mails(db.session, world.structures["Atelier A"], False)
        db.session.commit()
    url = f"/structures/{A_SIRET}/diffusion-des-consultations"
    # anonymous → the login page; another structure's member and a buyer → 404
    assert "/connexion" in client.get(url).headers["Location"]
    for email in ("b@b.example.fr", "acheteur@lille.example.fr"):
        other = app.test_client()
        login(other, email)
        assert other.get(url).status_code == 404
        token = csrf_token(other.get("/").get_data(as_text=True))
        assert other.post(url, data={"relay_mails": "y", "csrf_token": token}).status_code == 404
    assert not relay_mails_on(app, world.structures["Atelier A"])
    login(client, "a@a.example.fr")
    page = client.get(url)
    assert page.status_code == 200 and 'name="relay_mails"' in page.get_data(as_text=True)
    assert "checked" not in page.get_data(as_text=True).split('name="relay_mails"')[1].split(">")[0]
    response = submit(client, url, {"relay_mails": "y"})
    assert response.status_code == 302
    assert relay_mails_on(app, world.structures["Atelier A"])
    # the profile's edit page links to it
    assert "/diffusion-des-consultations" in client.get(f"/structures/{A_SIRET}/modifier").get_data(as_text=True)
