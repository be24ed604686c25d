"""Contracts, participants and hours declarations: the rules, each refused in French with nothing saved.

Services never commit (the view's `commit_or_report` does, or the outbox's savepoint). Written-down choices
(README « Marchés et heures d'insertion »):

- A contract is followed by a **record keeper**: the verified facilitator whose territories hold the contract's
  place (the most local one: commune, then department, region, France), or, when none does, the buyer. The
  keeper validates hours, locks months, keeps the participants and moves the contract's status.
- A lot awarded with an insertion clause becomes a contract at once (`from_award`, follower of
  `tenders.lot_awarded`); its period runs from the award date for the tender's duration (12 months when the
  tender gave none), and the keeper can correct it while nothing is declared.
- Declaring (holder, its partners, the keeper): the contract is active; the month is a month of the contract,
  not after the current month in Paris, not locked; the mode is one the clause accepts; hours are > 0, have at
  most two decimals, and one participant's hours on one contract and month stay ≤ 220 (lines waiting for a
  decision and validated lines not replaced by a correction, all modes together).
- A validated line is never changed (the database refuses it): `correct` adds a line that names it; the month
  must still be open. A line waiting for a decision can be withdrawn by its declaring organisation or the keeper.
- A month is locked by the keeper once it is over (in Paris) and no line in it waits for a decision.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.orm import aliased, selectinload

from ..accounts.models import Organisation, OrganisationKind, VerificationStatus
from ..clauses.calculator import fr_decimal
from ..clauses.catalogue import EligiblePublic, FulfilmentMode
from ..core import audit
from ..core.dates import today
from ..core.errors import DomainError
from ..core.identifiers import is_valid_siret, normalize_digits
from ..core.models import utcnow
from ..core.states import Move, StateMachine
from ..extensions import db
from ..geo.coverage import enclosing_refs, place
from ..geo.services import TerritoryError
from ..suppliers.models import Structure
from ..tenders.drafting import parse_amount, parse_cpv_codes
from .models import (MAX_MONTH_HOURS, Contract, ContractPartner, ContractStatus, DeclarationStatus, HolderKind,
                     HoursDeclaration, MonthLock, Participant, Sex)

CONTRACT_STATES = StateMachine("status", [
    Move(ContractStatus.ACTIVE, ContractStatus.COMPLETED, "contract.completed"),
    Move(ContractStatus.COMPLETED, ContractStatus.ACTIVE, "contract.reopened"),
    Move(ContractStatus.COMPLETED, ContractStatus.CLOSED, "contract.closed"),
], refused="Ce marché est « {current} » : il ne peut pas passer à « {target} ».")

DECLARATION_STATES = StateMachine("status", [
    Move(DeclarationStatus.SUBMITTED, DeclarationStatus.VALIDATED, "hours.validated"),
    Move(DeclarationStatus.SUBMITTED, DeclarationStatus.REJECTED, "hours.rejected"),
], refused="Cette déclaration est déjà « {current} » : elle ne peut plus être « {target} ».")

MAX_TITLE, MAX_NAME, MAX_REASON = 300, 250, 2000
#: an hours target above this is a typo (10 million hours is ~6 200 ETP over the contract)
MAX_HOURS_TARGET = Decimal(10_000_000)
#: a contract shorter than a day or longer than 30 years is a typo
MAX_YEARS = 30
DEFAULT_DURATION_MONTHS = 12
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
#: a participant is of working age: 14 (apprentices from 15 in the year) to 80 in the year of the record
MIN_AGE, MAX_AGE = 14, 80


# --- reading the inputs ------------------------------------------------------------------------------

def _text(value: Any, field_name: str, label: str, max_length: int, required: bool = True) -> str:
    result = "" if value is None else str(value).strip()
    if required and not result:
        raise DomainError(f"{label} : ce champ est obligatoire.", field_name)
    if len(result) > max_length:
        raise DomainError(f"{label} : {max_length} caractères au plus.", field_name)
    return result


def parse_hours(value: Any, field_name: str = "hours", label: str = "Heures",
                maximum: Decimal = MAX_MONTH_HOURS) -> Decimal:
    """Hours, French comma accepted (« 12,5 »): > 0, at most two decimals, at most `maximum`."""
    if isinstance(value, Decimal):
        number = value
    else:
        raw = re.sub(r"[\s\u00a0\u202f]", "", str(value or "")).replace(",", ".").removesuffix("h")
        try:
            number = Decimal(raw)
        except (InvalidOperation, ValueError):
            raise DomainError(f"{label} : nombre d'heures attendu (par exemple 35 ou 12,5).", field_name) from None
    if not number.is_finite() or number <= 0:
        raise DomainError(f"{label} : un nombre d'heures supérieur à 0 est attendu.", field_name)
    if number > maximum:
        raise DomainError(f"{label} : {number} h dépasse le maximum de {maximum} h.", field_name)
    if number != number.quantize(Decimal("0.01")):
        raise DomainError(f"{label} : au plus deux décimales.", field_name)
    return number.quantize(Decimal("0.01"))


_MONTH = (re.compile(r"([0-9]{1,2})[/.-]([0-9]{4})"), re.compile(r"([0-9]{4})-([0-9]{1,2})"))


def parse_month(value: Any, field_name: str = "month", label: str = "Mois") -> date:
    """« 03/2026 », « 3/2026 » or « 2026-03 » (a spreadsheet's date cell gives its month): the first of the month."""
    if isinstance(value, date):
        return value.replace(day=1)
    raw = str(value or "").strip()
    month = year = None
    if match := _MONTH[0].fullmatch(raw):
        month, year = int(match.group(1)), int(match.group(2))
    elif match := _MONTH[1].fullmatch(raw):
        year, month = int(match.group(1)), int(match.group(2))
    if month is None or not 1 <= month <= 12 or not 1900 <= year <= 2999:
        raise DomainError(f"{label} : « {raw[:20]} » n'est pas un mois au format MM/AAAA (par exemple 03/2026).",
                          field_name)
    return date(year, month, 1)


def month_label(month: date) -> str:
    return f"{month.month:02d}/{month.year}"


def current_month() -> date:
    return today().replace(day=1)


def _date(value: Any, field_name: str, label: str) -> date:
    if not isinstance(value, date):
        raise DomainError(f"{label} : date attendue (JJ/MM/AAAA).", field_name)
    return value


def _choices(values: Iterable[str] | None, allowed: type, field_name: str, label: str) -> list[str]:
    known = {member.value for member in allowed}
    chosen = [str(v) for v in (values or []) if str(v)]
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise DomainError(f"{label} : valeur inconnue « {unknown[0][:30]} ».", field_name)
    return list(dict.fromkeys(chosen))


def _place_ref(value: Any) -> str | None:
    ref = str(value or "").strip()
    if not ref:
        return None
    try:
        enclosing_refs(ref)
    except ValueError:  # a TerritoryError is one, as is what a malformed reference raises
        raise DomainError(f"Lieu d'exécution : « {ref[:40]} » n'est pas un territoire connu.", "place_ref") from None
    return ref


# --- who keeps a contract -------------------------------------------------------------------------------

def default_facilitator(place_ref: str | None, session=None) -> Organisation | None:
    """The verified facilitator whose territories hold the place, the most local first (commune, department,
    region, France); the oldest on a tie. None without a place or when no facilitator covers it."""
    if not place_ref:
        return None
    session = session or db.session
    try:
        refs = enclosing_refs(place_ref, session=session)
    except ValueError:  # a TerritoryError is one, as is what a malformed reference raises
        return None
    for ref in refs:
        found = session.scalar(select(Organisation).where(
            Organisation.kind == OrganisationKind.FACILITATOR,
            Organisation.verification_status == VerificationStatus.VERIFIED,
            Organisation.territories.any(ref)).order_by(Organisation.id).limit(1))
        if found is not None:
            return found
    return None


def organisation_with_siret(siret: str | None, session=None) -> Organisation | None:
    """The portal's organisation with this SIRET (a SIRET names one organisation at most: a unique column)."""
    if not siret:
        return None
    return (session or db.session).scalar(select(Organisation).where(Organisation.siret == siret))


def _holder_organisation_id(structure: Structure | None, siret: str | None, session=None) -> int | None:
    """Who declares for the holder: the organisation that manages its profile, else the account with its SIRET."""
    if structure is not None and structure.owner_organisation_id:
        return structure.owner_organisation_id
    organisation = organisation_with_siret(siret, session)
    return organisation.id if organisation is not None else None


# --- contracts --------------------------------------------------------------------------------------

@dataclass
class ContractData:
    """A contract entered directly: what the form gives."""

    title: str = ""
    reference: str = ""
    buyer_name: str = ""
    buyer_siret: str = ""
    cpv_codes: Any = ""
    amount: Any = None
    starts_on: date | None = None
    ends_on: date | None = None
    place_ref: str = ""
    holder_structure_id: int | None = None
    holder_siret: str = ""
    holder_name: str = ""
    hours_target: Any = None
    modes: list[str] = field(default_factory=list)
    publics: list[str] = field(default_factory=list)


def _period(starts_on: Any, ends_on: Any) -> tuple[date, date]:
    start = _date(starts_on, "starts_on", "Début d'exécution")
    end = _date(ends_on, "ends_on", "Fin d'exécution")
    if end < start:
        raise DomainError("Fin d'exécution : la fin ne peut précéder le début.", "ends_on")
    if end.year - start.year > MAX_YEARS:
        raise DomainError(f"Fin d'exécution : un marché de plus de {MAX_YEARS} ans, vérifiez la saisie.", "ends_on")
    return start, end


def _siret(value: Any, field_name: str, label: str, required: bool) -> str | None:
    digits = normalize_digits(str(value or ""))
    if not digits:
        if required:
            raise DomainError(f"{label} : ce champ est obligatoire.", field_name)
        return None
    if len(digits) != 14 or not is_valid_siret(digits):
        raise DomainError(f"{label} : « {str(value)[:20]} » n'est pas un SIRET valide (14 chiffres, clé de contrôle).",
                          field_name)
    return digits


def create_contract(actor, organisation: Organisation, data: ContractData) -> Contract:
    """A contract entered directly by a buyer (for itself) or a facilitator (for a buyer it names)."""
    if organisation.kind not in (OrganisationKind.PUBLIC_BUYER, OrganisationKind.PRIVATE_COMPANY,
                                 OrganisationKind.FACILITATOR):
        raise DomainError("Seuls un acheteur ou un facilitateur enregistrent un marché.")
    is_facilitator = organisation.kind == OrganisationKind.FACILITATOR
    title = _text(data.title, "title", "Objet du marché", MAX_TITLE)
    starts_on, ends_on = _period(data.starts_on, data.ends_on)
    place_ref = _place_ref(data.place_ref)
    if is_facilitator:
        buyer_name = _text(data.buyer_name, "buyer_name", "Acheteur", MAX_NAME)
        buyer_siret = _siret(data.buyer_siret, "buyer_siret", "SIRET de l'acheteur", required=False)
        buyer_id, facilitator = None, organisation
    else:
        buyer_name, buyer_siret, buyer_id = organisation.name, organisation.siret, organisation.id
        facilitator = default_facilitator(place_ref)
    structure = None
    if data.holder_structure_id:
        structure = db.session.get(Structure, data.holder_structure_id)
        if structure is None:
            raise DomainError("Titulaire : structure inconnue.", "holder_structure_id")
        holder_siret, holder_name = structure.siret, structure.display_name
    else:
        holder_siret = _siret(data.holder_siret, "holder_siret", "SIRET du titulaire", required=True)
        # a structure of the directory is named by its SIRET: the contract follows its profile
        structure = db.session.scalar(select(Structure).where(Structure.siret == holder_siret).limit(1))
        holder_name = structure.display_name if structure else _text(data.holder_name, "holder_name",
                                                                     "Nom du titulaire", MAX_NAME)
    contract = Contract(
        title=title, reference=_text(data.reference, "reference", "Référence", 64, required=False) or None,
        buyer_organisation_id=buyer_id, buyer_name=buyer_name, buyer_siret=buyer_siret,
        cpv_codes=parse_cpv_codes(data.cpv_codes), amount=parse_amount(data.amount, "amount", "Montant HT"),
        starts_on=starts_on, ends_on=ends_on, place_ref=place_ref,
        holder_kind=HolderKind.STRUCTURE if structure else HolderKind.COMPANY,
        holder_structure_id=structure.id if structure else None, holder_siret=holder_siret,
        holder_name=holder_name[:MAX_NAME], holder_organisation_id=_holder_organisation_id(structure, holder_siret),
        hours_target=parse_hours(data.hours_target, "hours_target", "Heures d'insertion à réaliser",
                                 MAX_HOURS_TARGET),
        modes=_choices(data.modes, FulfilmentMode, "modes", "Modes"),
        publics=_choices(data.publics, EligiblePublic, "publics", "Publics"),
        facilitator_organisation_id=facilitator.id if facilitator else None,
        created_by_id=getattr(actor, "id", None))
    if contract.amount is not None and contract.amount == 0:
        raise DomainError("Montant HT : un montant supérieur à 0 est attendu.", "amount")
    db.session.add(contract)
    db.session.flush()
    audit.record(actor, "contract.created", contract, title=title, holder_siret=holder_siret,
                 hours_target=str(contract.hours_target), facilitator_id=contract.facilitator_organisation_id)
    return contract


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    # the day before the same day `months` later: a 12-month contract from 15/03/2026 ends on 14/03/2027
    last = calendar.monthrange(year, month)[1]
    return date.fromordinal(date(year, month, min(day.day, last)).toordinal() - 1)


def from_award(session, payload: dict[str, Any]) -> Contract | None:
    """The follower of `tenders.lot_awarded`: a lot awarded with an insertion clause becomes a contract (once)."""
    from ..clauses.spec import ClauseSpec
    from ..tenders.models import Tender

    hours = payload.get("insertion_hours")
    lot_id = payload["lot"]["id"]
    if not hours or Decimal(hours) <= 0:
        return None
    if session.scalar(select(Contract.id).where(Contract.lot_id == lot_id)) is not None:
        return None
    tender = session.get(Tender, payload["tender"]["id"])
    spec = ClauseSpec.from_json(payload["clauses"])
    awarded_on = date.fromisoformat(payload["award"]["awarded_on"])
    duration = (tender.duration_months if tender is not None else None) or DEFAULT_DURATION_MONTHS
    holder = payload["holder"]
    structure = session.get(Structure, holder["structure_id"]) if holder.get("structure_id") else None
    place_ref = payload["lot"].get("place_ref") or payload["tender"].get("place_ref")
    lot_title = payload["lot"].get("title") or ""
    title = payload["tender"]["title"] + (f" — lot {payload['lot']['position']} : {lot_title}" if lot_title else "")
    facilitator = None
    if tender is not None and tender.assisting_organisation_id:
        facilitator = session.get(Organisation, tender.assisting_organisation_id)
        facilitator = facilitator if facilitator is not None and facilitator.trusted else None
    facilitator = facilitator or default_facilitator(place_ref, session)
    contract = Contract(
        title=title[:MAX_TITLE], buyer_organisation_id=payload["buyer"]["organisation_id"],
        buyer_name=payload["buyer"]["name"][:MAX_NAME], buyer_siret=payload["buyer"].get("siret"),
        cpv_codes=payload["lot"].get("cpv_codes") or [], amount=Decimal(payload["award"]["amount"]),
        starts_on=awarded_on, ends_on=_add_months(awarded_on, duration), place_ref=place_ref,
        lot_id=lot_id, award_id=payload["award"]["id"],
        holder_kind=HolderKind.GROUPING if holder.get("grouping_id") else
        (HolderKind.STRUCTURE if structure else HolderKind.COMPANY),
        holder_structure_id=structure.id if structure else None, holder_grouping_id=holder.get("grouping_id"),
        holder_siret=holder.get("siret"), holder_name=(holder.get("name") or "")[:MAX_NAME],
        holder_organisation_id=_holder_organisation_id(structure, holder.get("siret"), session),
        hours_target=Decimal(hours).quantize(Decimal("0.01")),
        modes=list(spec.insertion.modes) if spec.insertion else [],
        publics=list(spec.insertion.publics) if spec.insertion else [],
        clauses=payload["clauses"], facilitator_organisation_id=facilitator.id if facilitator else None)
    session.add(contract)
    session.flush()
    audit.record(None, "contract.created_from_award", contract, session=session, lot_id=lot_id,
                 award_id=payload["award"]["id"],
                 hours_target=str(contract.hours_target), facilitator_id=contract.facilitator_organisation_id)
    return contract


def follow_award(session, payload: dict[str, Any]) -> None:
    from_award(session, payload)


def move_contract(actor, contract: Contract, target: str) -> None:
    CONTRACT_STATES.move(actor, contract, target)


def add_partner(actor, contract: Contract, siret: Any) -> Organisation:
    """An organisation of the portal that declares hours for the holder, named by its SIRET. When the contract
    has no declaring account yet and the SIRET is the holder's, that organisation becomes it."""
    digits = _siret(siret, "siret", "SIRET", required=True)
    organisation = organisation_with_siret(digits)
    if organisation is None:
        raise DomainError(f"SIRET : aucune organisation inscrite sur le portail avec le SIRET {digits}.", "siret")
    if contract.holder_organisation_id is None and digits == contract.holder_siret:
        contract.holder_organisation_id = organisation.id
        audit.record(actor, "contract.holder_account_set", contract, organisation_id=organisation.id)
        return organisation
    if organisation.id == contract.holder_organisation_id or any(
            p.organisation_id == organisation.id for p in contract.partners):
        raise DomainError(f"{organisation.name} déclare déjà sur ce marché.", "siret")
    contract.partners.append(ContractPartner(organisation_id=organisation.id))
    audit.record(actor, "contract.partner_added", contract, organisation_id=organisation.id)
    return organisation


# --- participants -----------------------------------------------------------------------------------

@dataclass
class ParticipantData:
    code: str = ""
    birth_year: Any = None
    sex: str = ""
    publics: list[str] = field(default_factory=list)
    qpv: bool = False
    qpv_code: str = ""
    residence_commune_code: str = ""
    pass_iae_number: str = ""
    pass_iae_expires_on: date | None = None


def parse_code(value: Any, field_name: str = "code") -> str:
    code = str(value or "").strip()
    if not CODE_PATTERN.fullmatch(code):
        raise DomainError("Code du participant : 1 à 32 lettres sans accent, chiffres, points, tirets ou soulignés "
                          "(un code, jamais un nom).", field_name)
    return code


def parse_birth_year(value: Any, field_name: str = "birth_year") -> int:
    raw = str(value or "").strip()
    year = today().year
    if not re.fullmatch(r"[0-9]{4}", raw) or not year - MAX_AGE <= int(raw) <= year - MIN_AGE:
        raise DomainError(f"Année de naissance : une année entre {year - MAX_AGE} et {year - MIN_AGE} est attendue.",
                          field_name)
    return int(raw)


def parse_sex(value: Any, field_name: str = "sex") -> str:
    raw = str(value or "").strip().upper()[:1]
    if raw not in {s.value for s in Sex}:
        raise DomainError("Sexe : F ou M.", field_name)
    return raw


def _apply_participant(participant: Participant, data: ParticipantData) -> None:
    participant.birth_year = parse_birth_year(data.birth_year)
    participant.sex = parse_sex(data.sex)
    participant.publics = _choices(data.publics, EligiblePublic, "publics", "Publics")
    participant.qpv = bool(data.qpv) or bool(str(data.qpv_code or "").strip())
    participant.qpv_code = _text(data.qpv_code, "qpv_code", "Code QPV", 16, required=False) or None
    commune = str(data.residence_commune_code or "").strip().upper()
    if commune:
        try:
            place(commune)
            participant.zrr = _in_zrr(commune)
        except TerritoryError:
            raise DomainError(f"Commune de résidence : « {commune[:10]} » n'est pas un code INSEE connu.",
                              "residence_commune_code") from None
    else:
        participant.zrr = False
    participant.residence_commune_code = commune or None
    participant.pass_iae_number = _text(data.pass_iae_number, "pass_iae_number", "Numéro de PASS IAE", 32,
                                        required=False) or None
    participant.pass_iae_expires_on = data.pass_iae_expires_on if participant.pass_iae_number else None


def _in_zrr(commune_code: str) -> bool:
    from ..geo.models import Commune

    commune = db.session.get(Commune, commune_code)
    return bool(commune and commune.in_zrr)


def create_participant(actor, keeper_organisation_id: int, data: ParticipantData) -> Participant:
    code = parse_code(data.code)
    if db.session.scalar(select(Participant.id).where(Participant.keeper_organisation_id == keeper_organisation_id,
                                                      Participant.code == code)) is not None:
        raise DomainError(f"Code du participant : « {code} » existe déjà dans ces dossiers.", "code")
    participant = Participant(keeper_organisation_id=keeper_organisation_id, code=code)
    _apply_participant(participant, data)
    db.session.add(participant)
    db.session.flush()
    audit.record(actor, "participant.created", participant, code=code)
    return participant


def update_participant(actor, participant: Participant, data: ParticipantData) -> None:
    _apply_participant(participant, data)
    audit.record(actor, "participant.updated", participant)


def record_eligibility(actor, participant: Participant, checked_on: date | None) -> None:
    """The keeper confirms the participant's eligibility, on a day that is not in the future."""
    checked_on = checked_on or today()
    if checked_on > today():
        raise DomainError("Date de vérification : elle ne peut être dans le futur.", "checked_on")
    participant.eligibility_checked_on = checked_on
    participant.eligibility_checked_by_id = getattr(actor, "id", None)
    audit.record(actor, "participant.eligibility_checked", participant, checked_on=checked_on.isoformat())


# --- declarations -----------------------------------------------------------------------------------

def effective_lines():
    """The condition of a line that counts: validated, and not replaced by a validated correction."""
    correction = aliased(HoursDeclaration)
    return and_(HoursDeclaration.status == DeclarationStatus.VALIDATED,
                ~exists().where(correction.corrects_id == HoursDeclaration.id,
                                correction.status == DeclarationStatus.VALIDATED))


def live_lines():
    """Lines that count or may count: waiting for a decision, or effective."""
    correction = aliased(HoursDeclaration)
    return and_(HoursDeclaration.status != DeclarationStatus.REJECTED,
                ~exists().where(correction.corrects_id == HoursDeclaration.id,
                                correction.status == DeclarationStatus.VALIDATED))


def is_locked(contract_id: int, month: date) -> bool:
    return db.session.get(MonthLock, (contract_id, month)) is not None


def month_hours(contract_id: int, participant_id: int, month: date, leaving_out: int | None = None) -> Decimal:
    """One participant's live hours on one contract and month (all modes), `leaving_out` a line being corrected."""
    query = select(func.coalesce(func.sum(HoursDeclaration.hours), 0)).where(
        HoursDeclaration.contract_id == contract_id, HoursDeclaration.participant_id == participant_id,
        HoursDeclaration.month == month, live_lines())
    if leaving_out is not None:
        query = query.where(HoursDeclaration.id != leaving_out)
    return Decimal(db.session.scalar(query))


@dataclass(frozen=True)
class LineInput:
    participant: Participant
    month: date
    mode: str
    hours: Decimal


def check_month(contract: Contract, month: date, field_name: str = "month") -> None:
    """A month in which the contract takes declarations."""
    if contract.status != ContractStatus.ACTIVE:
        raise DomainError(f"Ce marché est « {CONTRACT_STATES.label(contract.status)} » : il ne reçoit plus de "
                          "déclaration.", field_name)
    if month > current_month():
        raise DomainError(f"Mois : {month_label(month)} n'est pas encore commencé.", field_name)
    if month < contract.first_month or month > contract.last_month:
        raise DomainError(f"Mois : {month_label(month)} est hors de la période du marché "
                          f"({month_label(contract.first_month)} à {month_label(contract.last_month)}).", field_name)
    if is_locked(contract.id, month):
        raise DomainError(f"Mois : {month_label(month)} est verrouillé, il ne reçoit plus de déclaration.", field_name)


def check_mode(contract: Contract, mode: str, field_name: str = "mode") -> str:
    allowed = contract.modes or [m.value for m in FulfilmentMode]
    if mode not in allowed:
        labels = ", ".join(FulfilmentMode(m).label.split(" (")[0] for m in allowed)
        raise DomainError(f"Mode : ce marché accepte {labels}.", field_name)
    return mode


def _lock_participant_month(contract_id: int, participant_id: int) -> None:
    """Two declarations for the same participant and contract are checked one after the other (220 h)."""
    db.session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": 22_000_000 + contract_id % 1_000_000,
                                                                       "b": participant_id})


