"""The buyer's funnel, lot by lot: notified → viewed → interested or not (with the reasons) → answered, read from
`LotResponse`; a message to the interested structures; a re-notification of one status group, at most
`MAX_RENOTIFICATIONS` times per lot and group, `RENOTIFY_INTERVAL` apart, while the tender is open.

Who sees it: the members of the buyer organisation once the tender is published (platform admins pass every
rule); anyone else gets a 404. Services flush, never commit.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text as text_sql
from sqlalchemy.orm import contains_eager

from ..accounts.models import User
from ..accounts.services import member_addresses
from ..core import audit
from ..core.access import RuleSet
from ..core.errors import DomainError
from ..core.filters import fr_datetime
from ..core.mail import queue_mail
from ..core.models import AuditEntry, utcnow
from ..core.urls import external_url
from ..extensions import db
from ..suppliers.models import Structure
from . import relay
from .answers import NOT_INTERESTED_REASONS
from .models import Interest, LotRenotification, LotResponse, RelayPreference, Tender, TenderLot
from .workflow_access import is_buyer

RULES = RuleSet()
MAX_RENOTIFICATIONS = 2
RENOTIFY_INTERVAL = timedelta(days=7)
#: the buyer's messages to a lot's interested structures: at most this many in any window of CONTACT_WINDOW
MAX_CONTACTS = 3
CONTACTED = "tender.interested_contacted"
CONTACT_WINDOW = timedelta(hours=24)
MAX_MESSAGE = 5000
#: the status groups a buyer may write to again (none of them holds a structure that declined)
GROUPS = {
    "notified": "Notifiées, sans intérêt déclaré",
    "viewed": "Ont consulté, sans intérêt déclaré",
    "interested": "Intéressées",
}


@RULES.rule("see_funnel", Tender)
def can_see_funnel(user, tender: Tender) -> bool:
    """The buyer organisation's members, once the tender was published."""
    return is_buyer(user, tender) and tender.published_at is not None


# --- reading -------------------------------------------------------------------------------------------

@dataclass
class LotFunnel:
    lot: TenderLot
    responses: list[LotResponse]
    #: stage -> count: notified, viewed, interested, not_interested, answered
    counts: dict[str, int] = field(default_factory=dict)
    #: reason code -> how many structures gave it (not interested)
    reasons: list[tuple[str, int]] = field(default_factory=list)
    renotifications: list[LotRenotification] = field(default_factory=list)


def lot_funnel(lot: TenderLot) -> LotFunnel:
    responses = list(db.session.execute(
        select(LotResponse).join(LotResponse.structure).options(contains_eager(LotResponse.structure))
        .where(LotResponse.lot_id == lot.id).order_by(Structure.name, Structure.id)).scalars())
    counts = {
        "notified": sum(1 for r in responses if r.notified_at is not None),
        "viewed": sum(1 for r in responses if r.viewed_at is not None),
        "interested": sum(1 for r in responses if r.interest == Interest.INTERESTED),
        "not_interested": sum(1 for r in responses if r.interest == Interest.NOT_INTERESTED),
        "answered": sum(1 for r in responses if r.answered_at is not None),
    }
    reasons = Counter(r.reason_code for r in responses if r.interest == Interest.NOT_INTERESTED)
    renotifications = list(db.session.execute(select(LotRenotification).where(LotRenotification.lot_id == lot.id)
                                              .order_by(LotRenotification.sent_at)).scalars())
    return LotFunnel(lot, responses, counts, sorted(reasons.items(), key=lambda item: (-item[1], item[0])),
                     renotifications)


def reason_label(code: str | None) -> str:
    """A not-interested reason as the structure chose it (`answers.NOT_INTERESTED_REASONS`); "" for none."""
    if not code:
        return ""
    return NOT_INTERESTED_REASONS.get(code, code)


def tender_funnel(tender: Tender) -> list[LotFunnel]:
    return [lot_funnel(lot) for lot in sorted(tender.lots, key=lambda lot: lot.position)]


