"""The buyer's funnel: counts per lot computed here from the rows written, the page and its exports (parsed back
with csv and openpyxl), the message to the interested structures, the re-notification limits (twice per lot and
group, a week apart, before the deadline) on both sides of each boundary, and who may see it."""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from marche.accounts.models import User
from marche.core.errors import DomainError
from marche.core.filters import fr_datetime
from marche.core.models import utcnow
from marche.extensions import db
from marche.tenders import funnel
from marche.tenders.answers import NOT_INTERESTED_REASONS
from marche.tenders.models import Interest, LotRenotification, LotResponse, Tender
from tests.conftest import csrf_token, login, page_text
from tests.tenders.relay_fixtures import build, publish, recipients, submitted_tender

#: name -> (viewed, interest, reason, answered): what each matching structure did on the lot
STORY = {
    "Atelier A": (True, Interest.INTERESTED, None, True),
    "Bâtisseurs B": (True, Interest.INTERESTED, None, False),
    "Chantier C": (True, Interest.NOT_INTERESTED, "too_large", False),
    "Débroussaille D": (True, None, None, False),
}


@pytest.fixture
def story(app, make_user):
    """The world, its tender published (the relay notified A, B, C, D), then each structure's steps."""
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        world = build(make_user)
        tender_id = submitted_tender(world)
        publish(world, tender_id)
        lot_id = db.session.get(Tender, tender_id).lots[0].id
        now = utcnow()
        for name, (viewed, interest, reason, answered) in STORY.items():
            response = db.session.execute(select(LotResponse).where(
                LotResponse.lot_id == lot_id, LotResponse.structure_id == world.structures[name])).scalar_one()
            response.viewed_at = now if viewed else None
            response.interest, response.interest_at = interest, now if interest else None
            response.reason_code = reason
            response.answered_at = now if answered else None
        db.session.commit()
        db.session.remove()
    return world, tender_id, lot_id


def expected_counts() -> dict[str, int]:
    return {"notified": len(STORY), "viewed": sum(1 for v, *_ in STORY.values() if v),
            "interested": sum(1 for _, i, *_ in STORY.values() if i == Interest.INTERESTED),
            "not_interested": sum(1 for _, i, *_ in STORY.values() if i == Interest.NOT_INTERESTED),
            "answered": sum(1 for *_, a in STORY.values() if a)}


def buyer_client(app):
    client = app.test_client()
    login(client, "acheteur@lille.example.fr")
    return client


def test_the_funnel_counts_each_stage_and_each_reason(app, story):
    world, tender_id, lot_id = story
    with app.app_context():
        lot_funnel = funnel.lot_funnel(db.session.get(Tender, tender_id).lots[0])
        assert lot_funnel.counts == expected_counts()
        assert lot_funnel.reasons == sorted(Counter(r for _, i, r, _ in STORY.values()
                                                    if i == Interest.NOT_INTERESTED).items())
    page = buyer_client(app).get(f"/consultations/{tender_id}/reponses")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for stage, count in expected_counts().items():
        assert f'data-count="{stage}">{count}<' in html
    # the reason as the structure chose it, in words
    assert f'data-reason="too_large">{NOT_INTERESTED_REASONS["too_large"]}<' in html
    # the tender page links the buyer to it
    assert f"/consultations/{tender_id}/reponses" in buyer_client(app).get(f"/consultations/{tender_id}").get_data(as_text=True)


def test_the_exports_parse_back_with_one_line_per_structure(app, story):
    world, tender_id, _ = story
    client = buyer_client(app)
    expected = sorted(STORY)
    response = client.get(f"/consultations/{tender_id}/reponses/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == funnel.EXPORT_HEADERS
    assert sorted(row[1] for row in rows[1:]) == expected
    interest = {row[1]: row[5] for row in rows[1:]}
    assert interest["Chantier C"] == "Pas intéressée" and interest["Atelier A"] == "Intéressée"
    assert {row[1]: row[7] for row in rows[1:]}["Chantier C"] == NOT_INTERESTED_REASONS["too_large"]
    assert {row[1] for row in rows[1:] if row[9]} == {n for n, (*_, a) in STORY.items() if a}
    workbook = load_workbook(io.BytesIO(client.get(f"/consultations/{tender_id}/reponses/export.xlsx").get_data()))
    sheet_rows = list(workbook.active.iter_rows(values_only=True))
    assert list(sheet_rows[0]) == funnel.EXPORT_HEADERS
    assert sorted(row[1] for row in sheet_rows[1:]) == expected
    assert client.get(f"/consultations/{tender_id}/reponses/export.pdf").status_code == 404


def test_only_the_buyers_members_see_the_funnel(app, story, make_user):
    world, tender_id, lot_id = story
    make_user("autre@roubaix.example.fr", name="Ville de Roubaix")
    paths = [f"/consultations/{tender_id}/reponses", f"/consultations/{tender_id}/reponses/export.csv"]
    anonymous = app.test_client()
    for path in paths:
        assert "/connexion" in anonymous.get(path).headers["Location"]
    for email in ("autre@roubaix.example.fr", "a@a.example.fr"):
        client = app.test_client()
        login(client, email)
        for path in paths:
            assert client.get(path).status_code == 404
        token = csrf_token(client.get("/").get_data(as_text=True))
        for action in ("contacter", "relancer"):
            assert client.post(f"/consultations/{tender_id}/lots/{lot_id}/reponses/{action}",
                               data={"csrf_token": token}).status_code == 404
    # a tender that does not exist answers the same
    assert buyer_client(app).get("/consultations/999999/reponses").status_code == 404


def test_the_buyer_writes_to_the_interested_structures_with_its_contact_as_reply_to(app, story, mailbox):
    world, tender_id, lot_id = story
    client = buyer_client(app)
    page = client.get(f"/consultations/{tender_id}/reponses")
    html = page_text(page)
    assert "a@a.example.fr" in html and "b@b.example.fr" in html and "c@c.example.fr" not in html
    mailbox.clear()
    url = f"/consultations/{tender_id}/lots/{lot_id}/reponses/contacter"
    empty = client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)), f"contact-{lot_id}-message": " "})
    assert empty.status_code == 400 and "Message : ce champ est obligatoire." in page_text(empty)
    sent = client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                  f"contact-{lot_id}-message": "Visite du site <mardi> à 10 h"})
    assert sent.status_code == 302
    interested = sorted(a for n, (_, i, *_) in STORY.items() if i == Interest.INTERESTED for a in world.members[n])
    assert recipients(mailbox, "Message de") == interested
    message = mailbox.last_to("a@a.example.fr")
    assert message["Reply-To"] == "marches@lille.example.fr"
    assert "Visite du site <mardi> à 10 h" in mailbox.body(message)
    assert "&lt;mardi&gt;" in message.get_body(preferencelist=("html",)).get_content()