def _check_month_total(contract: Contract, line: LineInput, already: Decimal, field_name: str = "hours") -> None:
    if already + line.hours > MAX_MONTH_HOURS:
        raise DomainError(f"Heures : {line.participant.code} aurait {fr_decimal(already + line.hours)} h en "
                          f"{month_label(line.month)} sur ce marché, au-delà de {MAX_MONTH_HOURS} h par mois.",
                          field_name)


def declare(actor, organisation_id: int | None, contract: Contract, line: LineInput,
            import_id: int | None = None) -> HoursDeclaration:
    if line.participant.keeper_organisation_id != contract.keeper_organisation_id:
        raise DomainError("Participant inconnu dans les dossiers de ce marché.", "participant")
    check_month(contract, line.month)
    check_mode(contract, line.mode)
    _lock_participant_month(contract.id, line.participant.id)
    _check_month_total(contract, line, month_hours(contract.id, line.participant.id, line.month))
    declaration = HoursDeclaration(contract_id=contract.id, participant_id=line.participant.id, month=line.month,
                                   mode=line.mode, hours=line.hours, declared_by_id=getattr(actor, "id", None),
                                   declaring_organisation_id=organisation_id, import_id=import_id)
    db.session.add(declaration)
    db.session.flush()
    if import_id is None:
        audit.record(actor, "hours.declared", contract, declaration_id=declaration.id,
                     participant=line.participant.code, month=month_label(line.month), mode=line.mode,
                     hours=str(line.hours))
    return declaration


