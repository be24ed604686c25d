"""The award of each lot of a closed tender: its holder (an inclusive structure of the directory, or any company
by SIRET), the amount, the date and the number of offers; or « infructueux » with its reason.

An award is a recorded fact, never a survey sent later: the outbox event `tenders.lot_awarded` carries the lot,
the tender, the buyer, the holder, the lot's clause document and its insertion hours, for the contracts-and-hours
work to take over. Once every lot is decided, the tender concludes (`workflow.conclude`).

Rules written down (README « Valider, publier, attribuer »): the award date is a decision already taken, so it is
not in the future (Paris day) nor before the consultation's launch; an awarded lot had at least one offer; an
amount is > 0 and below 1 000 milliards €; an unsuccessful lot may have had no offer at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from sqlalchemy.orm import Session

from ..clauses.spec import ClauseSpec, ClauseSpecError
from ..core import audit, outbox
from ..core.dates import today
from ..core.errors import DomainError
from ..core.identifiers import is_valid_siret, normalize_digits
from ..core.models import AuditEntry, utcnow
from ..extensions import db
from ..suppliers.models import Structure
from . import workflow
from .models import LotAward, LotStatus, Tender, TenderLot, TenderStatus

LOT_AWARDED = "tenders.lot_awarded"
#: a lot declared « infructueux » (other domains follow it: a grouping that answered learns it is not retained)
LOT_UNSUCCESSFUL = "tenders.lot_unsuccessful"
#: Numeric(14, 2): below 10^12 €
MAX_AMOUNT = Decimal("999999999999.99")
MAX_OFFERS = 100_000


@dataclass
class AwardData:
    """What the buyer typed: a directory structure (`structure_id`) or a company (`siret` and `holder_name`)."""

    structure_id: int | None
    siret: str | None
    holder_name: str | None
    amount: Any
    awarded_on: date | None
    offers_count: int | None
    #: a grouping (GME) that answered the lot, chosen as holder instead of a structure or a SIRET
    grouping_id: int | None = None


@dataclass(frozen=True)
class GroupingHolder:
    """A grouping named as holder, as the groupings domain describes it: its mandataire stands for it (SIRET,
    directory profile), `members` go into the award event (for the DECP `titulaires` and the hours follow-up)."""

    grouping_id: int
    structure_id: int | None
    siret: str
    name: str
    #: « Conjoint » or « Solidaire » (DECP `typeGroupementOperateurs`)
    decp_type: str
    members: tuple[dict[str, Any], ...]


#: set by the groupings domain: (grouping id, lot) → its holder, or DomainError when it may not hold the lot
grouping_holder: Callable[[int, TenderLot], GroupingHolder] | None = None


def _check_lot(tender: Tender, lot: TenderLot) -> None:
    if lot.tender_id != tender.id:
        raise DomainError("Ce lot n'appartient pas à cette consultation.")
    if tender.status != TenderStatus.CLOSED:
        raise DomainError(f"Un lot s'attribue une fois la consultation clôturée (date limite de réponse passée) ; "
                          f"celle-ci est « {workflow.TENDER_STATES.label(tender.status)} ».")
    if lot.status != LotStatus.OPEN:
        raise DomainError(f"Le lot {lot.position} est déjà « {LotStatus(lot.status).label} ».")


def _amount(value: Any) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(" ", "").replace(",", "."))
    except (InvalidOperation, ValueError):
        raise DomainError("Montant attribué : un nombre en euros HT, par exemple 125000,50.", "amount") from None
    if not amount.is_finite() or amount <= 0:
        raise DomainError("Montant attribué : il doit être supérieur à 0 €.", "amount")
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise DomainError("Montant attribué : au plus 999 999 999 999,99 €, deux décimales au plus.", "amount")
    return amount


def _offers(value: int | None, minimum: int) -> int | None:
    if value is None:
        if minimum > 0:
            raise DomainError("Nombre d'offres reçues : ce champ est obligatoire.", "offers_count")
        return None
    if value < minimum or value > MAX_OFFERS:
        raise DomainError("Nombre d'offres reçues : au moins une offre pour attribuer un lot." if minimum else
                          "Nombre d'offres reçues : un nombre positif ou nul.", "offers_count")
    return value


def _holder(data: AwardData) -> tuple[Structure | None, str, str]:
    """(directory structure or None, SIRET, name) of the holder."""
    if data.structure_id is not None:
        structure = db.session.get(Structure, data.structure_id)
        if structure is None or not structure.is_published:
            raise DomainError("Structure inconnue dans l'annuaire : choisissez-la à nouveau.", "structure_id")
        if not structure.siret:
            raise DomainError("Cette structure n'a pas de SIRET connu : saisissez le SIRET du titulaire.",
                              "structure_id")
        return structure, structure.siret, structure.display_name
    siret = normalize_digits(data.siret)
    if not siret:
        raise DomainError("Titulaire : choisissez une structure de l'annuaire ou saisissez un SIRET.", "siret")
    if not is_valid_siret(siret):
        raise DomainError("SIRET invalide : 14 chiffres dont le dernier est une clé de contrôle (vérifiez-le sur "
                          "l'avis de situation Sirene).", "siret")
    # a company of the directory named by its SIRET is linked to its profile
    structure = db.session.execute(db.select(Structure).where(Structure.siret == siret)).scalar_one_or_none()
    name = (data.holder_name or "").strip()
    if structure is not None and structure.is_published:
        return structure, siret, name or structure.display_name
    if not name:
        raise DomainError("Nom du titulaire : ce champ est obligatoire.", "holder_name")
    if len(name) > 250:
        raise DomainError("Nom du titulaire : 250 caractères au plus.", "holder_name")
    return None, siret, name


def _date(value: date | None, tender: Tender) -> date:
    if value is None:
        raise DomainError("Date d'attribution : ce champ est obligatoire (JJ/MM/AAAA).", "awarded_on")
    if value > today():
        raise DomainError("Date d'attribution : elle ne peut pas être dans le futur (l'attribution est une décision "
                          "déjà prise).", "awarded_on")
    if tender.launch_date is not None and value < tender.launch_date:
        raise DomainError(f"Date d'attribution : elle ne peut pas précéder le lancement de la consultation "
                          f"({tender.launch_date:%d/%m/%Y}).", "awarded_on")
    return value


def award_lot(actor, tender: Tender, lot: TenderLot, data: AwardData) -> LotAward:
    """Record the lot's holder and enqueue `tenders.lot_awarded`; conclude the tender when every lot is decided."""
    _check_lot(tender, lot)
    group = None
    if data.grouping_id is not None:
        if grouping_holder is None:
            raise DomainError("Groupement inconnu.", "grouping_id")
        group = grouping_holder(data.grouping_id, lot)
        structure = db.session.get(Structure, group.structure_id) if group.structure_id else None
        siret, name = group.siret, group.name[:250]
    else:
        structure, siret, name = _holder(data)
    amount = _amount(data.amount)
    awarded_on = _date(data.awarded_on, tender)
    offers = _offers(data.offers_count, 1)
    try:
        spec = ClauseSpec.from_json(lot.clauses)
    except ClauseSpecError as error:
        raise DomainError(f"Les clauses du lot {lot.position} sont illisibles : {error.message}") from None
    award = LotAward(lot=lot, awarded=True, holder_structure_id=structure.id if structure else None,
                     holder_siret=siret, holder_name=name, amount=amount, awarded_on=awarded_on,
                     offers_count=offers, recorded_by_id=getattr(actor, "id", None), recorded_at=utcnow(),
                     holder_grouping_id=group.grouping_id if group else None)
    db.session.add(award)
    lot.status = LotStatus.AWARDED
    db.session.flush()
    audit.record(actor, "tender.lot_awarded", tender, lot_id=lot.id, position=lot.position, holder_siret=siret,
                 holder_structure_id=award.holder_structure_id, holder_grouping_id=award.holder_grouping_id,
                 amount=str(amount), awarded_on=awarded_on.isoformat(), offers_count=offers)
    outbox.enqueue(LOT_AWARDED, award_event(tender, lot, award, spec, group))
    workflow.conclude(actor, tender)
    return award


