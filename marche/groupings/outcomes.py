"""A grouping at the award: the buyer names it as a lot's holder (`holder`, the hook `tenders.award` calls), and
the award events move the groupings that answered (`follow_award`, `follow_unsuccessful`, outbox followers of
`tenders.lot_awarded` and `tenders.lot_unsuccessful`): awarded when a lot went to it, not retained once every
lot it answered is decided and none went to it. The moves are the system's, audited with no actor."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.errors import DomainError
from ..core.models import AuditEntry, utcnow
from ..extensions import db
from ..tenders.award import GroupingHolder
from ..tenders.models import LotStatus, TenderLot
from .models import Grouping, GroupingLot, GroupingStatus
from .services import GROUPING_STATES, shares_of

#: the statuses in which a grouping may be named holder: it declared its interest, or its offer
HOLDER_STATUSES = (GroupingStatus.CONFIRMED, GroupingStatus.SUBMITTED)


def answered_lot(lot: TenderLot) -> list[Grouping]:
    """The groupings the buyer may name as the lot's holder."""
    return list(db.session.scalars(
        select(Grouping).join(GroupingLot, GroupingLot.grouping_id == Grouping.id)
        .where(GroupingLot.lot_id == lot.id, Grouping.status.in_(HOLDER_STATUSES)).order_by(Grouping.id)))


def holder(grouping_id: int, lot: TenderLot) -> GroupingHolder:
    grouping = db.session.get(Grouping, grouping_id)
    if grouping is None or grouping.tender_id != lot.tender_id:
        raise DomainError("Groupement inconnu pour cette consultation : choisissez-le à nouveau.", "grouping_id")
    if grouping.status not in HOLDER_STATUSES or lot.id not in {gl.lot_id for gl in grouping.lots}:
        raise DomainError(f"{grouping.name} n'a pas répondu à ce lot (il est « {grouping.status_label} ») : il ne "
                          f"peut pas en être le titulaire.", "grouping_id")
    mandataire = grouping.mandataire
    if mandataire is None or not mandataire.siret:
        raise DomainError("Le mandataire de ce groupement n'a pas de SIRET connu : saisissez le SIRET du titulaire.",
                          "grouping_id")
    shares = shares_of(grouping)
    grouping_lot = next(gl for gl in grouping.lots if gl.lot_id == lot.id)
    members = []
    for member in grouping.accepted_members:
        share = shares.get((member.id, grouping_lot.id))
        members.append({"siret": member.siret, "name": member.display_name, "structure_id": member.structure_id,
                        "mandataire": member.id == grouping.mandataire_id,
                        "percent": None if share is None else str(share.percent),
                        "amount": None if share is None or share.amount is None else str(share.amount)})
    return GroupingHolder(grouping.id, mandataire.structure_id, mandataire.siret, grouping.name, grouping.decp_type,
                          tuple(members))


def _move(session: Session, grouping: Grouping, target: str, lot_id: int) -> None:
    move = GROUPING_STATES.check(grouping, target)
    grouping.status = move.target
    grouping.closed_at = utcnow()
    session.add(AuditEntry(actor_id=None, action=move.action, object_type="grouping", object_id=str(grouping.id),
                           details={"lot_id": lot_id, "from": str(move.source), "to": str(move.target)}))


def _follow(session: Session, lot_id: int, holder_grouping_id: int | None) -> None:
    groupings = session.scalars(
        select(Grouping).join(GroupingLot, GroupingLot.grouping_id == Grouping.id)
        .where(GroupingLot.lot_id == lot_id, Grouping.status.in_(HOLDER_STATUSES))
        .order_by(Grouping.id).with_for_update(of=Grouping)).all()
    for grouping in groupings:
        if grouping.id == holder_grouping_id:
            _move(session, grouping, GroupingStatus.AWARDED, lot_id)
            continue
        lots = session.scalars(select(TenderLot).join(GroupingLot, GroupingLot.lot_id == TenderLot.id)
                               .where(GroupingLot.grouping_id == grouping.id)).all()
        if all(lot.status != LotStatus.OPEN for lot in lots):
            _move(session, grouping, GroupingStatus.NOT_RETAINED, lot_id)


def follow_award(session: Session, payload: dict[str, Any]) -> None:
    _follow(session, payload["lot"]["id"], (payload.get("holder") or {}).get("grouping_id"))


def follow_unsuccessful(session: Session, payload: dict[str, Any]) -> None:
    _follow(session, payload["lot"]["id"], None)
