"""The watch: saved searches at /veille (owner only, others 404), saved from the search page with their
arguments checked by the tender search's parser, and their mails through the real SMTP fixture: immediate,
daily and weekly digests list the new matches only, and never the same tender twice."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marche.accounts.models import OrganisationKind, User
from marche.core.models import utcnow
from marche.extensions import db
from marche.search.indexer import wait_for_pending
from marche.tenders import watch
from marche.tenders.models import SavedSearch, SavedSearchDelivery, Tender
from tests.conftest import csrf_token, login, page_text, submit
from tests.tenders.public_tenders import NOW, add_tender, clauses
from tests.tenders.tender_search_data import build_tenders

OWNER, OTHER = "veille@example.fr", "autre@example.fr"


@pytest.fixture
def data(app):
    """The tenders, built in a context of their own: a test client's requests must not share it (flask_login
    keeps the current user in the application context's `g`)."""
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        ids = build_tenders()
        wait_for_pending()
        db.session.remove()
    return ids


@pytest.fixture
def owner(make_user):
    return make_user(OWNER, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Atelier de test")


def save_from_search(client, args: list[tuple[str, str]], name: str = "SIAE du Nord"):
    page = client.get("/consultations/recherche")
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "name": name}
    form = [(f"arg_{k}", v) for k, v in args] + list(data.items())
    return client.post("/veille/nouvelle", data=form_multi(form))


def form_multi(pairs):
    from werkzeug.datastructures import MultiDict

    return MultiDict(pairs)


def test_save_the_current_search_then_edit_and_delete_it(client, app, data, owner):
    login(client, OWNER)
    page = page_text(client.get("/consultations/recherche?reserved=siae&territory=dep:59"))
    assert "Enregistrer cette recherche" in page and 'name="arg_reserved" value="siae"' in page
    response = save_from_search(client, [("reserved", "siae"), ("territory", "dep:59")])
    assert response.status_code == 302 and "/veille/" in response.headers["Location"]
    with app.app_context():
        saved = db.session.execute(select(SavedSearch)).scalar_one()
        assert saved.args == [["reserved", "siae"], ["territory", "dep:59"]] and saved.frequency == "daily"
        assert len(saved.feed_token) >= 40
        saved_id = saved.id
    assert "SIAE du Nord" in page_text(client.get("/veille"))
    edit = f"/veille/{saved_id}"
    response = submit(client, edit, {"name": "SIAE du Nord", "frequency": "hourly"})
    assert response.status_code == 400 and "Fréquence" in page_text(response)
    response = submit(client, edit, {"name": " ", "frequency": "weekly"})
    assert response.status_code == 400 and "Nom : indiquez un nom" in page_text(response)
    assert submit(client, edit, {"name": "Nord", "frequency": "weekly"}).status_code == 302
    with app.app_context():
        assert db.session.get(SavedSearch, saved_id).frequency == "weekly"
    assert submit(client, f"/veille/{saved_id}/supprimer", {}, form_url=edit).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SavedSearch)) == 0


def test_invalid_arguments_are_refused_with_the_field_named(client, app, data, owner):
    login(client, OWNER)
    response = save_from_search(client, [("reserved", "everyone")])
    assert response.status_code == 302
    assert "Critère « reserved »" in page_text(client.get("/veille"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SavedSearch)) == 0
        with pytest.raises(watch.WatchError) as error:
            watch.checked_args([("territory", "dep:999")])
        assert error.value.field == "territory"


def test_only_the_owner_sees_edits_or_deletes(client, app, data, owner, make_user):
    make_user(OTHER)
    with app.app_context():
        saved = watch.create(owner, "À moi", [("q", "nettoyage")])
        db.session.commit()
        saved_id = saved.id
    assert client.get(f"/veille/{saved_id}").status_code == 302  # anonymous: the login page
    login(client, OTHER)
    assert client.get(f"/veille/{saved_id}").status_code == 404
    token = csrf_token(client.get("/veille").get_data(as_text=True))
    assert client.post(f"/veille/{saved_id}", data={"csrf_token": token, "name": "x",
                                                    "frequency": "never"}).status_code == 404
    assert client.post(f"/veille/{saved_id}/supprimer", data={"csrf_token": token}).status_code == 404
    assert "À moi" not in page_text(client.get("/veille"))
    with app.app_context():
        assert db.session.get(SavedSearch, saved_id).name == "À moi"