def _decided(actor, declaration: HoursDeclaration, target: str) -> None:
    """Who decided and when, written before the status changes: once validated, the row is final (a flush between
    the two would leave the decision unsigned and the trigger would refuse the signature)."""
    DECLARATION_STATES.check(declaration, target)
    declaration.decided_by_id = getattr(actor, "id", None)
    declaration.decided_at = utcnow()


def validate(actor, declaration: HoursDeclaration) -> None:
    if is_locked(declaration.contract_id, declaration.month):
        raise DomainError(f"Mois {month_label(declaration.month)} verrouillé.")
    _decided(actor, declaration, DeclarationStatus.VALIDATED)
    DECLARATION_STATES.move(actor, declaration, DeclarationStatus.VALIDATED, audited=declaration.contract,
                            declaration_id=declaration.id, hours=str(declaration.hours))


def reject(actor, declaration: HoursDeclaration, reason: str) -> None:
    reason = _text(reason, "reason", "Motif du rejet", MAX_REASON)
    _decided(actor, declaration, DeclarationStatus.REJECTED)
    declaration.rejection_reason = reason
    DECLARATION_STATES.move(actor, declaration, DeclarationStatus.REJECTED, audited=declaration.contract,
                            declaration_id=declaration.id, reason=reason)


def correct(actor, organisation_id: int | None, original: HoursDeclaration, mode: str,
            hours: Decimal) -> HoursDeclaration:
    """A new line that replaces a validated one once it is validated itself; the original stays as it was."""
    if original.status != DeclarationStatus.VALIDATED:
        raise DomainError("Seule une déclaration validée se corrige ; une déclaration à valider se retire.")
    if db.session.scalar(select(HoursDeclaration.id).where(
            HoursDeclaration.corrects_id == original.id,
            HoursDeclaration.status != DeclarationStatus.REJECTED)) is not None:
        raise DomainError("Cette déclaration a déjà une correction.")
    contract = original.contract
    check_month(contract, original.month)
    check_mode(contract, mode)
    line = LineInput(original.participant, original.month, mode, hours)
    _lock_participant_month(contract.id, original.participant_id)
    _check_month_total(contract, line, month_hours(contract.id, original.participant_id, original.month,
                                                   leaving_out=original.id))
    correction = HoursDeclaration(contract_id=contract.id, participant_id=original.participant_id,
                                  month=original.month, mode=mode, hours=hours, corrects_id=original.id,
                                  declared_by_id=getattr(actor, "id", None), declaring_organisation_id=organisation_id)
    db.session.add(correction)
    db.session.flush()
    audit.record(actor, "hours.correction_declared", contract, declaration_id=correction.id, corrects=original.id,
                 hours=str(hours), mode=mode)
    return correction


