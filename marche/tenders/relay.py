"""The relay: a published tender reaches, by mail and once, the claimed structures that can answer it.

Publishing only queues `tenders.relay` (the request stays fast). That job reads each lot's matching claimed
structures (`matching.matching_ids`, Meilisearch or its SQL fallback), records one `TenderNotification` per
tender × structure (the unique constraint makes a second or concurrent run insert nothing) and a `LotResponse`
per lot × structure with its `notified_at`, then queues mail batches of `BATCH_SIZE` structures, only for the
rows it inserted. A batch locks its rows not yet mailed nor skipped, marks each one (`mailed_at` or
`skipped_reason`) and queues its mails in the same transaction: a batch run twice mails nobody twice.

Who receives a relay mail: each active member of the structure's owner organisation (one message per address).
No mail when the structure switched relay mails off (`RelayPreference`), after the answers deadline, or when
it said « pas intéressée » for every lot it matched. Each mail carries a signed one-click unsubscribe link
(and the RFC 8058 headers). A rectificatif goes to the structures that declared interest in one of its lots.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..accounts.services import member_addresses
from ..core import outbox
from ..core.mail import queue_mail
from ..core.models import utcnow
from ..core.urls import external_url, url_context
from ..suppliers.models import Structure
from . import matching
from .models import (Interest, LotResponse, RelayPreference, Tender, TenderLot, TenderNotification,
                     TenderRectificatif, TenderStatus)

RELAY = "tenders.relay"
RELAY_BATCH = "tenders.relay_batch"
RECTIFICATIF_MAIL = "tenders.rectificatif_mail"
#: structures per mail batch (one outbox message each)
BATCH_SIZE = 50
UNSUBSCRIBE_PURPOSE = "marche-relay-unsubscribe"


class SkipReason:
    OPTED_OUT = "opted_out"
    DEADLINE_PASSED = "deadline_passed"
    NO_RECIPIENT = "no_recipient"
    NOT_INTERESTED = "not_interested"


# --- the hooks: what the workflow and the drafting call -------------------------------------------------

def request_relay(tender: Tender) -> None:
    """Queue the relay of a tender just published (called by `workflow.publish`, in its transaction)."""
    outbox.enqueue(RELAY, {"tender_id": tender.id})


def request_rectificatif_mail(rectificatif: TenderRectificatif) -> None:
    """Queue the mail of a rectificatif to the structures interested in the tender (`drafting`)."""
    outbox.enqueue(RECTIFICATIF_MAIL, {"rectificatif_id": rectificatif.id})


# --- the unsubscribe link --------------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    # no expiry: a one-click unsubscribe link must still work in a mail read months later
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_PURPOSE)


def unsubscribe_token(structure_id: int) -> str:
    return _serializer().dumps({"sid": structure_id})


def read_unsubscribe_token(token: str) -> int | None:
    """The structure id the token was signed for; None when tampered with."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    sid = data.get("sid") if isinstance(data, dict) else None
    return sid if isinstance(sid, int) else None


def relay_mails_on(session: Session, structure_id: int) -> bool:
    preference = session.get(RelayPreference, structure_id)
    return preference is None or preference.relay_mails


def set_relay_mails(session: Session, structure_id: int, enabled: bool) -> RelayPreference:
    """Switch a structure's relay mails on or off (unsubscribe link, preferences page). Never commits."""
    preference = session.get(RelayPreference, structure_id)
    if preference is None:
        preference = RelayPreference(structure_id=structure_id)
        session.add(preference)
    preference.relay_mails = enabled
    preference.changed_at = utcnow()
    session.flush()
    return preference


# --- the relay job ---------------------------------------------------------------------------------------

def relay_tender(session: Session, payload: dict[str, Any]) -> None:
    """Outbox handler of `tenders.relay`: record who matched, then queue the mail batches of the new rows."""
    tender = session.get(Tender, payload["tender_id"])
    if tender is None or tender.status != TenderStatus.PUBLISHED:
        return
    now = utcnow()
    lots_of: dict[int, list[int]] = defaultdict(list)
    reasons_of: dict[int, dict[str, list[str]]] = defaultdict(dict)
    # an application context of its own: the search (and its SQL fallback) reads through `db.session`, which
    # may be the publishing request's, just committed, when the outbox runs inline
    with current_app.app_context():
        for lot in sorted(tender.lots, key=lambda lot: lot.position):
            ids = matching.matching_ids(lot, claimed_only=True)
            # each structure's own reasons, the same sentences as the buyer's ranked list
            reasons = matching.reasons_by_structure(lot, ids) if ids else {}
            for structure_id in ids:
                lots_of[structure_id].append(lot.id)
                reasons_of[structure_id][str(lot.id)] = reasons.get(structure_id, [])
    if not lots_of:
        return
    inserted = session.execute(
        insert(TenderNotification)
        .values([{"tender_id": tender.id, "structure_id": sid, "lot_ids": lots, "reasons": reasons_of[sid]}
                 for sid, lots in lots_of.items()])
        .on_conflict_do_nothing(constraint="uq_tender_notification_once")
        .returning(TenderNotification.structure_id)).scalars().all()
    responses = insert(LotResponse).values(
        [{"lot_id": lot_id, "structure_id": sid, "notified_at": now} for sid, lots in lots_of.items()
         for lot_id in lots])
    session.execute(responses.on_conflict_do_update(
        constraint="uq_lot_response_once",
        set_={"notified_at": func.coalesce(LotResponse.__table__.c.notified_at, responses.excluded.notified_at)}))
    new_ids = sorted(inserted)
    for start in range(0, len(new_ids), BATCH_SIZE):
        outbox.enqueue(RELAY_BATCH, {"tender_id": tender.id, "structure_ids": new_ids[start:start + BATCH_SIZE]},
                       session=session)


