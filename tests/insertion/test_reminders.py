"""Reminders: a holder with nothing declared for the month just ended is mailed once per contract and month, from
the 5th (not the 4th), through the real SMTP server; nothing for a declared, locked, closed or out-of-period month."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from marche.extensions import db
from marche.insertion import reminders, services
from marche.insertion.models import ContractReminder, ContractStatus, HoursDeclaration
from tests.insertion.world import HOLDER, contract, declaration, declared, hours_world, user  # noqa: F401

MARCH, APRIL_5 = date(2026, 3, 1), date(2026, 4, 5)


def mails_to(mailbox, address: str) -> list:
    return [m for m in mailbox if address.lower() in m["To"].lower()]


def reminder_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ContractReminder))


def test_the_previous_month():
    assert reminders.previous_month(date(2026, 1, 5)) == date(2025, 12, 1)
    assert reminders.previous_month(date(2026, 4, 30)) == MARCH


def test_a_missing_month_is_mailed_once_from_the_fifth(app, app_ctx, hours_world, mailbox):
    assert reminders.reminders_task(date(2026, 4, 4)) == 0  # the 4th: the holder still has time
    assert mails_to(mailbox, HOLDER) == []
    assert reminders.reminders_task(APRIL_5) == 1
    message = mailbox.last_to(HOLDER)
    assert "03/2026" in message["Subject"] and "Entretien des espaces verts de Lille" in message["Subject"]
    assert f"/contrats/{hours_world['contract']}#declarer" in mailbox.body(message)
    assert reminders.reminders_task(APRIL_5) == 0  # once per contract and month
    assert reminders.reminders_task(date(2026, 4, 20)) == 0
    assert len(mails_to(mailbox, HOLDER)) == 1 and reminder_rows() == 1
    assert reminders.reminders_task(date(2026, 5, 5)) == 1  # April is another month


def test_a_declared_month_is_not_reminded_but_a_rejected_one_is(app_ctx, hours_world, mailbox):
    line = declared(hours_world, "holder", "p1", MARCH, "10")
    assert reminders.missing_declarations(db.session, APRIL_5) == []
    services.reject(user(hours_world["facilitator"]), declaration(line), "Justificatif manquant")
    db.session.commit()
    assert [c.id for c in reminders.missing_declarations(db.session, APRIL_5)] == [hours_world["contract"]]


def test_locked_closed_and_out_of_period_months_are_not_reminded(app_ctx, hours_world):
    facilitator = user(hours_world["facilitator"])
    services.lock_month(facilitator, contract(hours_world["contract"]), MARCH)
    db.session.commit()
    assert reminders.missing_declarations(db.session, APRIL_5) == []
    # the contract runs January to December 2026: January is reminded in February, not December 2025 in January
    assert [c.id for c in reminders.missing_declarations(db.session, date(2026, 2, 5))] == [hours_world["contract"]]
    assert reminders.missing_declarations(db.session, date(2026, 1, 5)) == []
    assert [c.id for c in reminders.missing_declarations(db.session, date(2027, 1, 5))] == [hours_world["contract"]]
    assert reminders.missing_declarations(db.session, date(2027, 2, 5)) == []
    services.move_contract(facilitator, contract(hours_world["contract"]), ContractStatus.COMPLETED)
    db.session.commit()
    assert reminders.missing_declarations(db.session, date(2026, 2, 5)) == []


def test_two_passes_at_once_send_one_mail(app, app_ctx, hours_world):
    """The reminder row is the lock: a second session claiming the same contract and month gets nothing."""
    from sqlalchemy.orm import Session

    with Session(db.engine) as first, Session(db.engine) as second:
        assert reminders._claim(first, hours_world["contract"], MARCH, reminders.MISSING)
        first.commit()
        assert not reminders._claim(second, hours_world["contract"], MARCH, reminders.MISSING)
        second.commit()
    assert reminder_rows() == 1


def test_a_contract_behind_alerts_its_keeper_once_a_month(app, app_ctx, hours_world, mailbox):
    """1 000 h over 2026: at 5 July, six months are over and the pro-rata target is 500 h; 80 % of it is 400 h.
    399,99 h validated is behind, 400 h is not (computed here from the contract's figures)."""
    from decimal import Decimal

    from marche.insertion import indicators

    july = date(2026, 7, 5)
    pro_rata = Decimal(1000) * 6 / 12
    assert pro_rata * Decimal("0.8") == Decimal(400)
    for index, month in enumerate((1, 2, 3, 4)):
        declared(hours_world, "holder", "p1" if index % 2 else "p2", date(2026, month, 1), "100", validate=True)
    assert not indicators.is_behind(db.session, contract(hours_world["contract"]), july)  # 400 h: on time
    reminders.send_behind(db.session, july, indicators.is_behind)
    db.session.commit()
    assert mails_to(mailbox, "clauses@plie-lille.example.fr") == []
    line = declared(hours_world, "holder", "p1", date(2026, 5, 1), "0.01")  # waiting: it does not count
    services.correct(user(hours_world["holder"]), hours_world["holder_org"],
                     declaration(line - 1), "direct_hire", Decimal("99.99"))
    db.session.commit()
    correction = db.session.scalar(select(func.max(HoursDeclaration.id)))
    services.validate(user(hours_world["facilitator"]), declaration(correction))
    db.session.commit()
    assert indicators.is_behind(db.session, contract(hours_world["contract"]), july)  # 399,99 h
    assert reminders.reminders_task(july, behind=indicators.is_behind) >= 1
    alert = mailbox.last_to("clauses@plie-lille.example.fr")
    assert "en retard" in alert["Subject"] and "Entretien des espaces verts de Lille" in alert["Subject"]
    assert reminders.reminders_task(date(2026, 7, 20), behind=indicators.is_behind) == 0  # once this month
    assert len([m for m in mails_to(mailbox, "clauses@plie-lille.example.fr") if "retard" in m["Subject"]]) == 1


def second_contract(ids: dict, title: str = "Nettoyage des écoles de Lille") -> int:
    """Another contract of the same buyer and holder, over 2026 (made through the services, committed)."""
    from flask import current_app

    from tests.insertion.world import LILLE

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        buyer = user(ids["buyer"])
        made = services.create_contract(buyer, buyer.organisation, services.ContractData(
            title=title, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), place_ref=LILLE,
            holder_structure_id=ids["holder_s"], hours_target="500"))
        db.session.commit()
        return made.id