def withdraw(actor, declaration: HoursDeclaration) -> None:
    if declaration.status != DeclarationStatus.SUBMITTED:
        raise DomainError("Seule une déclaration à valider peut être retirée.")
    audit.record(actor, "hours.withdrawn", declaration.contract, declaration_id=declaration.id,
                 hours=str(declaration.hours), month=month_label(declaration.month))
    db.session.delete(declaration)
    db.session.flush()


def lock_month(actor, contract: Contract, month: date) -> MonthLock:
    if month >= current_month():
        raise DomainError(f"Mois : {month_label(month)} n'est pas terminé.", "month")
    if is_locked(contract.id, month):
        raise DomainError(f"Mois : {month_label(month)} est déjà verrouillé.", "month")
    waiting = db.session.scalar(select(func.count()).where(
        HoursDeclaration.contract_id == contract.id, HoursDeclaration.month == month,
        HoursDeclaration.status == DeclarationStatus.SUBMITTED))
    if waiting:
        raise DomainError(f"Mois : {waiting} déclaration{'s' if waiting > 1 else ''} de {month_label(month)} "
                          f"attend{'ent' if waiting > 1 else ''} encore une décision.", "month")
    lock = MonthLock(contract_id=contract.id, month=month, locked_by_id=getattr(actor, "id", None))
    db.session.add(lock)
    db.session.flush()
    audit.record(actor, "contract.month_locked", contract, month=month_label(month))
    return lock


