"""Reminders of the hours follow-up, sent by the worker (`flask marche worker`, every hour; each at most once):

- **missing declaration**: from the 5th of a month (`REMINDER_DAY`), the members of the holder's declaring
  organisation of each active contract that has no line for the month just ended (a month of its period, not
  locked) are mailed, once per contract and month;
- **behind**: the members of the keeper organisation (facilitator, or buyer) are alerted once per contract and
  month when the contract's validated hours are more than 20 % behind its pro-rata target (`indicators.behind`).

Each sending is first written as a `contract_reminder` row (contract, month, kind) inserted « on conflict do
nothing »: two workers, or a pass run twice, send one mail.
"""
from __future__ import annotations

from datetime import date
from typing import Callable

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..accounts.services import member_addresses
from ..core.dates import today
from ..core.mail import queue_mail
from ..core.urls import external_url, url_context
from ..extensions import db
from .models import Contract, ContractReminder, ContractStatus, DeclarationStatus, HoursDeclaration, MonthLock
from .services import month_label

#: the day of the month from which the month before counts as missing
REMINDER_DAY = 5
MISSING, BEHIND = "missing", "behind"


def previous_month(day: date) -> date:
    index = day.year * 12 + day.month - 2
    return date(index // 12, index % 12 + 1, 1)


def _claim(session: Session, contract_id: int, month: date, kind: str) -> bool:
    """Write the reminder row; True when this pass is the one that sends it."""
    inserted = session.execute(insert(ContractReminder).values(contract_id=contract_id, month=month, kind=kind)
                               .on_conflict_do_nothing().returning(ContractReminder.contract_id)).first()
    return inserted is not None


def missing_declarations(session: Session, day: date) -> list[Contract]:
    """Active contracts with a declaring organisation and no line (other than rejected) for the month before
    `day`'s, when that month is one of their period and not locked; none before the REMINDER_DAY."""
    if day.day < REMINDER_DAY:
        return []
    month = previous_month(day)
    declared = exists().where(HoursDeclaration.contract_id == Contract.id, HoursDeclaration.month == month,
                              HoursDeclaration.status != DeclarationStatus.REJECTED)
    locked = exists().where(MonthLock.contract_id == Contract.id, MonthLock.month == month)
    return list(session.scalars(select(Contract).where(
        Contract.status == ContractStatus.ACTIVE, Contract.holder_organisation_id.is_not(None),
        Contract.starts_on < date(day.year, day.month, 1), Contract.ends_on >= month, ~declared, ~locked)
        .order_by(Contract.id)))


def send_missing(session: Session, day: date) -> int:
    month = previous_month(day)
    sent = 0
    for contract in missing_declarations(session, day):
        if not _claim(session, contract.id, month, MISSING):
            continue
        link = external_url("insertion.show", contract_id=contract.id) + "#declarer"
        for address in member_addresses(session, [contract.holder_organisation_id]).get(contract.holder_organisation_id, []):
            queue_mail(address, f"Heures d'insertion de {month_label(month)} à déclarer : {contract.title}"[:200],
                       "hours_missing", session=session, contract=contract, month=month_label(month), link=link)
        sent += 1
    return sent


def send_behind(session: Session, day: date, behind: Callable[[Session, Contract, date], bool]) -> int:
    """`behind(session, contract, day)`: the indicators' rule, given by the caller."""
    month = day.replace(day=1)
    sent = 0
    contracts = session.scalars(select(Contract).where(Contract.status == ContractStatus.ACTIVE)
                                .order_by(Contract.id))
    for contract in contracts:
        keeper = contract.keeper_organisation_id
        if keeper is None or not behind(session, contract, day) or not _claim(session, contract.id, month, BEHIND):
            continue
        link = external_url("insertion.show", contract_id=contract.id)
        for address in member_addresses(session, [keeper]).get(keeper, []):
            queue_mail(address, f"Heures d'insertion en retard : {contract.title}"[:200], "hours_behind",
                       session=session, contract=contract, link=link)
        sent += 1
    return sent


def reminders_task(day: date | None = None, behind: Callable | None = None) -> int:
    """The worker's hourly pass."""
    day = day or today()
    with url_context():
        sent = send_missing(db.session, day)
        if behind is not None:
            sent += send_behind(db.session, day, behind)
        db.session.commit()
    return sent
