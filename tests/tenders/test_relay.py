"""The relay through real parts: Meilisearch (and its SQL fallback), PostgreSQL, the outbox run inline, and the
aiosmtpd server counting what really left. Each matching claimed structure is mailed once per tender, even when
the relay job or a batch runs again; opted-out, not-interested and after-deadline structures get nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marche import create_app
from marche.core import outbox
from marche.core.models import utcnow
from marche.extensions import db
from marche.reference.models import Sector
from marche.tenders import drafting, matching, relay
from marche.tenders.models import (Interest, LotResponse, RelayPreference, Tender, TenderLot, TenderNotification,
                                   TenderStatus)
from tests.conftest import RUN_ID, free_port
from tests.tenders.factories import make_tender
from tests.tenders.relay_fixtures import build, publish, recipients, submitted_tender

SUBJECT = "Nouvelle consultation"


def notifications(tender_id: int) -> dict[int, TenderNotification]:
    db.session.expire_all()
    rows = db.session.execute(select(TenderNotification).where(TenderNotification.tender_id == tender_id)).scalars()
    return {n.structure_id: n for n in rows}


def expected_mails(world, names) -> list[str]:
    return sorted(address for name in names for address in world.members[name])


@pytest.fixture
def world(app_ctx, make_user):
    return build(make_user)


def test_each_matching_structure_is_mailed_once_even_when_the_relay_and_a_batch_run_again(world, mailbox):
    tender_id = submitted_tender(world)
    # C switched relay mails off; D said « pas intéressée » to the (only) lot before the relay ran
    db.session.add(RelayPreference(structure_id=world.structures["Chantier C"], relay_mails=False))
    lot_id = db.session.get(Tender, tender_id).lots[0].id
    db.session.add(LotResponse(lot_id=lot_id, structure_id=world.structures["Débroussaille D"],
                               interest=Interest.NOT_INTERESTED, reason_code="too_large"))
    db.session.commit()

    publish(world, tender_id)

    mailed_names = world.matching - {"Chantier C", "Débroussaille D"}
    assert recipients(mailbox, SUBJECT) == expected_mails(world, mailed_names)
    rows = notifications(tender_id)
    assert set(rows) == {world.structures[name] for name in world.matching}
    by_name = {name: rows[world.structures[name]] for name in world.matching}
    assert {name for name, n in by_name.items() if n.mailed_at is not None} == mailed_names
    assert by_name["Chantier C"].skipped_reason == relay.SkipReason.OPTED_OUT
    assert by_name["Débroussaille D"].skipped_reason == relay.SkipReason.NOT_INTERESTED
    assert by_name["Atelier A"].lot_ids == [lot_id]
    # the structure's own reasons, the same sentences as the buyer's ranked list
    lot = db.session.get(TenderLot, lot_id)
    assert by_name["Atelier A"].reasons[str(lot_id)] == matching.reasons_for(world.structures["Atelier A"], lot)
    assert any(reason.startswith("Peut intervenir à") for reason in by_name["Atelier A"].reasons[str(lot_id)])
    # every matching structure is notified on the lot (the funnel's first stage)
    notified = set(db.session.execute(select(LotResponse.structure_id).where(
        LotResponse.lot_id == lot_id, LotResponse.notified_at.is_not(None))).scalars())
    assert notified == {world.structures[name] for name in world.matching}

    # the one-click unsubscribe, in the headers (RFC 8058) and the body, signed for this structure
    message = mailbox.last_to("a@a.example.fr")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = message["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    assert relay.read_unsubscribe_token(token) == world.structures["Atelier A"]
    assert "/diffusion/desabonnement/" in mailbox.body(message)

    # the relay job again, then every batch again: nothing new is inserted, nobody is mailed twice
    outbox.enqueue(relay.RELAY, {"tender_id": tender_id})
    outbox.enqueue(relay.RELAY_BATCH, {"tender_id": tender_id, "structure_ids": sorted(world.structures.values())})
    db.session.commit()
    assert recipients(mailbox, SUBJECT) == expected_mails(world, mailed_names)
    assert set(notifications(tender_id)) == {world.structures[name] for name in world.matching}


def test_every_member_of_the_owner_organisation_receives_the_mail_once(world, mailbox, make_user):
    from tests.tenders.relay_fixtures import add_member

    add_member(world, "Atelier A", "a2@a.example.fr", make_user)
    publish(world, submitted_tender(world))
    assert recipients(mailbox, SUBJECT) == expected_mails(world, world.matching)
    assert sum(1 for m in mailbox if "Atelier A" in m["Subject"]) == 2


def test_a_batch_after_the_deadline_mails_nobody(world, mailbox):
    # a published tender whose deadline passed before its relay ran (the worker was late)
    tender_id = make_tender(world.buyer_org, status=TenderStatus.PUBLISHED,
                            answers_deadline=utcnow() - timedelta(minutes=1))
    tender = db.session.get(Tender, tender_id)
    tender.sectors = [db.session.get(Sector, world.sector_id)]
    db.session.commit()
    outbox.enqueue(relay.RELAY, {"tender_id": tender_id})
    db.session.commit()
    rows = notifications(tender_id)
    assert {r.skipped_reason for r in rows.values()} == {relay.SkipReason.DEADLINE_PASSED}
    assert set(rows) == {world.structures[name] for name in world.matching}
    assert recipients(mailbox, SUBJECT) == []


def test_a_structure_that_turned_relay_mails_off_gets_none_and_gets_them_again_once_back_on(world, mailbox):
    relay.set_relay_mails(db.session, world.structures["Atelier A"], False)
    db.session.commit()
    publish(world, submitted_tender(world))
    assert "a@a.example.fr" not in recipients(mailbox, SUBJECT)
    relay.set_relay_mails(db.session, world.structures["Atelier A"], True)
    db.session.commit()
    mailbox.clear()
    publish(world, submitted_tender(world, title="Taille des haies"))
    assert recipients(mailbox, SUBJECT) == expected_mails(world, world.matching)


def test_publishing_queues_the_relay_and_does_no_matching_in_the_request(world):
    from marche.core.models import OutboxMessage

    tender_id = submitted_tender(world)
    tender = db.session.get(Tender, tender_id)
    from marche.accounts.models import User
    from marche.tenders import workflow

    workflow.publish(db.session.get(User, world.buyer), tender)
    queued = [m for m in db.session.new if isinstance(m, OutboxMessage)]
    # the relay job, once (beside it, the tender search's index message: the engine's business, not the relay's)
    assert [(m.kind, m.payload) for m in queued if m.kind.startswith("tenders.relay")] == [
        (relay.RELAY, {"tender_id": tender_id})]
    assert {m.kind for m in queued} <= {relay.RELAY, "tenders.search_changed"}
    assert notifications(tender_id) == {}  # nothing matched before the commit
    db.session.rollback()


def test_a_rectificatif_goes_to_the_interested_structures_only(world, mailbox):
    from marche.accounts.models import User

    tender_id = submitted_tender(world)
    publish(world, tender_id)
    tender = db.session.get(Tender, tender_id)
    lot_id = tender.lots[0].id
    response = db.session.execute(select(LotResponse).where(
        LotResponse.lot_id == lot_id, LotResponse.structure_id == world.structures["Bâtisseurs B"])).scalar_one()
    response.interest, response.interest_at = Interest.INTERESTED, utcnow()
    db.session.commit()
    mailbox.clear()
    drafting.record_rectificatif(db.session.get(User, world.buyer), tender,
                                 [{"field": "object", "label": "Objet", "before": "Tonte", "after": "Tonte et taille"}],
                                 note="Précision de l'objet")
    db.session.commit()
    assert recipients(mailbox, "Rectificatif") == expected_mails(world, {"Bâtisseurs B"})
    assert "Tonte et taille" in mailbox.body(mailbox.last_to("b@b.example.fr"))
    # the same job a second time (a retry, a second worker): the rectificatif is marked mailed, no one gets it twice
    from marche.core.models import OutboxMessage
    from marche.tenders.models import TenderRectificatif

    rectificatif = db.session.execute(select(TenderRectificatif)).scalar_one()
    assert rectificatif.mailed_at is not None
    mailbox.clear()
    outbox.enqueue(relay.RECTIFICATIF_MAIL, {"rectificatif_id": rectificatif.id})
    db.session.commit()
    assert db.session.execute(select(OutboxMessage.status).where(
        OutboxMessage.kind == relay.RECTIFICATIF_MAIL)).scalars().all() == ["done", "done"]
    assert recipients(mailbox, "Rectificatif") == []


def test_meilisearch_down_publication_succeeds_and_the_relay_answers_from_sql(app, app_config, make_user, mailbox):
    dead = create_app({**app_config, "MEILI_URL": f"http://127.0.0.1:{free_port()}",
                       "MEILI_INDEX_PREFIX": f"dead{RUN_ID}"})
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        world = build(make_user)
        tender_id = submitted_tender(world)
        db.session.remove()
    with dead.test_request_context(base_url=dead.config["BASE_URL"]):
        publish(world, tender_id)
        assert db.session.get(Tender, tender_id).status == TenderStatus.PUBLISHED
        assert recipients(mailbox, SUBJECT) == expected_mails(world, world.matching)
        assert set(notifications(tender_id)) == {world.structures[name] for name in world.matching}
        db.session.remove()


def test_two_relay_jobs_at_the_same_time_mail_each_structure_once(app, world, mailbox):
    """Two workers run the relay of the same tender at once: the unique constraint makes the second insert
    nothing (it waits for the first's rows, then skips them), so only one set of batches leaves."""
    import threading

    from sqlalchemy.orm import Session

    tender_id = make_tender(world.buyer_org, status=TenderStatus.PUBLISHED)
    db.session.get(Tender, tender_id).sectors = [db.session.get(Sector, world.sector_id)]
    db.session.commit()
    barrier, errors = threading.Barrier(2), []

    def run() -> None:
        try:
            with app.test_request_context(base_url=app.config["BASE_URL"]), Session(db.engine) as session:
                barrier.wait()
                relay.relay_tender(session, {"tender_id": tender_id})
                session.commit()  # the batches it queued run inline, after this commit
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert recipients(mailbox, SUBJECT) == expected_mails(world, world.matching)
    assert set(notifications(tender_id)) == {world.structures[name] for name in world.matching}