def participant_for(actor, contract: Contract, code: Any, birth_year: Any = None, sex: Any = None) -> Participant:
    """The participant a declaration names by its code in the contract's records; a new one is created there when
    its year of birth and sex are given (the holder meets a person the facilitator does not know yet)."""
    code = parse_code(code)
    keeper = contract.keeper_organisation_id
    if keeper is None:
        raise DomainError("Ce marché n'a ni facilitateur ni acheteur inscrit : personne ne tient ses dossiers.")
    found = db.session.scalar(select(Participant).where(Participant.keeper_organisation_id == keeper,
                                                        Participant.code == code))
    if found is not None:
        return found
    if not str(birth_year or "").strip() or not str(sex or "").strip():
        raise DomainError(f"Code du participant : « {code} » est inconnu ; indiquez son année de naissance et son "
                          "sexe pour le créer.", "code")
    return create_participant(actor, keeper, ParticipantData(code=code, birth_year=birth_year, sex=sex))


# --- what the pages list ---------------------------------------------------------------------------------

def contracts_of(user) -> list[Contract]:
    """The contracts a user follows: as buyer, keeper, holder or partner (platform admins: all of them)."""
    if getattr(user, "is_platform_admin", False):
        query = select(Contract)
    else:
        mine = [m.organisation_id for m in user.memberships]
        partner = select(ContractPartner.contract_id).where(ContractPartner.organisation_id.in_(mine))
        query = select(Contract).where(Contract.buyer_organisation_id.in_(mine)
                                       | Contract.facilitator_organisation_id.in_(mine)
                                       | Contract.holder_organisation_id.in_(mine) | Contract.id.in_(partner))
    return list(db.session.scalars(query.order_by(Contract.status, Contract.ends_on.desc(), Contract.id)))


