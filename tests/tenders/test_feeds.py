"""The private feeds: the Atom feed of a saved search (valid Atom, read back with xml.etree) and the iCalendar
feed of the deadlines a structure is interested in (RFC 5545: CRLF, lines folded at 75 octets, escaped text,
UID, DTSTAMP, DTSTART in UTC, read back with a small parser written here); a wrong token answers 404."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta, timezone

import pytest
from sqlalchemy import select

from marche.accounts.models import OrganisationKind, User
from marche.extensions import db
from marche.search.indexer import wait_for_pending
from marche.tenders import watch
from marche.tenders.models import LotResponse, RelayPreference, Tender, TenderLot
from tests.conftest import login, page_text, submit
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)
from tests.tenders.public_tenders import NOW, add_tender
from tests.tenders.tender_search_data import build_tenders

ATOM = "{http://www.w3.org/2005/Atom}"
MEMBER = "membre@example.fr"


@pytest.fixture
def data(app):
    """The tenders, built in a context of their own: a test client's requests must not share it (flask_login
    keeps the current user in the application context's `g`)."""
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        ids = build_tenders()
        wait_for_pending()
        db.session.remove()
    return ids


def test_atom_feed_is_valid_and_lists_the_matches(client, app, data, make_user):
    owner = make_user("veille@example.fr")
    with app.app_context():
        saved = watch.create(owner, "Réservés & <SIAE>", [("reserved", "siae")], "never")
        db.session.commit()
        token = saved.feed_token
    response = client.get(f"/veille/flux/{token}.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Veille : Réservés & <SIAE>"  # escaped in the XML, read back whole
    assert feed.findtext(f"{ATOM}id") and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", feed.findtext(f"{ATOM}updated"))
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert sorted(e.findtext(f"{ATOM}title") for e in entries) == ["Nettoyage des locaux", "Restauration collective"]
    for entry in entries:
        assert entry.findtext(f"{ATOM}id") and entry.findtext(f"{ATOM}updated")
        link = entry.find(f"{ATOM}link").get("href")
        assert re.match(r"http://localhost/consultations/\d+$", link)
        assert client.get(link.replace("http://localhost", "")).status_code == 200
    ids = {e.findtext(f"{ATOM}id") for e in entries}
    assert len(ids) == 2  # unique entry ids


def test_tampered_tokens_answer_404(client, app, data, make_user):
    owner = make_user("veille@example.fr")
    with app.app_context():
        token = watch.create(owner, "x", [], "never").feed_token
        db.session.commit()
    assert client.get(f"/veille/flux/{token}.atom").status_code == 200
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:-1], "x" * 80, "x"):
        assert client.get(f"/veille/flux/{bad}.atom").status_code == 404
        assert client.get(f"/veille/calendrier/{bad}.ics").status_code == 404


def unfold(body: str) -> list[str]:
    """RFC 5545 3.1: every line ends with CRLF; a line starting with a space continues the previous one."""
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    physical = body[:-2].split("\r\n")
    for line in physical:
        assert len(line.encode("utf-8")) <= 75, line
    lines: list[str] = []
    for line in physical:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def parse_ical(body: str) -> list[dict[str, str]]:
    events, current = [], None
    for line in unfold(body):
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            current[name] = re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)
    return events


