"""Reminders: a holder with nothing declared for the month just ended is mailed once per contract and month, from
the 5th (not the 4th), through the real SMTP server; nothing for a declared, locked, closed or out-of-period month."""
from __future__ import annotations

from datetime import date

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