EXPORT_HEADERS = ["Lot", "Structure", "SIRET", "Notifiée le", "Vue le", "Intérêt", "Intérêt déclaré le", "Motif",
                  "Précision", "Réponse le"]


def export_rows(tender: Tender) -> list[list]:
    """One line per lot × structure, in the funnel's order (dates in Paris time)."""
    labels = dict(Interest.choices())
    return [[funnel.lot.position, r.structure.display_name, r.structure.siret or "", fr_datetime(r.notified_at),
             fr_datetime(r.viewed_at), labels.get(r.interest, ""), fr_datetime(r.interest_at), reason_label(r.reason_code),
             r.reason_text or "", fr_datetime(r.answered_at)]
            for funnel in tender_funnel(tender) for r in funnel.responses]


def group_structures(lot: TenderLot, group: str) -> list[Structure]:
    """The structures of one status group of the lot: `notified` (notified, no interest declared), `viewed`
    (viewed, no interest declared), `interested`."""
    condition = {
        "notified": LotResponse.notified_at.is_not(None) & LotResponse.interest.is_(None),
        "viewed": LotResponse.viewed_at.is_not(None) & LotResponse.interest.is_(None),
        "interested": LotResponse.interest == Interest.INTERESTED,
    }[group]
    return list(db.session.execute(
        select(Structure).join(LotResponse, LotResponse.structure_id == Structure.id)
        .where(LotResponse.lot_id == lot.id, condition).order_by(Structure.name, Structure.id)).scalars())


def interested_contacts(lot: TenderLot) -> list[tuple[Structure, list[str]]]:
    """The interested structures and their organisation's members' addresses (the buyer's contact list)."""
    structures = group_structures(lot, "interested")
    addresses = member_addresses(db.session, {s.owner_organisation_id for s in structures if s.owner_organisation_id})
    return [(s, addresses.get(s.owner_organisation_id, [])) for s in structures]


# --- writing -------------------------------------------------------------------------------------------

def _message(text: str | None) -> str:
    body = (text or "").strip()
    if not body:
        raise DomainError("Message : ce champ est obligatoire.", "message")
    if len(body) > MAX_MESSAGE:
        raise DomainError(f"Message : {MAX_MESSAGE} caractères au plus ({len(body)}).", "message")
    return body


def _send(actor: User, lot: TenderLot, structures: list[Structure], body: str) -> int:
    """Queue the buyer's message to each structure's organisation members; return how many structures."""
    tender = lot.tender
    reply_to = tender.contact_email or actor.email
    addresses = member_addresses(db.session, {s.owner_organisation_id for s in structures if s.owner_organisation_id})
    link = external_url("tenders.show", tender_id=tender.id)
    reached = 0
    for structure in structures:
        to = addresses.get(structure.owner_organisation_id, [])
        for address in to:
            queue_mail(address, f"Message de {tender.organisation.name} : {tender.title}", "tender_buyer_message",
                       reply_to=reply_to, tender=tender, lot=lot, structure=structure, body=body, link=link)
        reached += bool(to)
    return reached


def next_contact(lot: TenderLot, now: datetime) -> datetime:
    """When the buyer may write to the lot's interested structures again: `now`, or when the oldest of the
    MAX_CONTACTS messages of the last CONTACT_WINDOW leaves it (read from the audit log, where each is recorded)."""
    sent = list(db.session.scalars(select(AuditEntry.created_at).where(
        AuditEntry.action == CONTACTED, AuditEntry.object_type == "tender",
        AuditEntry.object_id == str(lot.tender_id), AuditEntry.details["lot_id"].as_integer() == lot.id,
        AuditEntry.created_at > now - CONTACT_WINDOW).order_by(AuditEntry.created_at.desc()).limit(MAX_CONTACTS)))
    return sent[-1] + CONTACT_WINDOW if len(sent) >= MAX_CONTACTS else now


