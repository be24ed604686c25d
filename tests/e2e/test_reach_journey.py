"""Issue 20's journey in one browser run (axe and the CSP guard on each page): a buyer sees that only 2 structures
can answer its Roubaix lot and that widening the place to the Nord would make 9; it widens it, publishes; a
structure receives the relay mail, opens the tender, declares interest and asks a question; the buyer answers it
and reads the funnel; another structure finds the tender in the tender search, saves the search, and reads the
tender in the search's private Atom feed."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlsplit
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from marche.accounts.models import OrganisationKind
from marche.core import outbox
from marche.core.models import OutboxMessage, OutboxStatus, utcnow
from marche.extensions import db
from marche.geo.models import Commune
from marche.reference.cpv_sectors import suggest_sectors
from marche.search.indexer import wait_for_pending
from marche.search.structures import index_structures
from marche.suppliers.models import Structure
from marche.suppliers.services import refresh_derived
from marche.tenders.models import Tender, TenderStatus
from marche.tenders.search_documents import TENDERS_CHANGED
from tests.e2e.test_journey import flash, log_in, log_out, wait_for_mail
from tests.tenders.factories import make_tender, organisation_of

BUYER, MEMBER = "acheteuse@roubaix.example.fr", "contact@jardins-roubaix.example.fr"
OTHER = "veille@recyclerie-douai.example.fr"
ATOM = "{http://www.w3.org/2005/Atom}"
QUESTION = "Le ramassage des feuilles est-il compris ?"
ANSWER = "Oui, de octobre à décembre."
#: two structures in Roubaix itself (a 10 km radius covers it), seven elsewhere in the Nord (their 10 km radius
#: does not reach Roubaix, but lies in the department)
ROUBAIX = ["59512", "59512"]
ELSEWHERE_IN_NORD = ["59183", "59606", "59392", "59122", "59178", "59295", "59136"]


def place_structures(app, make_user) -> tuple[int, list[int]]:
    """The nine structures of the tender's sector; the first is claimed by MEMBER's organisation. Returns the
    tender id (a Roubaix draft of the buyer) and the structure ids."""
    with app.app_context():
        buyer = make_user(BUYER, name="Ville de Roubaix")
        tender_id = make_tender(organisation_of(buyer), place_ref="commune:59512", created_by=buyer,
                                title="Entretien des espaces verts des écoles")
        tender = db.session.get(Tender, tender_id)
        sectors = suggest_sectors(list(tender.cpv_codes))[:1]
        tender.sectors = sectors
        member = make_user(MEMBER, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Les Jardins de Roubaix")
        ids = []
        for index, code in enumerate(ROUBAIX + ELSEWHERE_IN_NORD):
            commune = db.session.get(Commune, code)
            structure = Structure(
                siret=f"8100000000{index:04d}", siren=f"81000000{index}"[:9], kinds=["ACI"], source="test",
                name="Les Jardins de Roubaix" if index == 0 else f"Chantier vert {commune.name} {index}",
                commune_code=code, department_code="59", region_code="32", city=commune.name,
                latitude=commune.latitude, longitude=commune.longitude, area_kind="radius", area_radius_km=10,
                area_refs=[], owner_organisation_id=organisation_of(member) if index == 0 else None)
            structure.sectors = list(sectors)
            db.session.add(structure)
            refresh_derived(structure)
            db.session.flush()
            ids.append(structure.id)
        db.session.commit()
        index_structures(db.session, ids, wait=True)
        db.session.remove()
    return tender_id, ids


def settle_tender_index(app) -> None:
    """What the worker does, now: a tender change whose first try met a busy Meilisearch (a 5 s client timeout
    on a loaded machine) is tried again instead of after its backoff; then the engine's queue is waited for."""
    with app.app_context():
        db.session.execute(update(OutboxMessage)
                           .where(OutboxMessage.kind == TENDERS_CHANGED, OutboxMessage.status == OutboxStatus.PENDING)
                           .values(next_attempt_at=utcnow()))
        db.session.commit()
        outbox.sweep()
        wait_for_pending()
        assert not db.session.scalar(select(db.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == TENDERS_CHANGED, OutboxMessage.status != OutboxStatus.DONE))


