"""Forming, running and closing a grouping (GME). Services flush and never commit; every change is audited on the
grouping (its page shows the members that log) and mails go through the outbox.

Rules written down (README « Répondre en groupement (GME) »):
- a grouping answers a published tender before its answers deadline, for one or more of its lots;
- a structure is in one active grouping per lot (forming, confirmed, submitted or awarded): a second one is
  refused, whether it forms it, is invited into it or accepts; the check holds a lock on the structure, so two
  acceptances at the same instant cannot both pass;
- in a reserved lot every member is of a kind the reservation admits (the article cited);
- the composition (members, mandataire, lots, type, shares) changes only while forming; once confirmed, the
  mandataire reopens it first (which withdraws the declared interest until it confirms again);
- only an admin of an invited organisation accepts or declines for it; an e-mail invitation is answered by the
  account of the invited address, for an organisation it administers;
- confirming needs two members or more, no invitation still pending, every member holding a share, and each
  lot's shares summing to exactly 100 %.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, select, text

from ..accounts.models import MemberRole, Organisation, User
from ..core import audit
from ..core.errors import DomainError
from ..core.filters import fr_datetime
from ..core.identifiers import is_valid_siret, normalize_digits
from ..core.mail import queue_mail
from ..core.models import utcnow
from ..core.states import Move, StateMachine
from ..core.urls import external_url
from ..extensions import db
from ..suppliers.models import Publication, Structure
from ..tenders.answers import RESERVATION_ARTICLES, answers_open
from ..tenders.matching import RESERVED_KINDS
from ..tenders.models import Tender, TenderLot, TenderStatus
from . import shares as share_math
from . import tokens
from .models import (ACTIVE_STATUSES, Grouping, GroupingKind, GroupingLot, GroupingMember, GroupingMessage,
                     GroupingShare, GroupingStatus, GroupingSubcontractor, MemberStatus)

S = GroupingStatus
GROUPING_STATES = StateMachine("status", [
    Move(S.FORMING, S.CONFIRMED, "grouping.confirmed"),
    Move(S.CONFIRMED, S.FORMING, "grouping.reopened"),
    Move(S.CONFIRMED, S.SUBMITTED, "grouping.submitted"),
    Move(S.CONFIRMED, S.AWARDED, "grouping.awarded"),
    Move(S.SUBMITTED, S.AWARDED, "grouping.awarded"),
    Move(S.CONFIRMED, S.NOT_RETAINED, "grouping.not_retained"),
    Move(S.SUBMITTED, S.NOT_RETAINED, "grouping.not_retained"),
    Move(S.FORMING, S.DISSOLVED, "grouping.dissolved"),
    Move(S.CONFIRMED, S.DISSOLVED, "grouping.dissolved"),
    Move(S.SUBMITTED, S.DISSOLVED, "grouping.dissolved"),
], refused="Ce groupement est « {current} » : il ne peut pas passer à « {target} ».")

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_TEXT = 5000
MAX_MESSAGE = 5000
#: the most members a grouping invites (a GME of inclusive structures rarely has more than a handful)
MAX_MEMBERS = 20
#: the most e-mail invitations one account sends in 24 hours (they reach addresses outside the portal: no relay
#: for spam), counted in PostgreSQL so that it holds across workers
MAX_EMAIL_INVITATIONS_PER_DAY = 20


class GroupingError(DomainError):
    """A change the rules refuse; nothing was changed."""


# --- reading ---------------------------------------------------------------------------------------------------

def organisation_ids(user) -> set[int]:
    return {m.organisation_id for m in getattr(user, "memberships", ())} if user is not None else set()


def admin_organisation_ids(user) -> set[int]:
    return {m.organisation_id for m in getattr(user, "memberships", ()) if m.role == MemberRole.ADMIN}


def member_of(user, grouping: Grouping) -> GroupingMember | None:
    """The user's member row (invited or accepted) in this grouping, the accepted one first."""
    ids = organisation_ids(user)
    rows = [m for m in grouping.members if m.organisation_id in ids
            and m.status in (MemberStatus.INVITED, MemberStatus.ACCEPTED)]
    rows.sort(key=lambda m: m.status != MemberStatus.ACCEPTED)
    return rows[0] if rows else None