def contact_interested(actor: User, lot: TenderLot, text: str | None, now: datetime | None = None) -> int:
    """The buyer writes to the structures interested in the lot (replies go to the tender's contact); at most
    MAX_CONTACTS times a CONTACT_WINDOW, so that the portal relays no flood (the refusal says when)."""
    body = _message(text)
    # one transaction-scoped lock per lot: two messages sent at once are counted one after the other
    db.session.execute(text_sql("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"lot-contact:{lot.id}"})
    now = now or utcnow()
    if (allowed := next_contact(lot, now)) > now:
        raise DomainError(f"Vous avez déjà écrit {MAX_CONTACTS} fois aux structures intéressées par ce lot en 24 "
                          f"heures : c'est la limite. Vous pourrez leur écrire de nouveau à partir du "
                          f"{fr_datetime(allowed)}.", "message")
    structures = group_structures(lot, "interested")
    if not structures:
        raise DomainError("Aucune structure ne s'est déclarée intéressée par ce lot.", "message")
    reached = _send(actor, lot, structures, body)
    audit.record(actor, CONTACTED, lot.tender, lot_id=lot.id, structures=len(structures)).created_at = now
    db.session.flush()
    return reached


def next_renotification(lot: TenderLot, group: str, now: datetime | None = None) -> datetime | None:
    """When this group of the lot may be written to again: `now` or later; None when never again."""
    now = now or utcnow()
    sent = list(db.session.execute(select(LotRenotification.sent_at).where(
        LotRenotification.lot_id == lot.id, LotRenotification.group == group)
        .order_by(LotRenotification.sent_at)).scalars())
    if len(sent) >= MAX_RENOTIFICATIONS:
        return None
    return max(now, sent[-1] + RENOTIFY_INTERVAL) if sent else now


def renotify(actor: User, lot: TenderLot, group: str, text: str | None, now: datetime | None = None) -> LotRenotification:
    """Write again to one status group of the lot; refused after the deadline, a third time, or within a week
    of the previous one (the message names when it becomes possible). Structures that switched the relay mails
    off are left out, except the interested ones."""
    now = now or utcnow()
    if group not in GROUPS:
        raise DomainError("Groupe : choisissez l'un des groupes proposés.", "group")
    if not relay.is_open(lot.tender, now):
        raise DomainError("Relance impossible : la date limite de réponse est passée.", "group")
    # one re-notification of a lot at a time: two concurrent requests cannot both pass the count
    db.session.execute(select(TenderLot.id).where(TenderLot.id == lot.id).with_for_update())
    allowed_at = next_renotification(lot, group, now)
    if allowed_at is None:
        raise DomainError(f"Relance refusée : ce groupe a déjà été relancé {MAX_RENOTIFICATIONS} fois pour ce lot, "
                          "aucune autre relance n'est possible.", "group")
    if allowed_at > now:
        raise DomainError(f"Relance refusée : une semaine doit séparer deux relances d'un même groupe. Prochaine "
                          f"relance possible le {fr_datetime(allowed_at)}.", "group")
    body = _message(text)
    structures = group_structures(lot, group)
    if group != "interested" and structures:
        opted_out = set(db.session.execute(select(RelayPreference.structure_id).where(
            RelayPreference.structure_id.in_([s.id for s in structures]),
            RelayPreference.relay_mails.is_(False))).scalars())
        structures = [s for s in structures if s.id not in opted_out]
    if not structures:
        raise DomainError("Aucune structure à relancer dans ce groupe.", "group")
    reached = _send(actor, lot, structures, body)
    renotification = LotRenotification(lot_id=lot.id, group=group, message=body, recipients=reached,
                                       sent_by_id=actor.id, sent_at=now)
    db.session.add(renotification)
    audit.record(actor, "tender.renotified", lot.tender, lot_id=lot.id, group=group, structures=reached)
    db.session.flush()
    return renotification


def renotification_count(lot: TenderLot, group: str) -> int:
    return db.session.scalar(select(func.count()).where(LotRenotification.lot_id == lot.id,
                                                        LotRenotification.group == group)) or 0