def test_a_lot_reaches_the_structures_that_can_answer(page: Page, app, make_user, mailbox, live_link, check_page):
    page.set_viewport_size({"width": 1280, "height": 900})
    tender_id, _ = place_structures(app, make_user)
    with app.app_context():
        lot_id = db.session.get(Tender, tender_id).lots[0].id

    # the buyer: 2 can answer in Roubaix, the lever says the Nord would make 9
    log_in(page, BUYER)
    page.goto(f"/consultations/{tender_id}/lots/{lot_id}/clauses")
    panel = page.locator("#profondeur")
    expect(panel.locator("strong.fr-text--lead")).to_have_text("2")
    expect(panel).to_contain_text(re.compile(r"Élargir le lieu d'exécution au département Nord.* : passerait de 2 "
                                             r"structures à 9 structures"))
    check_page(page, "profondeur : 2 structures à Roubaix")

    # it widens the place to the department
    page.goto(f"/consultations/{tender_id}/modifier")
    page.locator("#place_ref-ts-control").focus()  # tom-select: the typed text looks the territory up
    page.keyboard.press("Backspace")
    page.keyboard.type("Nord")
    page.get_by_role("option", name=re.compile(r"^Nord")).first.click()
    page.get_by_role("button", name="Enregistrer la consultation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Entretien des espaces verts des écoles")
    with app.app_context():
        assert db.session.get(Tender, tender_id).place_ref == "dep:59"
    page.goto(f"/consultations/{tender_id}/lots/{lot_id}/clauses")
    expect(panel.locator("strong.fr-text--lead")).to_have_text("9")
    check_page(page, "profondeur : 9 structures dans le Nord")

    # validated by the territory's facilitator (issue 19's journey shows that part), then published by the buyer
    with app.app_context():
        tender = db.session.get(Tender, tender_id)
        tender.status, tender.submitted_at, tender.validated_at = TenderStatus.SUBMITTED, utcnow(), utcnow()
        db.session.commit()
    page.goto(f"/consultations/{tender_id}")
    page.get_by_role("button", name="Publier la consultation").click()
    expect(flash(page)).to_be_visible()
    log_out(page)

    # the claimed structure receives the relay mail (once), opens the tender, declares interest, asks a question
    message = wait_for_mail(mailbox, MEMBER)
    assert "Entretien des espaces verts des écoles" in message["Subject"] + message.get_body(("plain",)).get_content()
    assert sum(1 for m in mailbox if m["To"] == MEMBER) == 1
    log_in(page, MEMBER)
    page.goto(live_link(mailbox, MEMBER, f"/consultations/{tender_id}"))
    answer = page.locator("#reponse")
    expect(answer).to_contain_text("Vous répondez pour Les Jardins de Roubaix")
    expect(answer).to_contain_text("Peut intervenir à")
    check_page(page, "consultation reçue par la structure")
    answer.get_by_role("button", name="Nous sommes intéressés").click()
    expect(page.get_by_text("Intérêt enregistré")).to_be_visible()
    page.get_by_label("Votre question à l'acheteur").fill(QUESTION)
    page.get_by_role("button", name="Poser la question").click()
    expect(page.get_by_text("Question envoyée à l'acheteur")).to_be_visible()
    check_page(page, "intérêt déclaré, question posée")
    log_out(page)

    # the buyer answers the question and reads the funnel: 1 notified (the only claimed one), viewed, interested
    log_in(page, BUYER)
    page.goto(f"/consultations/{tender_id}")
    questions = page.locator("#questions")
    questions.get_by_label("Réponse (publiée pour tous, sans le nom de la structure)").fill(ANSWER)
    questions.get_by_role("button", name="Publier la réponse").click()
    expect(page.get_by_text("Réponse publiée : tous ceux")).to_be_visible()
    page.get_by_role("link", name="Suivi des réponses des structures").click()
    with app.app_context():
        claimed = db.session.scalar(select(db.func.count()).select_from(Structure)
                                    .where(Structure.owner_organisation_id.is_not(None)))
    for stage, count in (("notified", claimed), ("viewed", 1), ("interested", 1), ("not_interested", 0)):
        expect(page.locator(f"[data-count='{stage}']").first).to_have_text(str(count))
    expect(page.locator("main")).to_contain_text("Les Jardins de Roubaix")
    check_page(page, "entonnoir de l'acheteuse")

    log_out(page)

    # another structure: the tender search finds it, the search is saved, its Atom feed lists the tender
    make_user(OTHER, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Recyclerie du Douaisis")
    log_in(page, OTHER)
    settle_tender_index(app)
    page.goto("/consultations/recherche?q=espaces+verts&territory=dep:59")
    expect(page.get_by_role("link", name="Entretien des espaces verts des écoles")).to_be_visible()
    check_page(page, "recherche de consultations")
    page.get_by_label("Nom de la recherche").fill("Espaces verts dans le Nord")
    page.get_by_role("button", name="Enregistrer cette recherche").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recherche enregistrée « Espaces verts dans le Nord »")
    check_page(page, "recherche enregistrée")
    feed_path = urlsplit(page.locator("code").filter(has_text="/veille/flux/").inner_text().strip()).path
    response = page.request.get(feed_path)
    assert response.status == 200 and "atom" in response.headers["content-type"]
    feed = ElementTree.fromstring(response.body())
    titles = [entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry")]
    assert any("Entretien des espaces verts des écoles" in (title or "") for title in titles)
    # a tampered token is no feed
    assert page.request.get(feed_path.replace("/flux/", "/flux/x")).status == 404