def mark_unsuccessful(actor, tender: Tender, lot: TenderLot, reason: str | None,
                      offers_count: int | None) -> LotAward:
    """« Infructueux »: no holder, with its reason (no offer, only irregular or unacceptable offers…)."""
    _check_lot(tender, lot)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Motif : indiquez pourquoi le lot est infructueux.", "reason")
    if len(reason) > workflow.MAX_TEXT:
        raise DomainError(f"Motif : {workflow.MAX_TEXT} caractères au plus.", "reason")
    offers = _offers(offers_count, 0)
    award = LotAward(lot=lot, awarded=False, unsuccessful_reason=reason, offers_count=offers,
                     recorded_by_id=getattr(actor, "id", None), recorded_at=utcnow())
    db.session.add(award)
    lot.status = LotStatus.UNSUCCESSFUL
    db.session.flush()
    audit.record(actor, "tender.lot_unsuccessful", tender, lot_id=lot.id, position=lot.position, reason=reason,
                 offers_count=offers)
    outbox.enqueue(LOT_UNSUCCESSFUL, {"lot": {"id": lot.id, "position": lot.position}, "tender": {"id": tender.id},
                                      "reason": reason, "offers_count": offers})
    workflow.conclude(actor, tender)
    return award


def award_event(tender: Tender, lot: TenderLot, award: LotAward, spec: ClauseSpec,
                group: GroupingHolder | None = None) -> dict[str, Any]:
    """The payload of `tenders.lot_awarded` (JSON: decimals and dates as strings); a grouping holder adds its id,
    its type and its members."""
    organisation = tender.organisation
    hours = spec.insertion.hours if spec.insertion is not None else None
    return {
        "lot": {"id": lot.id, "position": lot.position, "title": lot.title,
                "amount": None if lot.amount is None else str(lot.amount), "cpv_codes": list(lot.cpv_codes or []),
                "place_ref": lot.place_ref or tender.place_ref},
        "tender": {"id": tender.id, "title": tender.title, "nature": tender.nature, "kind": tender.kind,
                   "procedure": tender.procedure, "place_ref": tender.place_ref},
        "buyer": {"organisation_id": organisation.id, "name": organisation.name, "siret": organisation.siret,
                  "category": workflow.buyer_category(organisation)},
        "holder": {"structure_id": award.holder_structure_id, "siret": award.holder_siret,
                   "name": award.holder_name, "grouping_id": group.grouping_id if group else None,
                   "grouping_type": group.decp_type if group else "Pas de groupement",
                   "members": list(group.members) if group else []},
        "award": {"id": award.id, "amount": str(award.amount), "awarded_on": award.awarded_on.isoformat(),
                  "offers_count": award.offers_count},
        "clauses": spec.to_json(),
        "clause_types": spec.clause_types(),
        "insertion_hours": None if hours is None else str(hours),
        "insertion_etp": None if spec.insertion is None else str(spec.insertion.etp),
    }


def record_award(session: Session, payload: dict[str, Any]) -> None:
    """The handler of `tenders.lot_awarded` until the contracts-and-hours work takes the event over: it records
    that the award was received, with the hours the holder owes, in the audit log."""
    session.add(AuditEntry(actor_id=None, action="tenders.lot_award_received", object_type="tender_lot",
                           object_id=str(payload["lot"]["id"]),
                           details={"award_id": payload["award"]["id"], "holder_siret": payload["holder"]["siret"],
                                    "insertion_hours": payload.get("insertion_hours"),
                                    "clause_types": payload.get("clause_types", [])}))
