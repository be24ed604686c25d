"""The funnel's finer rules, on both sides (written for the mutants `make mutants` showed alive): each stage counted
on a story where every answer differs, reasons ranked by count then by code, the reason's free text in the
export, who a re-notification leaves out (relay mails switched off, except for interested structures), each
group's own count, and the 5 000 characters of a message."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from marche.accounts.models import User
from marche.core.errors import DomainError
from marche.core.models import utcnow
from marche.extensions import db
from marche.tenders import funnel
from marche.tenders.models import Interest, LotResponse, RelayPreference, Tender
from tests.tenders.relay_fixtures import recipients
from tests.tenders.test_funnel import buyer_client, story  # noqa: F401  (fixture)

#: name -> (interest, reason, reason text): only A is interested; B and C decline for reasons whose first-seen
#: order (by structure name) is the reverse of their codes' order; D declines too
ANSWERS = {"Atelier A": (Interest.INTERESTED, None, None),
           "Bâtisseurs B": (Interest.NOT_INTERESTED, "unavailable", None),
           "Chantier C": (Interest.NOT_INTERESTED, "too_far", "Nos équipes sont à Marseille."),
           "Débroussaille D": (Interest.NOT_INTERESTED, "unavailable", None)}


def answer(world, lot_id: int, answers: dict) -> None:
    for name, (interest, reason, text) in answers.items():
        response = db.session.execute(select(LotResponse).where(
            LotResponse.lot_id == lot_id, LotResponse.structure_id == world.structures[name])).scalar_one()
        response.interest, response.interest_at = interest, utcnow() if interest else None
        response.reason_code, response.reason_text = reason, text
    db.session.commit()


def test_each_stage_and_the_reasons_by_count_then_code(app, story):
    world, tender_id, lot_id = story
    with app.app_context():
        answer(world, lot_id, ANSWERS)
        counted = funnel.lot_funnel(db.session.get(Tender, tender_id).lots[0])
        assert counted.counts["interested"] == 1 and counted.counts["not_interested"] == 3
        assert counted.reasons == [("unavailable", 2), ("too_far", 1)]
        answer(world, lot_id, {"Débroussaille D": (Interest.NOT_INTERESTED, "too_large", None)})
        # one each now: the codes' order decides, not the order the structures come in
        assert funnel.lot_funnel(db.session.get(Tender, tender_id).lots[0]).reasons == [
            ("too_far", 1), ("too_large", 1), ("unavailable", 1)]


def test_the_export_carries_the_reasons_free_text(app, story):
    world, tender_id, lot_id = story
    with app.app_context():
        answer(world, lot_id, ANSWERS)
    rows = list(csv.reader(io.StringIO(buyer_client(app).get(f"/consultations/{tender_id}/reponses/export.csv")
                                       .get_data().decode("utf-8-sig")), delimiter=";"))
    text = {row[1]: row[8] for row in rows[1:]}
    assert text["Chantier C"] == "Nos équipes sont à Marseille." and text["Atelier A"] == ""
    with app.app_context():
        from marche.suppliers.models import Structure

        sirets = {name: db.session.get(Structure, sid).siret for name, sid in world.structures.items()}
    assert all(row[2] == sirets[row[1]] and row[2] for row in rows[1:])


def _open(world, tender_id: int):
    tender = db.session.get(Tender, tender_id)
    tender.answers_deadline = utcnow() + timedelta(days=30)
    db.session.commit()
    return db.session.get(User, world.buyer), db.session.get(Tender, tender_id).lots[0]


def test_switched_off_relay_mails_leave_a_structure_out_unless_it_is_interested(app, story, mailbox):
    world, tender_id, lot_id = story
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        buyer, lot = _open(world, tender_id)
        # A (interested) and D (no interest declared) switched the relay mails off
        for name in ("Atelier A", "Débroussaille D"):
            db.session.add(RelayPreference(structure_id=world.structures[name], relay_mails=False))
        db.session.commit()
        mailbox.clear()
        funnel.renotify(buyer, lot, "interested", "Merci de votre intérêt.")
        db.session.commit()
        interested = sorted(world.members["Atelier A"] + world.members["Bâtisseurs B"])
        assert recipients(mailbox, "Message de") == interested
        with pytest.raises(DomainError, match="Aucune structure à relancer"):
            funnel.renotify(buyer, lot, "notified", "Il reste trois semaines.")  # D only, and D said no
        db.session.rollback()
        db.session.delete(db.session.get(RelayPreference, world.structures["Débroussaille D"]))
        db.session.commit()
        mailbox.clear()
        funnel.renotify(buyer, lot, "notified", "Il reste trois semaines.")
        db.session.commit()
        assert recipients(mailbox, "Message de") == sorted(world.members["Débroussaille D"])
        assert funnel.renotification_count(lot, "notified") == 1
        assert funnel.renotification_count(lot, "interested") == 1
        assert funnel.renotification_count(lot, "viewed") == 0
        assert [r.group for r in funnel.lot_funnel(lot).renotifications] == ["interested", "notified"]


def test_a_message_of_5000_characters_passes_5001_do_not(app, story):
    world, tender_id, lot_id = story
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        buyer, lot = _open(world, tender_id)
        assert funnel.contact_interested(buyer, lot, "m" * 5000) == 2
        with pytest.raises(DomainError, match="5000 caractères au plus"):
            funnel.contact_interested(buyer, lot, "m" * 5001)


def test_a_renotification_waits_for_another_one_of_the_same_lot(app, story):
    """Two re-notifications of one lot are counted one after the other: the second waits for the first's lock."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

    from marche.tenders.models import TenderLot

    world, tender_id, lot_id = story
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        buyer, lot = _open(world, tender_id)
        with Session(db.engine) as other:
            # FOR NO KEY UPDATE: it blocks the re-notification's own lock of the lot, not the foreign-key check of
            # the row it inserts (which would block any insert, locked lot or not)
            other.execute(select(TenderLot).where(TenderLot.id == lot_id).with_for_update(key_share=True))
            db.session.execute(text("SET LOCAL lock_timeout = '1s'"))
            with pytest.raises(DBAPIError, match="lock timeout"):
                funnel.renotify(buyer, lot, "interested", "Merci de votre intérêt.")
            db.session.rollback()
            other.rollback()