def test_each_contract_is_reminded_and_counted_once_even_after_one_already_was(app_ctx, hours_world, mailbox):
    """Two contracts miss March: the pass counts two reminders. When the first was claimed by an earlier pass, the
    second is still reminded (the pass goes on to the next contract)."""
    other = second_contract(hours_world)
    assert sorted(c.id for c in reminders.missing_declarations(db.session, APRIL_5)) == sorted(
        [hours_world["contract"], other])
    assert reminders.reminders_task(APRIL_5) == 2
    assert len(mails_to(mailbox, HOLDER)) == 2
    db.session.execute(ContractReminder.__table__.delete().where(ContractReminder.contract_id == other))
    db.session.commit()
    first = min(hours_world["contract"], other)
    assert first == hours_world["contract"]  # the pass reads contracts by id: the claimed one comes first
    assert reminders.reminders_task(APRIL_5) == 1
    subjects = [m["Subject"] for m in mails_to(mailbox, HOLDER)]
    assert len(subjects) == 3 and sum("Nettoyage des écoles de Lille" in s for s in subjects) == 2


def test_a_long_title_is_cut_to_200_characters_in_the_subject(app_ctx, hours_world, mailbox):
    title = "Entretien " + "très " * 60 + "long"
    other = second_contract(hours_world, title=title[:300])
    db.session.execute(ContractReminder.__table__.delete())
    db.session.commit()
    reminders.send_missing(db.session, APRIL_5)
    db.session.commit()
    expected = f"Heures d'insertion de 03/2026 à déclarer : {contract(other).title}"[:200]
    assert len(expected) == 200
    subjects = [" ".join(m["Subject"].split()) for m in mails_to(mailbox, HOLDER)]
    assert " ".join(expected.split()) in subjects


def test_a_behind_alert_is_recorded_for_the_month_and_cut_to_200_characters(app_ctx, hours_world, mailbox):
    from marche.insertion import indicators

    title = "Collecte A " + "très " * 60 + "longue"  # no space around the 200th character
    other = second_contract(hours_world, title=title[:300])
    july_20 = date(2026, 7, 20)
    assert indicators.is_behind(db.session, contract(other), july_20)  # nothing declared by mid-July
    assert reminders.send_behind(db.session, july_20, indicators.is_behind) == 2
    db.session.commit()
    rows = db.session.execute(select(ContractReminder.contract_id, ContractReminder.month).where(
        ContractReminder.kind == reminders.BEHIND)).all()
    assert sorted(rows) == sorted([(hours_world["contract"], date(2026, 7, 1)), (other, date(2026, 7, 1))])
    expected = f"Heures d'insertion en retard : {contract(other).title}"[:200]
    assert len(expected) == 200
    subjects = [" ".join(m["Subject"].split()) for m in mails_to(mailbox, "clauses@plie-lille.example.fr")]
    assert " ".join(expected.split()) in subjects
    # the next pass: the first contract already alerted this month, the pass goes on to the second
    db.session.execute(ContractReminder.__table__.delete().where(ContractReminder.contract_id == other))
    db.session.commit()
    assert reminders.send_behind(db.session, july_20, indicators.is_behind) == 1
    db.session.commit()


@pytest.mark.parametrize("ends_on,reminded", [(date(2026, 3, 1), True), (date(2026, 2, 28), False)])
def test_a_contract_ending_on_the_first_of_the_month_is_reminded_for_it(app_ctx, hours_world, ends_on, reminded):
    the_contract = contract(hours_world["contract"])
    the_contract.ends_on = ends_on
    db.session.commit()
    found = [c.id for c in reminders.missing_declarations(db.session, APRIL_5)]  # March, missing
    assert found == ([hours_world["contract"]] if reminded else [])