def is_mandataire_side(user, grouping: Grouping) -> bool:
    mandataire = grouping.mandataire
    return mandataire is not None and mandataire.organisation_id in organisation_ids(user)


def groupings_of_user(user) -> list[Grouping]:
    """The groupings the user's organisations are invited to or members of, the most recent first."""
    ids = organisation_ids(user)
    if not ids:
        return []
    return list(db.session.scalars(
        select(Grouping).join(GroupingMember, GroupingMember.grouping_id == Grouping.id)
        .where(GroupingMember.organisation_id.in_(ids),
               GroupingMember.status.in_((MemberStatus.INVITED, MemberStatus.ACCEPTED)))
        .distinct().order_by(Grouping.id.desc())))


def lot_label(lot: TenderLot) -> str:
    return f"Lot {lot.position} « {lot.title} »" if lot.tender.allotted else f"« {lot.tender.title} »"


# --- rules -----------------------------------------------------------------------------------------------------

def _require_forming(grouping: Grouping, what: str) -> None:
    if grouping.status != S.FORMING:
        raise GroupingError(f"{what} : le groupement est « {grouping.status_label} » ; la composition ne change "
                            f"que pendant sa constitution (le mandataire peut le rouvrir tant que l'offre n'est "
                            f"pas déposée).")


def _require_open(tender: Tender, now: datetime | None = None) -> None:
    if answers_open(tender, now):
        return
    if tender.status == TenderStatus.PUBLISHED:
        raise GroupingError(f"La date limite de réponse est passée ({fr_datetime(tender.answers_deadline)}) : "
                            f"la consultation ne reçoit plus de groupement.")
    raise GroupingError("Cette consultation n'est pas ouverte aux réponses : un groupement ne peut s'y former.")


def reserved_refusal(lot: TenderLot, member: GroupingMember | Structure | None, name: str) -> str | None:
    """Why this member may not be in a grouping answering this reserved lot (the article cited); None when it may.
    A company that is not a structure of the directory is of no admitted kind."""
    reservation = (lot.clauses or {}).get("reservation")
    allowed = RESERVED_KINDS.get(reservation)
    if allowed is None:
        return None
    kinds = set(member.kinds or ()) if isinstance(member, Structure) else set(member.kinds if member else ())
    if kinds & set(allowed):
        return None
    article, whom = RESERVATION_ARTICLES[reservation]
    return (f"{lot_label(lot)} est réservé {whom} (article {article} du code de la commande publique) : "
            f"{name} n'est pas d'un type admis, ni seul ni en groupement.")


def _lock_structure(structure_id: int) -> None:
    """Serialise the checks of one structure's groupings until the transaction ends."""
    db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('grouping-structure'), :id)"),
                       {"id": structure_id})


def _other_active(structure_id: int, lot_ids: list[int], grouping_id: int | None) -> list[tuple[int, int]]:
    """(grouping id, lot id) of the structure's other active groupings on these lots."""
    if not lot_ids:
        return []
    query = (select(Grouping.id, GroupingLot.lot_id)
             .join(GroupingLot, GroupingLot.grouping_id == Grouping.id)
             .join(GroupingMember, GroupingMember.grouping_id == Grouping.id)
             .where(GroupingMember.structure_id == structure_id,
                    GroupingMember.status == MemberStatus.ACCEPTED,
                    Grouping.status.in_(ACTIVE_STATUSES), GroupingLot.lot_id.in_(lot_ids)))
    if grouping_id is not None:
        query = query.where(Grouping.id != grouping_id)
    # in a fixed order: the refusal names the first clash, the same one each time
    return list(db.session.execute(query.order_by(Grouping.id, GroupingLot.lot_id)).all())


def _require_single(structure: Structure | None, lots: list[TenderLot], grouping_id: int | None) -> None:
    if structure is None:
        return
    _lock_structure(structure.id)
    clash = _other_active(structure.id, [lot.id for lot in lots], grouping_id)
    if clash:
        lot = next(lot for lot in lots if lot.id == clash[0][1])
        raise GroupingError(f"{structure.display_name} est déjà membre d'un autre groupement actif sur "
                            f"{lot_label(lot)} : une structure ne répond qu'une fois par lot. Ce groupement doit "
                            f"être dissous, ou la structure en être retirée, d'abord.")