def test_the_buyer_writes_to_the_interested_structures_three_times_a_day_at_most(app, story, mailbox):
    """The fourth message within 24 hours is refused, naming when the next one is allowed; a message leaves the
    count 24 hours after it was sent, not a second before."""
    from marche.core.filters import fr_datetime

    world, tender_id, lot_id = story
    start = utcnow()
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        buyer, lot = _open(world, tender_id)
        for hours in (0, 1, 2):
            assert funnel.contact_interested(buyer, lot, f"Message {hours}", now=start + timedelta(hours=hours)) == 2
            db.session.commit()
        fourth = start + timedelta(hours=3)
        with pytest.raises(DomainError) as refused:
            funnel.contact_interested(buyer, lot, "Un de trop", now=fourth)
        db.session.rollback()
        first_leaves = start + timedelta(hours=24)
        assert refused.value.field == "message" and "déjà écrit 3 fois" in refused.value.message
        assert fr_datetime(first_leaves) in refused.value.message
        with pytest.raises(DomainError):
            funnel.contact_interested(buyer, lot, "Encore trop tôt", now=first_leaves - timedelta(seconds=1))
        db.session.rollback()
        assert funnel.contact_interested(buyer, lot, "Le lendemain", now=first_leaves + timedelta(seconds=1)) == 2
        db.session.commit()
    sent = [m for m in mailbox if "Un de trop" in m.get_body(("plain",)).get_content()
            or "Encore trop tôt" in m.get_body(("plain",)).get_content()]
    assert sent == []