def test_renotification_twice_at_most_a_week_apart_before_the_deadline(app, story, mailbox):
    world, tender_id, lot_id = story
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        tender = db.session.get(Tender, tender_id)
        tender.answers_deadline = utcnow() + timedelta(days=30)
        db.session.commit()
        buyer, lot = db.session.get(User, world.buyer), db.session.get(Tender, tender_id).lots[0]
        start = utcnow()
        mailbox.clear()
        first = funnel.renotify(buyer, lot, "notified", "Il reste trois semaines.", now=start)
        db.session.commit()
        # « notified »: notified, no interest declared (D only; A, B interested, C declined)
        no_interest = sorted(a for n, (_, i, *_) in STORY.items() if i is None for a in world.members[n])
        assert recipients(mailbox, "Message de") == no_interest and first.recipients == len(no_interest)

        week = start + timedelta(days=7)
        with pytest.raises(DomainError) as refused:
            funnel.renotify(buyer, lot, "notified", "Encore.", now=week - timedelta(seconds=1))
        db.session.rollback()
        assert f"Prochaine relance possible le {fr_datetime(week)}" in refused.value.message
        # another group has its own count
        funnel.renotify(buyer, lot, "interested", "Merci de votre intérêt.", now=start + timedelta(hours=1))
        db.session.commit()
        funnel.renotify(buyer, lot, "notified", "Dernière relance.", now=week)
        db.session.commit()
        with pytest.raises(DomainError) as third:
            funnel.renotify(buyer, lot, "notified", "Une troisième.", now=week + timedelta(days=7))
        db.session.rollback()
        assert "aucune autre relance n'est possible" in third.value.message
        sent = Counter(db.session.execute(select(LotRenotification.group)
                                          .where(LotRenotification.lot_id == lot_id)).scalars())
        assert sent == {"notified": funnel.MAX_RENOTIFICATIONS, "interested": 1}
        assert funnel.next_renotification(lot, "notified", week) is None
        assert funnel.next_renotification(lot, "interested", start + timedelta(hours=1)) == start + timedelta(
            hours=1, days=7)
        # after the deadline, even a group never re-notified is refused
        deadline = db.session.get(Tender, tender_id).answers_deadline
        with pytest.raises(DomainError) as late:
            funnel.renotify(buyer, lot, "viewed", "Trop tard.", now=deadline)
        assert "date limite" in late.value.message
        db.session.rollback()
        funnel.renotify(buyer, lot, "viewed", "Juste à temps.", now=deadline - timedelta(seconds=1))
        db.session.rollback()


def test_a_refused_renotification_through_the_page_names_the_date_and_changes_nothing(app, story, mailbox):
    world, tender_id, lot_id = story
    client = buyer_client(app)
    url = f"/consultations/{tender_id}/lots/{lot_id}/reponses/relancer"
    token = csrf_token(client.get(f"/consultations/{tender_id}/reponses").get_data(as_text=True))
    data = {"csrf_token": token, f"renotify-{lot_id}-group": "viewed", f"renotify-{lot_id}-message": "Relance"}
    mailbox.clear()
    assert client.post(url, data=data).status_code == 302
    viewed_no_interest = sorted(a for n, (v, i, *_) in STORY.items() if v and i is None for a in world.members[n])
    assert recipients(mailbox, "Message de") == viewed_no_interest
    with app.app_context():
        sent_at = db.session.execute(select(LotRenotification.sent_at)).scalar_one()
    again = client.post(url, data=data)
    assert again.status_code == 400
    assert f"Prochaine relance possible le {fr_datetime(sent_at + funnel.RENOTIFY_INTERVAL)}" in page_text(again)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(LotRenotification)) == 1