def _lots(tender: Tender, lot_ids: list[int]) -> list[TenderLot]:
    wanted = {int(i) for i in lot_ids}
    lots = [lot for lot in tender.lots if lot.id in wanted]
    if not wanted:
        raise GroupingError("Lots : choisissez au moins un lot auquel le groupement répond.", "lot_ids")
    if len(lots) != len(wanted):
        raise GroupingError("Lots : un des lots choisis n'appartient pas à cette consultation.", "lot_ids")
    return sorted(lots, key=lambda lot: lot.position)


def _kind(kind: str, jointly_liable: bool) -> tuple[str, bool]:
    if kind not in GroupingKind._value2member_map_:
        raise GroupingError("Type de groupement : conjoint ou solidaire.", "kind")
    return kind, bool(jointly_liable) and kind == GroupingKind.CONJOINT


def _text(value: str | None, label: str, field: str, limit: int = MAX_TEXT, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise GroupingError(f"{label} : ce champ est obligatoire.", field)
    if len(value) > limit:
        raise GroupingError(f"{label} : {limit} caractères au plus.", field)
    return value


def _structure_admins(organisation_id: int | None) -> list[User]:
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    return organisation.admins if organisation is not None else []


def _mail_members(grouping: Grouping, subject: str, template: str, exclude_org: int | None = None,
                  **context: Any) -> None:
    """Each accepted member's organisation admins (the outbox sends)."""
    link = external_url("groupings.show", grouping_id=grouping.id)
    seen: set[str] = set()
    for member in grouping.accepted_members:
        if member.organisation_id is None or member.organisation_id == exclude_org:
            continue
        for admin in _structure_admins(member.organisation_id):
            if admin.email.lower() not in seen:
                seen.add(admin.email.lower())
                queue_mail(admin.email, subject, template, grouping=grouping, link=link, **context)


# --- forming ---------------------------------------------------------------------------------------------------

def start(actor: User, tender: Tender, structure: Structure, lot_ids: list[int], kind: str,
          jointly_liable: bool = False, now: datetime | None = None) -> Grouping:
    """`structure` (whose organisation the actor belongs to: the view checks it) forms a grouping as its proposed
    mandataire, for these lots of the tender."""
    _require_open(tender, now)
    if structure.owner_organisation_id is None or structure.publication != Publication.PUBLISHED:
        raise GroupingError("Seule une structure revendiquée et publiée dans l'annuaire forme un groupement.")
    lots = _lots(tender, lot_ids)
    kind, jointly_liable = _kind(kind, jointly_liable)
    for lot in lots:
        refusal = reserved_refusal(lot, structure, structure.display_name)
        if refusal:
            raise GroupingError(refusal, "lot_ids")
    _require_single(structure, lots, None)
    grouping = Grouping(tender=tender, kind=kind, mandataire_jointly_liable=jointly_liable,
                        status=S.FORMING, created_by_id=actor.id)
    grouping.lots = [GroupingLot(lot=lot, price=lot.amount) for lot in lots]
    lead = GroupingMember(structure=structure, organisation_id=structure.owner_organisation_id,
                          status=MemberStatus.ACCEPTED, invited_by_id=actor.id, answered_by_id=actor.id,
                          answered_at=utcnow())
    grouping.members.append(lead)
    db.session.add(grouping)
    db.session.flush()
    grouping.mandataire = lead
    db.session.flush()
    audit.record(actor, "grouping.created", grouping, tender_id=tender.id, structure_id=structure.id,
                 kind=kind, lot_ids=[lot.id for lot in lots])
    return grouping


def _existing_row(grouping: Grouping, structure_id: int | None = None,
                  email: str | None = None) -> GroupingMember | None:
    for member in grouping.members:
        if structure_id is not None and member.structure_id == structure_id:
            return member
        if email and member.invited_email and member.invited_email.lower() == email.lower():
            return member
    return None


def _reuse_or_new(grouping: Grouping, member: GroupingMember | None, name: str) -> GroupingMember:
    if member is not None and member.status in (MemberStatus.INVITED, MemberStatus.ACCEPTED):
        raise GroupingError(f"{name} est déjà {'membre' if member.status == MemberStatus.ACCEPTED else 'invité'} "
                            f"de ce groupement.")
    active = [m for m in grouping.members if m.status in (MemberStatus.INVITED, MemberStatus.ACCEPTED)]
    if len(active) >= MAX_MEMBERS:
        raise GroupingError(f"Un groupement compte {MAX_MEMBERS} membres au plus (invitations en attente comprises).")
    if member is None:
        member = GroupingMember(grouping=grouping)  # the relationship's back-reference appends it to the members
        db.session.add(member)
    member.status = MemberStatus.INVITED
    member.answered_by_id, member.answered_at, member.decline_reason = None, None, None
    return member


def invite_structure(actor: User, grouping: Grouping, structure: Structure, services: str | None = None) -> GroupingMember:
    """Invite a claimed structure of the directory: its organisation's admins are mailed a link to answer."""
    _require_forming(grouping, "Invitation")
    _require_open(grouping.tender)
    if structure is None or structure.publication != Publication.PUBLISHED:
        raise GroupingError("Structure inconnue dans l'annuaire : choisissez-la à nouveau.", "structure_id")
    if structure.owner_organisation_id is None:
        raise GroupingError(f"{structure.display_name} n'a pas encore de compte sur le portail : invitez-la par "
                            f"e-mail (son adresse de contact), elle s'inscrira par le lien reçu.", "structure_id")
    for grouping_lot in grouping.lots:
        refusal = reserved_refusal(grouping_lot.lot, structure, structure.display_name)
        if refusal:
            raise GroupingError(refusal, "structure_id")
    member = _reuse_or_new(grouping, _existing_row(grouping, structure_id=structure.id), structure.display_name)
    member.structure, member.organisation_id = structure, structure.owner_organisation_id
    member.invited_by_id = actor.id
    member.services = _text(services, "Prestations", "services")
    db.session.flush()
    audit.record(actor, "grouping.member_invited", grouping, member_id=member.id, structure_id=structure.id)
    link = external_url("groupings.show", grouping_id=grouping.id)
    for admin in _structure_admins(structure.owner_organisation_id):
        queue_mail(admin.email, f"Invitation à un groupement : {grouping.tender.title}", "grouping_invitation",
                   grouping=grouping, member=member, inviter=actor, link=link, by_email=False)
    return member


def invite_by_email(actor: User, grouping: Grouping, email: str, company_name: str, siret: str | None,
                    services: str | None = None) -> GroupingMember:
    """Invite a company that is not on the portal: the address receives a signed link, signs up, and answers
    for the organisation it then administers."""
    _require_forming(grouping, "Invitation")
    _require_open(grouping.tender)
    email = (email or "").strip()
    since = utcnow() - timedelta(hours=24)
    sent = db.session.scalar(select(func.count()).select_from(GroupingMember).where(
        GroupingMember.invited_by_id == actor.id, GroupingMember.invited_email.is_not(None),
        GroupingMember.created_at > since)) or 0
    if sent >= MAX_EMAIL_INVITATIONS_PER_DAY:
        raise GroupingError(f"Vous avez envoyé {MAX_EMAIL_INVITATIONS_PER_DAY} invitations par e-mail en 24 heures : "
                            f"c'est la limite. Invitez depuis l'annuaire, ou réessayez demain.", "email")
    if not EMAIL_RE.fullmatch(email) or len(email) > 254:
        raise GroupingError("Adresse e-mail : elle n'est pas valide (exemple : contact@entreprise.fr).", "email")
    name = _text(company_name, "Raison sociale", "company_name", 250, required=True)
    digits = normalize_digits(siret) or None
    if digits is not None and not is_valid_siret(digits):
        raise GroupingError("SIRET invalide : 14 chiffres dont le dernier est une clé de contrôle.", "siret")
    reserved = next((gl.lot for gl in grouping.lots if (gl.lot.clauses or {}).get("reservation")), None)
    known = db.session.scalar(select(Structure).where(Structure.siret == digits)) if digits else None
    if reserved is not None and known is None:
        raise GroupingError(reserved_refusal(reserved, None, name) or "", "email")
    if known is not None and known.publication == Publication.PUBLISHED and known.owner_organisation_id:
        raise GroupingError(f"{known.display_name} est déjà sur le portail : invitez-la depuis l'annuaire.", "siret")
    member = _reuse_or_new(grouping, _existing_row(grouping, email=email), name)
    member.invited_email, member.company_name, member.company_siret = email, name, digits
    member.structure = known if known is not None and known.publication == Publication.PUBLISHED else None
    if member.structure is not None:
        for grouping_lot in grouping.lots:
            refusal = reserved_refusal(grouping_lot.lot, member.structure, name)
            if refusal:
                raise GroupingError(refusal, "email")
    member.invited_by_id = actor.id
    member.services = _text(services, "Prestations", "services")
    db.session.flush()
    audit.record(actor, "grouping.member_invited", grouping, member_id=member.id, email=email.lower())
    link = external_url("groupings.invitation", token=tokens.make_token(member))
    queue_mail(email, f"Invitation à un groupement : {grouping.tender.title}", "grouping_invitation",
               grouping=grouping, member=member, inviter=actor, link=link, by_email=True,
               days=current_app.config["INVITATION_MAX_AGE"] // 86400)
    return member


def answer_invitation(actor: User, member: GroupingMember, accept: bool, organisation: Organisation | None = None,
                      reason: str | None = None) -> None:
    """An admin of the invited organisation accepts or declines (an e-mail invitation: the invited address, for
    the organisation it chooses among those it administers)."""
    grouping = member.grouping
    if member.status != MemberStatus.INVITED:
        raise GroupingError("Cette invitation a déjà reçu une réponse.")
    if member.organisation_id is None:  # an e-mail invitation
        if actor.email.lower() != (member.invited_email or "").lower():
            raise GroupingError(f"Cette invitation est adressée à {member.invited_email} : connectez-vous avec ce "
                                f"compte pour y répondre.")
        if accept:
            if organisation is None or organisation.id not in admin_organisation_ids(actor):
                raise GroupingError("Organisation : choisissez une organisation dont vous êtes administrateur.",
                                    "organisation_id")
            if any(m.organisation_id == organisation.id and m.id != member.id
                   and m.status in (MemberStatus.INVITED, MemberStatus.ACCEPTED) for m in grouping.members):
                raise GroupingError(f"{organisation.name} est déjà dans ce groupement.", "organisation_id")
            member.organisation_id = organisation.id
            if member.structure is None:
                owned = db.session.scalars(select(Structure).where(
                    Structure.owner_organisation_id == organisation.id,
                    Structure.publication == Publication.PUBLISHED)).all()
                member.structure = next((s for s in owned if s.siret and s.siret == member.company_siret),
                                        owned[0] if len(owned) == 1 else None)
    elif member.organisation_id not in admin_organisation_ids(actor):
        raise GroupingError("Seul un administrateur de l'organisation invitée répond pour elle.")
    if accept:
        _require_forming(grouping, "Acceptation")
        _require_open(grouping.tender)
        lots = [gl.lot for gl in grouping.lots]
        for lot in lots:
            refusal = reserved_refusal(lot, member, member.display_name)
            if refusal:
                raise GroupingError(refusal)
        _require_single(member.structure, lots, grouping.id)
    member.status = MemberStatus.ACCEPTED if accept else MemberStatus.DECLINED
    member.answered_by_id, member.answered_at = actor.id, utcnow()
    member.decline_reason = None if accept else (_text(reason, "Motif", "reason", 1000) or None)
    db.session.flush()
    audit.record(actor, "grouping.invitation_accepted" if accept else "grouping.invitation_declined", grouping,
                 member_id=member.id, organisation_id=member.organisation_id)
    mandataire = grouping.mandataire
    if mandataire is not None:
        for admin in _structure_admins(mandataire.organisation_id):
            queue_mail(admin.email, f"{member.display_name} {'rejoint' if accept else 'décline'} le groupement",
                       "grouping_answer", grouping=grouping, member=member, accepted=accept,
                       link=external_url("groupings.show", grouping_id=grouping.id))


def remove_member(actor: User, grouping: Grouping, member: GroupingMember) -> None:
    """The mandataire withdraws an invitation or a member (its shares go with it)."""
    _require_forming(grouping, "Retrait d'un membre")
    if member.grouping_id != grouping.id or member.status not in (MemberStatus.INVITED, MemberStatus.ACCEPTED):
        raise GroupingError("Ce membre ne fait pas partie du groupement.")
    if member.id == grouping.mandataire_id:
        raise GroupingError("Le mandataire ne se retire pas : désignez d'abord un autre mandataire, ou dissolvez le "
                            "groupement.")
    member.status = MemberStatus.REMOVED
    for share in list(member.shares):
        db.session.delete(share)
    db.session.flush()
    audit.record(actor, "grouping.member_removed", grouping, member_id=member.id)


def set_mandataire(actor: User, grouping: Grouping, member: GroupingMember) -> None:
    _require_forming(grouping, "Mandataire")
    if member.grouping_id != grouping.id or member.status != MemberStatus.ACCEPTED:
        raise GroupingError("Le mandataire est l'un des membres du groupement (invitation acceptée).", "member_id")
    if member.id == grouping.mandataire_id:
        raise GroupingError(f"{member.display_name} est déjà le mandataire.", "member_id")
    before = grouping.mandataire_id
    grouping.mandataire = member
    db.session.flush()
    audit.record(actor, "grouping.mandataire_changed", grouping, member_id=member.id, previous_member_id=before)


def update_terms(actor: User, grouping: Grouping, kind: str, jointly_liable: bool, lot_ids: list[int]) -> None:
    """Type (conjoint or solidaire, the mandataire's joint liability) and the lots answered."""
    _require_forming(grouping, "Type et lots")
    _require_open(grouping.tender)
    kind, jointly_liable = _kind(kind, jointly_liable)
    lots = _lots(grouping.tender, lot_ids)
    for member in grouping.accepted_members:
        for lot in lots:
            refusal = reserved_refusal(lot, member, member.display_name)
            if refusal:
                raise GroupingError(refusal, "lot_ids")
        _require_single(member.structure, lots, grouping.id)
    before = {"kind": grouping.kind, "jointly_liable": grouping.mandataire_jointly_liable,
              "lot_ids": sorted(gl.lot_id for gl in grouping.lots)}
    grouping.kind, grouping.mandataire_jointly_liable = kind, jointly_liable
    keep = {lot.id for lot in lots}
    for grouping_lot in list(grouping.lots):
        if grouping_lot.lot_id not in keep:
            grouping.lots.remove(grouping_lot)
    present = {gl.lot_id for gl in grouping.lots}
    for lot in lots:
        if lot.id not in present:
            grouping.lots.append(GroupingLot(lot=lot, price=lot.amount))
    db.session.flush()
    after = {"kind": kind, "jointly_liable": jointly_liable, "lot_ids": sorted(keep)}
    if after != before:
        audit.record(actor, "grouping.terms_changed", grouping, before=before, after=after)


def set_shares(actor: User, grouping: Grouping, grouping_lot: GroupingLot, percents: dict[int, Any],
               price: Any = None, services: dict[int, str] | None = None) -> None:
    """The shares of one lot, all at once: a percent for each accepted member (empty or 0: no share), summing to
    exactly 100 %; the amounts follow from the grouping's price for the lot. All or nothing."""
    _require_forming(grouping, "Répartition")
    if grouping_lot.grouping_id != grouping.id:
        raise GroupingError("Ce lot n'est pas l'un de ceux auxquels le groupement répond.")
    name = lot_label(grouping_lot.lot)
    members = grouping.accepted_members
    parsed = {m.id: share_math.parse_percent(percents.get(m.id), m.display_name) for m in members}
    unknown = set(int(k) for k in percents) - {m.id for m in members}
    if unknown:
        raise GroupingError("Répartition : un des membres indiqués n'est pas membre du groupement.")
    held = [(m, p) for m in members if (p := parsed[m.id]) is not None]
    share_math.check_total([p for _, p in held], name)
    new_price = share_math.parse_price(price) if price not in (None, "") else grouping_lot.price
    amounts = share_math.split_amounts(new_price, [p for _, p in held]) if new_price is not None else [None] * len(held)
    for share in db.session.scalars(select(GroupingShare).where(GroupingShare.grouping_lot_id == grouping_lot.id)):
        db.session.delete(share)
    db.session.flush()
    grouping_lot.price = new_price
    for (member, percent), amount in zip(held, amounts):
        db.session.add(GroupingShare(member=member, grouping_lot=grouping_lot, percent=percent, amount=amount))
    for member in members:
        if services and member.id in services:
            member.services = _text(services[member.id], f"Prestations de {member.display_name}", "services")
    db.session.flush()
    audit.record(actor, "grouping.shares_set", grouping, lot_id=grouping_lot.lot_id,
                 price=None if new_price is None else str(new_price),
                 shares={str(m.id): str(p) for m, p in held})


def shares_of(grouping: Grouping) -> dict[tuple[int, int], GroupingShare]:
    """(member id, grouping lot id) → share."""
    return shares_of_many([grouping])[grouping.id]


def shares_of_many(groupings: list[Grouping]) -> dict[int, dict[tuple[int, int], GroupingShare]]:
    """`shares_of` of each grouping, read in one query: grouping id → (member id, grouping lot id) → share."""
    lot_owner = {gl.id: grouping.id for grouping in groupings for gl in grouping.lots}
    found: dict[int, dict[tuple[int, int], GroupingShare]] = {grouping.id: {} for grouping in groupings}
    if lot_owner:
        for share in db.session.scalars(select(GroupingShare).where(GroupingShare.grouping_lot_id.in_(list(lot_owner)))):
            found[lot_owner[share.grouping_lot_id]][(share.member_id, share.grouping_lot_id)] = share
    return found


def lot_totals(grouping: Grouping) -> dict[int, Decimal]:
    """Grouping lot id → the sum of its members' percents (accepted members only)."""
    accepted = {m.id for m in grouping.accepted_members}
    totals = {gl.id: Decimal(0) for gl in grouping.lots}
    for (member_id, grouping_lot_id), share in shares_of(grouping).items():
        if member_id in accepted:
            totals[grouping_lot_id] += share.percent
    return totals


def add_subcontractor(actor: User, grouping: Grouping, member: GroupingMember, name: str, siret: str,
                      services: str, amount: Any = None) -> GroupingSubcontractor:
    """A subcontractor declared by a member (DC4), until the grouping is awarded or closed."""
    if grouping.status not in (S.FORMING, S.CONFIRMED, S.SUBMITTED):
        raise GroupingError(f"Le groupement est « {grouping.status_label} » : il ne déclare plus de sous-traitant.")
    if member.grouping_id != grouping.id or member.status != MemberStatus.ACCEPTED:
        raise GroupingError("Le sous-traitant est déclaré par un membre du groupement.", "member_id")
    name = _text(name, "Raison sociale du sous-traitant", "name", 250, required=True)
    digits = normalize_digits(siret)
    if not is_valid_siret(digits):
        raise GroupingError("SIRET du sous-traitant : 14 chiffres dont le dernier est une clé de contrôle.", "siret")
    services = _text(services, "Prestations sous-traitées", "services", required=True)
    value = share_math.parse_price(amount) if amount not in (None, "") else None
    row = GroupingSubcontractor(grouping=grouping, member=member, name=name, siret=digits, services=services,
                                amount=value)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "grouping.subcontractor_declared", grouping, subcontractor_id=row.id, member_id=member.id,
                 siret=digits)
    return row


def remove_subcontractor(actor: User, grouping: Grouping, row: GroupingSubcontractor) -> None:
    if grouping.status not in (S.FORMING, S.CONFIRMED, S.SUBMITTED) or row.grouping_id != grouping.id:
        raise GroupingError("Ce sous-traitant ne peut plus être retiré.")
    db.session.delete(row)
    db.session.flush()
    audit.record(actor, "grouping.subcontractor_removed", grouping, subcontractor_id=row.id)


def post_message(actor: User, grouping: Grouping, body: str) -> GroupingMessage:
    body = _text(body, "Message", "body", MAX_MESSAGE, required=True)
    message = GroupingMessage(grouping=grouping, member=member_of(actor, grouping), author_id=actor.id, body=body)
    db.session.add(message)
    db.session.flush()
    return message


# --- the moves -------------------------------------------------------------------------------------------------

def confirm_problems(grouping: Grouping) -> list[str]:
    """What still prevents confirming (empty: it may be confirmed)."""
    problems = []
    members = grouping.accepted_members
    if len(members) < 2:
        problems.append("Un groupement compte au moins deux membres ayant accepté.")
    if grouping.pending_members:
        problems.append(f"{len(grouping.pending_members)} invitation(s) en attente : attendez la réponse ou "
                        f"retirez-les.")
    held: set[int] = set()
    shares = shares_of(grouping)
    totals = lot_totals(grouping)
    for grouping_lot in grouping.lots:
        total = totals[grouping_lot.id]
        if total != 100:
            shown = f"{total:f}".rstrip("0").rstrip(".").replace(".", ",") if total else "0"
            problems.append(f"{lot_label(grouping_lot.lot)} : les parts font {shown} %, il faut exactement 100 %.")
        for member in members:
            if (member.id, grouping_lot.id) in shares:
                held.add(member.id)
            refusal = reserved_refusal(grouping_lot.lot, member, member.display_name)
            if refusal:
                problems.append(refusal)
    idle = [m.display_name for m in members if m.id not in held]
    if idle and len(members) >= 2:
        problems.append("Chaque membre a une part d'au moins un lot ; sans part : " + ", ".join(idle) + ".")
    return problems


def confirm(actor: User, grouping: Grouping, now: datetime | None = None) -> None:
    """The composition is final: the grouping declares its interest, and the buyer sees it with its members."""
    GROUPING_STATES.check(grouping, S.CONFIRMED)
    _require_open(grouping.tender, now)
    problems = confirm_problems(grouping)
    if problems:
        raise GroupingError("Le groupement ne peut pas encore être confirmé : " + " ".join(problems))
    lots = [gl.lot for gl in grouping.lots]
    for member in grouping.accepted_members:
        _require_single(member.structure, lots, grouping.id)
    GROUPING_STATES.move(actor, grouping, S.CONFIRMED)
    grouping.confirmed_at = now or utcnow()
    db.session.flush()
    _mail_members(grouping, f"Groupement confirmé : {grouping.tender.title}", "grouping_status",
                  exclude_org=grouping.mandataire.organisation_id if grouping.mandataire else None)


def reopen(actor: User, grouping: Grouping) -> None:
    """Back to forming, to change the composition (the buyer no longer sees it until it is confirmed again)."""
    GROUPING_STATES.check(grouping, S.FORMING)
    _require_open(grouping.tender)
    GROUPING_STATES.move(actor, grouping, S.FORMING)
    grouping.confirmed_at = None
    db.session.flush()
    _mail_members(grouping, f"Groupement rouvert : {grouping.tender.title}", "grouping_status",
                  exclude_org=grouping.mandataire.organisation_id if grouping.mandataire else None)


def submit(actor: User, grouping: Grouping, now: datetime | None = None) -> None:
    """The mandataire declares the offer deposited (on the buyer's profile), before the deadline."""
    GROUPING_STATES.check(grouping, S.SUBMITTED)
    _require_open(grouping.tender, now)
    GROUPING_STATES.move(actor, grouping, S.SUBMITTED)
    grouping.submitted_at = now or utcnow()
    db.session.flush()
    _mail_members(grouping, f"Offre du groupement déposée : {grouping.tender.title}", "grouping_status",
                  exclude_org=grouping.mandataire.organisation_id if grouping.mandataire else None)


def dissolve(actor: User, grouping: Grouping, reason: str | None) -> None:
    GROUPING_STATES.check(grouping, S.DISSOLVED)
    reason = _text(reason, "Motif de la dissolution", "reason", 2000, required=True)
    GROUPING_STATES.move(actor, grouping, S.DISSOLVED, reason=reason)
    grouping.dissolved_reason, grouping.closed_at = reason, utcnow()
    db.session.flush()
    _mail_members(grouping, f"Groupement dissous : {grouping.tender.title}", "grouping_status",
                  exclude_org=grouping.mandataire.organisation_id if grouping.mandataire else None, reason=reason)