def _saved(owner: int, args, frequency: str, since_days: float) -> int:
    saved = watch.create(owner, "Veille", args, frequency)
    saved.last_digest_at = utcnow() - timedelta(days=since_days)
    db.session.commit()
    return saved.id


def test_daily_digest_lists_new_matches_once(app_ctx, data, owner, mailbox):
    saved_id = _saved(owner, [("reserved", "siae")], "daily", 2)
    not_due = _saved(owner, [("q", "nettoyage")], "daily", 0.5)  # mailed an hour ago: not due yet
    assert watch.send_digests("daily") == 1
    db.session.commit()
    assert len(mailbox) == 1
    body = mailbox[0].get_body(preferencelist=("plain",)).get_content()
    assert mailbox[0]["To"] == OWNER and "2 nouvelles consultations" in mailbox[0]["Subject"]
    assert "Nettoyage des locaux" in body and "Restauration collective" in body and "voirie" not in body
    assert f"/consultations/{data['cleaning']}" in body
    delivered = set(db.session.execute(select(SavedSearchDelivery.tender_id)
                                       .where(SavedSearchDelivery.saved_search_id == saved_id)).scalars())
    assert delivered == {data["cleaning"], data["catering"]}
    assert not db.session.execute(select(SavedSearchDelivery).where(
        SavedSearchDelivery.saved_search_id == not_due)).first()
    # due again a day later, with one more matching tender and the two already sent still "new"
    db.session.get(SavedSearch, saved_id).last_digest_at = utcnow() - timedelta(days=3)
    fresh = add_tender(data["lille"], "Blanchisserie", lots=[{"clauses": clauses(reservation="both")}])
    db.session.execute(db.update(Tender).where(Tender.id == fresh).values(published_at=utcnow()))
    db.session.commit()
    wait_for_pending()
    mailbox.clear()
    assert watch.send_digests("daily") == 1
    db.session.commit()
    body = mailbox[0].get_body(preferencelist=("plain",)).get_content()
    assert "Blanchisserie" in body and "Nettoyage des locaux" not in body and "1 nouvelle consultation" in \
        mailbox[0]["Subject"]
    # nothing new: no mail at all
    db.session.get(SavedSearch, saved_id).last_digest_at = utcnow() - timedelta(days=3)
    db.session.commit()
    mailbox.clear()
    assert watch.send_digests("daily") == 0
    db.session.commit()
    assert mailbox == []


def test_weekly_waits_a_week_and_immediate_mails_each_new_tender(app_ctx, data, owner, mailbox):
    _saved(owner, [("kind", "quote_request")], "weekly", 6)
    assert watch.send_digests("weekly") == 0
    immediate = _saved(owner, [("q", "voirie")], "immediate", 1)
    never = _saved(owner, [("q", "voirie")], "never", 10)
    assert watch.send_digests("immediate") == 1
    db.session.commit()
    assert [m["To"] for m in mailbox] == [OWNER] and "Travaux de voirie" in mailbox[0].get_body(
        preferencelist=("plain",)).get_content()
    assert db.session.get(SavedSearch, immediate).last_digest_at > NOW
    assert db.session.get(SavedSearch, never).last_digest_at < NOW  # a "never" search is never mailed
    mailbox.clear()
    assert watch.send_digests("immediate") == 0  # nothing published since
    db.session.commit()
    assert mailbox == []


def test_a_digest_skips_closed_and_hidden_tenders(app_ctx, data, owner, mailbox):
    _saved(owner, [("q", "nettoyage")], "daily", 30)
    assert watch.send_digests("daily") == 1
    db.session.commit()
    body = mailbox[0].get_body(preferencelist=("plain",)).get_content()
    assert "Nettoyage des locaux" in body
    for hidden in ("clôturé", "brouillon", "expiré", "annulé", "attribué"):
        assert hidden not in body