def is_open(tender: Tender, now: datetime) -> bool:
    return (tender.status == TenderStatus.PUBLISHED and tender.answers_deadline is not None
            and tender.answers_deadline > now)


def mail_batch(session: Session, payload: dict[str, Any]) -> None:
    """Outbox handler of `tenders.relay_batch`: mark each row (mailed or why not) and queue its mails, in one
    transaction; rows already marked, or locked by a concurrent run, are left alone."""
    tender = session.get(Tender, payload["tender_id"])
    if tender is None:
        return
    notifications = session.execute(
        select(TenderNotification)
        .where(TenderNotification.tender_id == tender.id,
               TenderNotification.structure_id.in_(payload["structure_ids"]),
               TenderNotification.mailed_at.is_(None), TenderNotification.skipped_reason.is_(None))
        .order_by(TenderNotification.structure_id).with_for_update(skip_locked=True)).scalars().all()
    if not notifications:
        return
    now = utcnow()
    structure_ids = [n.structure_id for n in notifications]
    structures = {s.id: s for s in session.execute(select(Structure).where(Structure.id.in_(structure_ids))).scalars()}
    opted_out = set(session.execute(select(RelayPreference.structure_id).where(
        RelayPreference.structure_id.in_(structure_ids), RelayPreference.relay_mails.is_(False))).scalars())
    declined: dict[int, set[int]] = defaultdict(set)
    for structure_id, lot_id in session.execute(select(LotResponse.structure_id, LotResponse.lot_id).where(
            LotResponse.structure_id.in_(structure_ids), LotResponse.interest == Interest.NOT_INTERESTED,
            LotResponse.lot_id.in_([lot.id for lot in tender.lots]))):
        declined[structure_id].add(lot_id)
    addresses = member_addresses(session, {s.owner_organisation_id for s in structures.values() if s.owner_organisation_id})
    lots = {lot.id: lot for lot in tender.lots}
    with url_context():
        link = external_url("tenders.show", tender_id=tender.id)
        for notification in notifications:
            structure = structures[notification.structure_id]
            to = addresses.get(structure.owner_organisation_id, [])
            if not is_open(tender, now):
                notification.skipped_reason = SkipReason.DEADLINE_PASSED
            elif notification.structure_id in opted_out:
                notification.skipped_reason = SkipReason.OPTED_OUT
            elif set(notification.lot_ids) <= declined[notification.structure_id]:
                notification.skipped_reason = SkipReason.NOT_INTERESTED
            elif not to:
                notification.skipped_reason = SkipReason.NO_RECIPIENT
            else:
                notification.mailed_at = now
                _queue_relay_mail(session, tender, structure, notification, lots, to, link)
    session.flush()


def _queue_relay_mail(session: Session, tender: Tender, structure: Structure, notification: TenderNotification,
                      lots: dict[int, TenderLot], to: list[str], link: str) -> None:
    unsubscribe = external_url("tender_relay.unsubscribe", token=unsubscribe_token(structure.id))
    matched = [(lots[lot_id], notification.reasons.get(str(lot_id), [])) for lot_id in notification.lot_ids
               if lot_id in lots]
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    for address in to:
        queue_mail(address, f"Nouvelle consultation pour {structure.display_name} : {tender.title}", "tender_relay",
                   headers=headers, session=session, tender=tender, structure=structure, matched=matched,
                   link=link, unsubscribe=unsubscribe)


# --- rectificatifs -------------------------------------------------------------------------------------

def interested_structures(session: Session, tender: Tender) -> list[Structure]:
    """Structures that declared interest in at least one lot of the tender, by name."""
    lot_ids = [lot.id for lot in tender.lots]
    return list(session.execute(
        select(Structure).where(Structure.id.in_(
            select(LotResponse.structure_id).where(LotResponse.lot_id.in_(lot_ids),
                                                   LotResponse.interest == Interest.INTERESTED)))
        .order_by(Structure.name, Structure.id)).scalars())


def mail_rectificatif(session: Session, payload: dict[str, Any]) -> None:
    """Outbox handler of `tenders.rectificatif_mail`: the change, to the members of each interested structure
    (they asked to hear of this tender: their relay preference does not apply), while the tender is open."""
    rectificatif = session.get(TenderRectificatif, payload["rectificatif_id"], with_for_update=True)
    if rectificatif is None or rectificatif.mailed_at is not None or not is_open(rectificatif.tender, utcnow()):
        return  # gone, mailed by an earlier run (the row lock orders two runs at once), or too late
    rectificatif.mailed_at = utcnow()
    tender = rectificatif.tender
    structures = interested_structures(session, tender)
    addresses = member_addresses(session, {s.owner_organisation_id for s in structures if s.owner_organisation_id})
    with url_context():
        link = external_url("tenders.show", tender_id=tender.id) + "#rectificatifs"
        for structure in structures:
            for address in addresses.get(structure.owner_organisation_id, []):
                queue_mail(address, f"Rectificatif : {tender.title}", "tender_rectificatif", session=session,
                           tender=tender, structure=structure, rectificatif=rectificatif, link=link)