def declarations_of(contract: Contract) -> list[HoursDeclaration]:
    """The contract's lines, newest month first, with their participant and the line each corrects (one query
    each, not one per line)."""
    return list(db.session.scalars(select(HoursDeclaration).where(HoursDeclaration.contract_id == contract.id)
                                   .options(selectinload(HoursDeclaration.participant),
                                            selectinload(HoursDeclaration.corrects))
                                   .order_by(HoursDeclaration.month.desc(), HoursDeclaration.id)))


def locked_months(contract: Contract) -> list[date]:
    return list(db.session.scalars(select(MonthLock.month).where(MonthLock.contract_id == contract.id)
                                   .order_by(MonthLock.month)))


def participants_of(organisation_ids: Iterable[int]) -> list[Participant]:
    return list(db.session.scalars(select(Participant).where(Participant.keeper_organisation_id.in_(
        list(organisation_ids))).order_by(Participant.code)))


def declarations_of_participant(participant: Participant) -> list[HoursDeclaration]:
    return list(db.session.scalars(select(HoursDeclaration).where(HoursDeclaration.participant_id == participant.id)
                                   .options(selectinload(HoursDeclaration.contract).selectinload(Contract.partners))
                                   .order_by(HoursDeclaration.month.desc(), HoursDeclaration.id)))