def test_calendar_of_interested_deadlines(client, app, data, make_user, make_structure):
    member = make_user(MEMBER, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Atelier")
    make_user("intrus@example.fr", kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Autre")
    with app.app_context():
        organisation_id = db.session.get(User, member).organisation.id
    structure = make_structure(siret="75187049400026", owner_organisation_id=organisation_id)
    with app.app_context():
        long_title = "Entretien; taille, et \\ tonte des espaces verts — lot « Écoles » " * 3
        tender = db.session.get(Tender, data["green"])
        tender.title = long_title[:250]
        for key in ("green", "catering", "closed"):
            lot = db.session.execute(select(TenderLot).where(TenderLot.tender_id == data[key])).scalars().first()
            db.session.add(LotResponse(lot_id=lot.id, structure_id=structure, interest="interested"))
        lot = db.session.execute(select(TenderLot).where(TenderLot.tender_id == data["waste"])).scalars().first()
        db.session.add(LotResponse(lot_id=lot.id, structure_id=structure, interest="not_interested", reason_code="other", reason_text="Trop loin"))
        db.session.commit()
    # another organisation's member cannot create the structure's token
    login(client, "intrus@example.fr")
    assert submit(client, f"/veille/calendrier/{structure}", {}, form_url="/veille").status_code == 404
    client2 = app.test_client()
    login(client2, MEMBER)
    page = page_text(client2.get("/veille"))
    assert "Créer le lien du calendrier" in page, page[page.find("<main"):][:3000]
    assert submit(client2, f"/veille/calendrier/{structure}", {}, form_url="/veille").status_code == 302
    with app.app_context():
        token = db.session.get(RelayPreference, structure).calendar_token
    assert token and token in page_text(client2.get("/veille"))
    response = client2.get(f"/veille/calendrier/{token}.ics")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/calendar")
    body = response.get_data(as_text=True)
    lines = unfold(body)
    assert lines[0] == "BEGIN:VCALENDAR" and "VERSION:2.0" in lines and lines[-1] == "END:VCALENDAR"
    assert any(line.startswith("PRODID:") for line in lines)
    events = parse_ical(body)
    with app.app_context():
        expected = {data[k]: db.session.get(Tender, data[k]) for k in ("green", "catering")}
        assert {e["UID"] for e in events} == {f"tender-{i}-deadline@localhost" for i in expected}
        for event in events:
            tender = expected[int(event["UID"].split("-")[1])]
            assert event["DTSTART"] == tender.answers_deadline.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            assert re.match(r"\d{8}T\d{6}Z$", event["DTSTAMP"])
            assert event["SUMMARY"] == f"Date limite : {tender.title}"  # escaped, folded, read back whole
    assert "\\;" in body and "\\," in body and "\\\\" in body


def test_a_feed_address_that_leaked_is_replaced_and_the_old_one_answers_404(client, app, data, make_user):
    owner = make_user("veille@example.fr")
    make_user("intrus@example.fr")
    with app.app_context():
        saved = watch.create(owner, "Réservés", [("reserved", "siae")], "never")
        db.session.commit()
        saved_id, old = saved.id, saved.feed_token
    login(client, "intrus@example.fr")
    assert submit(client, f"/veille/{saved_id}/nouvelle-adresse", {}, form_url="/veille").status_code == 404
    assert client.get(f"/veille/flux/{old}.atom").status_code == 200  # the intruder changed nothing
    owner_client = app.test_client()
    login(owner_client, "veille@example.fr")
    response = submit(owner_client, f"/veille/{saved_id}/nouvelle-adresse", {}, form_url=f"/veille/{saved_id}",
                      follow_redirects=True)
    assert "Nouvelle adresse du flux" in page_text(response)
    with app.app_context():
        new = db.session.get(watch.SavedSearch, saved_id).feed_token
    assert new != old and len(new) >= 40 and new in page_text(response)
    assert client.get(f"/veille/flux/{old}.atom").status_code == 404
    assert client.get(f"/veille/flux/{new}.atom").status_code == 200


def test_a_calendar_address_is_replaced_on_request_only(client, app, data, make_user, make_structure):
    member = make_user(MEMBER, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Atelier")
    with app.app_context():
        organisation_id = db.session.get(User, member).organisation.id
    structure = make_structure(siret="75187049400026", owner_organisation_id=organisation_id)
    login(client, MEMBER)
    assert submit(client, f"/veille/calendrier/{structure}", {}, form_url="/veille").status_code == 302
    with app.app_context():
        first = db.session.get(RelayPreference, structure).calendar_token
    # asked again without « renew »: the same address (a second click changes nothing)
    assert submit(client, f"/veille/calendrier/{structure}", {}, form_url="/veille").status_code == 302
    with app.app_context():
        assert db.session.get(RelayPreference, structure).calendar_token == first
    response = submit(client, f"/veille/calendrier/{structure}", {"renew": "1"}, form_url="/veille",
                      follow_redirects=True)
    assert "Nouvelle adresse du calendrier" in page_text(response)
    with app.app_context():
        second = db.session.get(RelayPreference, structure).calendar_token
    assert second != first
    assert client.get(f"/veille/calendrier/{first}.ics").status_code == 404
    assert client.get(f"/veille/calendrier/{second}.ics").status_code == 200
