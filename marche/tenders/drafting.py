"""Drafting a tender: its fields, its lots and each lot's clause document, checked on the way in; the live legal
check; duplicating a past tender; attachments; the rectificatif recorded when a published tender changes.

Services take the acting user and explicit arguments, change the session and flush; they never commit. A refusal
is a `DraftingError` whose `field` names the form field, in French. The lot's clause document is always written
through `ClauseSpec(...).to_json()`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select

from ..accounts.models import Organisation, OrganisationKind
from ..clauses import legal
from ..clauses.annex import LotAnnex, annex_params, annex_text
from ..clauses.calculator import MAX_AMOUNT, Hours, euros, insertion_hours
from ..clauses.rules import PRIVATE, SOCIAL_CONSIDERATION, calculator_defaults
from ..clauses.spec import ClauseSpec, ClauseSpecError
from ..core import audit
from ..core.dates import PARIS, today
from ..core.errors import DomainError
from ..core.filters import fr_datetime, fr_number
from ..core.uploads import read_upload, store_upload, upload_root
from ..extensions import db
from ..geo.services import TerritoryError, resolve, territory_label
from ..reference.cpv_sectors import suggest_sectors
from ..reference.models import CpvCode, Sector
from ..reference.services import cpv_check_digit
from . import relay
from .models import (Nature, Tender, TenderAttachment, TenderKind, TenderLot, TenderRectificatif, TenderStatus)

#: a tender or a lot over 10 billion euros HT is a typing error (the calculator's own bound)
MAX_TENDER_AMOUNT = MAX_AMOUNT
MAX_DURATION_MONTHS = 600
MAX_CPV_CODES = 20
MAX_LOTS = 200
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ATTACHMENTS_FOLDER = "tenders"
#: what the buyer may still edit: a draft, or a published tender (each change then recorded as a rectificatif)
EDITABLE = (TenderStatus.DRAFT, TenderStatus.PUBLISHED)
#: the CPV divisions' natures, as the catalogue spells them, in the tender's words
CPV_NATURES = {"travaux": Nature.WORKS, "fournitures": Nature.SUPPLIES, "services": Nature.SERVICES}
CPV_SPLIT = re.compile(r"[\s,;]+")
#: the form's field names for the clause document's (`ClauseSpecError.field`)
SPEC_FIELDS = {"insertion_amount": "amount_basis", "insertion_labour_share": "labour_share",
               "insertion_insertion_rate": "insertion_rate", "insertion_hourly_cost": "hourly_cost",
               "waivers": "waiver_reason", "weights": "environmental_criterion_weight", "clauses": None,
               "insertion": None}


class DraftingError(DomainError):
    """A tender, lot or clause input refused; French message, `field` names the form field."""


# --- who drafts --------------------------------------------------------------------------------------

BUYER_KINDS = (OrganisationKind.PUBLIC_BUYER, OrganisationKind.PRIVATE_COMPANY)


def buyer_organisations(user) -> list[Organisation]:
    """The buyer organisations (public or private) the user drafts for."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return [m.organisation for m in user.memberships if m.organisation.kind in BUYER_KINDS]


def buyer_category(organisation: Organisation) -> str:
    """The category the legal check reads: a public buyer's, or `private`."""
    if organisation.kind == OrganisationKind.PUBLIC_BUYER and organisation.buyer_category:
        return organisation.buyer_category
    return PRIVATE


# --- reading the inputs ------------------------------------------------------------------------------

def _text(value: Any, field: str, label: str, max_length: int, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise DraftingError(f"{label} : ce champ est obligatoire.", field)
    if len(text) > max_length:
        raise DraftingError(f"{label} : {max_length} caractères au plus.", field)
    return text


def parse_amount(value: Any, field: str, label: str) -> Decimal | None:
    """Euros HT, French comma and spaces accepted; refused when negative, absurd or with more than cents."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Decimal):
        number = value
    else:
        raw = str(value).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
        raw = raw.removesuffix("€")
        try:
            number = Decimal(raw)
        except (InvalidOperation, ValueError):
            raise DraftingError(f"{label} : montant en euros attendu (par exemple 250 000 ou 1 200,50).",
                                field) from None
    if not number.is_finite():
        raise DraftingError(f"{label} : montant en euros attendu.", field)
    if number < 0:
        raise DraftingError(f"{label} : un montant ne peut pas être négatif.", field)
    if number > MAX_TENDER_AMOUNT:
        raise DraftingError(f"{label} : {euros(number)} dépasse {euros(MAX_TENDER_AMOUNT)} HT, vérifiez la saisie.",
                            field)
    if number != number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP):
        raise DraftingError(f"{label} : au plus deux décimales (les centimes).", field)
    return number.quantize(Decimal("0.01"))


def parse_cpv_codes(value: Any, field: str = "cpv_codes") -> list[str]:
    """CPV 2008 codes, main code first: each must exist in the catalogue with its published check digit."""
    items = value if isinstance(value, (list, tuple)) else CPV_SPLIT.split(str(value or ""))
    codes: list[str] = []
    for item in items:
        code = str(item).strip()
        if not code:
            continue
        if re.fullmatch(r"[0-9]{8}", code):
            raise DraftingError(f"Code CPV « {code} » : ajoutez son chiffre de contrôle (format 12345678-9).", field)
        if not re.fullmatch(r"[0-9]{8}-[0-9]", code):
            raise DraftingError(f"Code CPV « {code[:20]} » illisible : format attendu 12345678-9.", field)
        known = db.session.get(CpvCode, code)
        if known is None:
            existing = db.session.scalar(select(CpvCode.code).where(CpvCode.code8 == code[:8]))
            if existing is not None:
                raise DraftingError(f"Code CPV « {code} » : chiffre de contrôle erroné, ce code s'écrit "
                                    f"« {existing} ».", field)
            expected = cpv_check_digit(code[:8])
            if code[-1] != expected:
                raise DraftingError(f"Code CPV « {code} » : chiffre de contrôle erroné (attendu {expected}).", field)
            raise DraftingError(f"Code CPV « {code} » absent de la nomenclature CPV 2008.", field)
        if code not in codes:
            codes.append(code)
    if len(codes) > MAX_CPV_CODES:
        raise DraftingError(f"{MAX_CPV_CODES} codes CPV au plus.", field)
    return codes


def nature_of_cpv(code: str) -> str | None:
    """The nature the main CPV code implies (45… works, 50–98 services, the rest supplies)."""
    nature = db.session.scalar(select(CpvCode.nature).where(CpvCode.code == code))
    return CPV_NATURES.get(nature) if nature else None


def parse_place(value: Any, field: str = "place_ref") -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return resolve(text).ref
    except TerritoryError as error:
        raise DraftingError(f"Lieu d'exécution : {error.message}", field) from None


def paris_instant(value: datetime | None) -> datetime | None:
    """A local date and time typed by a buyer in France, as an aware instant."""
    if value is None:
        return None
    return value.replace(tzinfo=PARIS) if value.tzinfo is None else value


@dataclass
class TenderInput:
    """What the tender form sends (texts as typed; dates already parsed by the form)."""

    title: str = ""
    object: str = ""
    kind: str = TenderKind.CALL_FOR_TENDERS
    procedure: str | None = None
    defence: bool = False
    specific_services: bool = False
    cpv_codes: str | Sequence[str] = ""
    #: "" or None: derived from the main CPV code
    nature: str | None = None
    place_ref: str | None = None
    amount: Any = None
    duration_months: int | None = None
    launch_date: date | None = None
    questions_deadline: datetime | None = None
    answers_deadline: datetime | None = None
    planned_notification: date | None = None
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    buyer_profile_url: str = ""
    allotted: bool = False
    sector_ids: Sequence[int] = field(default_factory=list)


@dataclass
class CleanTender:
    values: dict[str, Any]
    sectors: list[Sector]


EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def check_tender_input(data: TenderInput, *, now: datetime | None = None,
                       deadlines_unchanged: tuple[datetime | None, datetime | None] | None = None) -> CleanTender:
    """Every field checked, in the order of the form; the first refusal names its field.

    A deadline must be in the future when it is set or changed (`deadlines_unchanged` holds the stored ones:
    an old deadline kept as it is on a later edit is not refused)."""
    now = now or datetime.now(timezone.utc)
    title = _text(data.title, "title", "Intitulé", 250, required=True)
    obj = _text(data.object, "object", "Objet", 10_000)
    if data.kind not in TenderKind._value2member_map_:
        raise DraftingError("Type de consultation inconnu.", "kind")
    procedure = data.procedure or None
    if procedure is not None and procedure not in legal.PROCEDURES:
        raise DraftingError("Procédure inconnue.", "procedure")
    cpv_codes = parse_cpv_codes(data.cpv_codes)
    nature = data.nature or None
    if nature is None:
        nature = (nature_of_cpv(cpv_codes[0]) if cpv_codes else None) or Nature.SERVICES
    if nature not in Nature._value2member_map_:
        raise DraftingError("Nature inconnue (travaux, fournitures ou services).", "nature")
    place = parse_place(data.place_ref)
    amount = parse_amount(data.amount, "amount", "Montant estimé")
    duration = data.duration_months
    if duration is not None and not 1 <= duration <= MAX_DURATION_MONTHS:
        raise DraftingError(f"Durée : entre 1 et {MAX_DURATION_MONTHS} mois.", "duration_months")
    questions, answers = paris_instant(data.questions_deadline), paris_instant(data.answers_deadline)
    stored_questions, stored_answers = deadlines_unchanged or (None, None)
    if answers is not None and answers != stored_answers and answers <= now:
        raise DraftingError(f"Date limite de réponse : elle est passée (le {fr_datetime(answers)}) ; choisissez une "
                            f"date à venir.", "answers_deadline")
    if questions is not None and questions != stored_questions and questions <= now:
        raise DraftingError(f"Date limite des questions : elle est passée (le {fr_datetime(questions)}).",
                            "questions_deadline")
    if questions is not None and answers is not None and questions > answers:
        raise DraftingError("Date limite de réponse : elle doit suivre la date limite des questions "
                            f"({fr_datetime(questions)}).", "answers_deadline")
    if data.launch_date and answers is not None and data.launch_date > answers.astimezone(PARIS).date():
        raise DraftingError("Date de lancement : elle doit précéder la date limite de réponse.", "launch_date")
    if data.planned_notification and answers is not None \
            and data.planned_notification < answers.astimezone(PARIS).date():
        raise DraftingError("Notification prévue : elle doit suivre la date limite de réponse.", "planned_notification")
    contact_email = _text(data.contact_email, "contact_email", "E-mail du contact", 254)
    if contact_email and not EMAIL_RE.fullmatch(contact_email):
        raise DraftingError("E-mail du contact : adresse invalide.", "contact_email")
    url = _text(data.buyer_profile_url, "buyer_profile_url", "Profil d'acheteur", 500)
    if url and not url.startswith(("https://", "http://")):
        raise DraftingError("Profil d'acheteur : l'adresse doit commencer par https:// ou http://.",
                            "buyer_profile_url")
    sector_ids = list(dict.fromkeys(int(s) for s in data.sector_ids))
    sectors = list(db.session.scalars(select(Sector).where(Sector.id.in_(sector_ids)))) if sector_ids else []
    if len(sectors) != len(sector_ids):
        raise DraftingError("Secteur inconnu.", "sectors")
    values = {
        "title": title, "object": obj, "kind": data.kind, "procedure": procedure, "defence": bool(data.defence),
        "specific_services": bool(data.specific_services), "cpv_codes": cpv_codes, "nature": nature,
        "place_ref": place, "amount": amount, "duration_months": duration, "launch_date": data.launch_date,
        "questions_deadline": questions, "answers_deadline": answers,
        "planned_notification": data.planned_notification,
        "contact_name": _text(data.contact_name, "contact_name", "Nom du contact", 200) or None,
        "contact_email": contact_email or None,
        "contact_phone": _text(data.contact_phone, "contact_phone", "Téléphone du contact", 30) or None,
        "buyer_profile_url": url or None, "allotted": bool(data.allotted),
    }
    return CleanTender(values, sectors)


# --- tenders -------------------------------------------------------------------------------------------

#: what a rectificatif names (field → French label), in the order of the form
FIELD_LABELS = {
    "title": "Intitulé", "object": "Objet", "kind": "Type de consultation", "procedure": "Procédure",
    "defence": "Marché de défense ou de sécurité", "specific_services": "Services sociaux et spécifiques",
    "cpv_codes": "Codes CPV", "nature": "Nature", "place_ref": "Lieu d'exécution", "amount": "Montant estimé HT",
    "duration_months": "Durée (mois)", "launch_date": "Date de lancement",
    "questions_deadline": "Date limite des questions", "answers_deadline": "Date limite de réponse",
    "planned_notification": "Notification prévue", "contact_name": "Contact", "contact_email": "E-mail du contact",
    "contact_phone": "Téléphone du contact", "buyer_profile_url": "Profil d'acheteur", "allotted": "Allotissement",
    "sectors": "Secteurs",
}


def shown(name: str, value: Any) -> str:
    """A field's value as a rectificatif shows it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        return fr_datetime(value)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return f"{fr_number(value, 0 if value == value.to_integral_value() else 2)} €"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if name == "place_ref":
        return territory_label(value)
    if name == "kind":
        return TenderKind(value).label
    if name == "nature":
        return Nature(value).label
    return str(value)


def create_tender(user, organisation: Organisation, data: TenderInput, *,
                  now: datetime | None = None) -> Tender:
    """A draft with its one implicit lot (titled like the tender)."""
    if organisation not in buyer_organisations(user) and not getattr(user, "is_platform_admin", False):
        raise DraftingError("Seul un acheteur peut créer une consultation.")
    clean = check_tender_input(data, now=now)
    tender = Tender(organisation=organisation, created_by_id=user.id, status=TenderStatus.DRAFT, **clean.values)
    # no sector chosen: those of the CPV codes (data/cpv_secteurs.csv), which the buyer then edits
    tender.sectors = clean.sectors or suggest_sectors(clean.values["cpv_codes"])
    tender.lots = [TenderLot(position=1, title=clean.values["title"], amount=clean.values["amount"],
                             cpv_codes=[], clauses={})]
    db.session.add(tender)
    db.session.flush()
    audit.record(user, "tender.create", tender)
    return tender


def _require_editable(tender: Tender) -> None:
    if tender.status not in EDITABLE:
        raise DraftingError(f"Une consultation « {TenderStatus(tender.status).label.lower()} » ne se modifie "
                            f"plus.")


def update_tender(user, tender: Tender, data: TenderInput, *, note: str = "",
                  now: datetime | None = None) -> TenderRectificatif | None:
    """Change the tender's fields; on a published tender, record what changed as a rectificatif (returned)."""
    _require_editable(tender)
    clean = check_tender_input(data, now=now, deadlines_unchanged=(tender.questions_deadline, tender.answers_deadline))
    values = clean.values
    if not values["allotted"] and len(tender.lots) > 1:
        raise DraftingError("La consultation a plusieurs lots : retirez-les avant de la déclarer non allotie.",
                            "allotted")
    lots_total = sum((lot.amount or Decimal(0) for lot in tender.lots), Decimal(0))
    if values["amount"] is not None and tender.allotted and lots_total > values["amount"]:
        raise DraftingError(f"Montant estimé : les lots totalisent {euros(lots_total)} HT, plus que "
                            f"{euros(values['amount'])}.", "amount")
    changes = []
    for name, value in values.items():
        before = getattr(tender, name)
        if before != value:
            changes.append({"field": name, "label": FIELD_LABELS[name], "before": shown(name, before),
                            "after": shown(name, value)})
            setattr(tender, name, value)
    if sorted(s.id for s in tender.sectors) != sorted(s.id for s in clean.sectors):
        changes.append({"field": "sectors", "label": FIELD_LABELS["sectors"],
                        "before": ", ".join(s.name for s in tender.sectors) or "—",
                        "after": ", ".join(s.name for s in clean.sectors) or "—"})
        tender.sectors = clean.sectors
    if not tender.allotted and len(tender.lots) == 1:
        # the implicit lot follows the tender
        tender.lots[0].title, tender.lots[0].amount = tender.title, tender.amount
    db.session.flush()
    audit.record(user, "tender.update", tender, fields=[c["field"] for c in changes])
    return record_rectificatif(user, tender, changes, note)


def record_rectificatif(user, tender: Tender, changes: list[dict[str, str]], note: str = "") -> TenderRectificatif | None:
    """On a published tender, what changed becomes a visible rectificatif; nothing on a draft."""
    if tender.status != TenderStatus.PUBLISHED or not changes:
        return None
    rectificatif = TenderRectificatif(tender=tender, changes=changes, note=note.strip() or None, author_id=user.id)
    db.session.add(rectificatif)
    db.session.flush()
    audit.record(user, "tender.rectificatif", tender, fields=[c["field"] for c in changes])
    relay.request_rectificatif_mail(rectificatif)  # to the structures interested in the tender
    return rectificatif


# --- lots ----------------------------------------------------------------------------------------------

@dataclass
class LotInput:
    title: str = ""
    description: str = ""
    amount: Any = None
    cpv_codes: str | Sequence[str] = ""
    place_ref: str | None = None


def _check_lot(tender: Tender, data: LotInput, lot: TenderLot | None) -> dict[str, Any]:
    title = _text(data.title, "title", "Intitulé du lot", 250, required=True)
    amount = parse_amount(data.amount, "amount", "Montant du lot")
    others = sum((other.amount or Decimal(0) for other in tender.lots if other is not lot), Decimal(0))
    if amount is not None and tender.amount is not None and others + amount > tender.amount:
        raise DraftingError(f"Montant du lot : avec les autres lots ({euros(others)} HT), le total dépasserait le "
                            f"montant estimé de la consultation ({euros(tender.amount)} HT).", "amount")
    return {"title": title, "description": _text(data.description, "description", "Description", 10_000),
            "amount": amount, "cpv_codes": parse_cpv_codes(data.cpv_codes),
            "place_ref": parse_place(data.place_ref)}


def add_lot(user, tender: Tender, data: LotInput) -> TenderLot:
    """A new lot after the others; a tender not yet split becomes allotted (its implicit lot stays lot 1)."""
    _require_editable(tender)
    if len(tender.lots) >= MAX_LOTS:
        raise DraftingError(f"{MAX_LOTS} lots au plus.", "title")
    if not tender.allotted:
        # splitting: the implicit lot no longer stands for the whole amount; the buyer gives its own
        tender.lots[0].amount = None
    values = _check_lot(tender, data, None)
    position = max((lot.position for lot in tender.lots), default=0) + 1
    lot = TenderLot(position=position, clauses={}, **values)
    tender.lots.append(lot)
    tender.allotted = True
    db.session.flush()
    audit.record(user, "tender.lot_add", tender, lot=lot.id)
    record_rectificatif(user, tender, [{"field": "lots", "label": f"Lot {position}", "before": "—",
                                        "after": values["title"]}])
    return lot


def update_lot(user, lot: TenderLot, data: LotInput) -> None:
    tender = lot.tender
    _require_editable(tender)
    values = _check_lot(tender, data, lot)
    changes = []
    for name, value in values.items():
        before = getattr(lot, name)
        if before != value:
            changes.append({"field": f"lot_{name}", "label": f"Lot {lot.position} : {LOT_LABELS[name]}",
                            "before": shown(name, before), "after": shown(name, value)})
            setattr(lot, name, value)
    db.session.flush()
    audit.record(user, "tender.lot_update", tender, lot=lot.id)
    record_rectificatif(user, tender, changes)


LOT_LABELS = {"title": "intitulé", "description": "description", "amount": "montant", "cpv_codes": "codes CPV",
              "place_ref": "lieu d'exécution"}


def remove_lot(user, lot: TenderLot) -> None:
    """Remove a lot and renumber the others; a tender keeps at least one lot (back to not split at one)."""
    tender = lot.tender
    _require_editable(tender)
    if tender.status != TenderStatus.DRAFT:
        raise DraftingError("Une consultation publiée ne perd pas de lot : annulez-la ou déclarez le lot "
                            "infructueux.")
    if len(tender.lots) <= 1:
        raise DraftingError("Une consultation garde au moins un lot.")
    tender.lots.remove(lot)
    db.session.flush()
    # renumber in two steps: the (tender, position) unique constraint is checked row by row
    for index, other in enumerate(tender.lots, start=1):
        other.position = MAX_LOTS + index
    db.session.flush()
    for index, other in enumerate(tender.lots, start=1):
        other.position = index
    if len(tender.lots) == 1:
        tender.allotted = False
    db.session.flush()
    audit.record(user, "tender.lot_remove", tender)


# --- clauses of a lot ----------------------------------------------------------------------------------

def _percent_to_share(value: Any, field: str, label: str) -> str:
    """A share typed in % (« 5 », « 12,5 ») → the fraction the clause document stores (« 0.05 »)."""
    raw = str(value if value is not None else "").strip().replace(",", ".").replace("%", "").strip()
    try:
        number = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise DraftingError(f"{label} : pourcentage attendu (par exemple 5 pour 5 %).", field) from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise DraftingError(f"{label} : entre 0 et 100 %.", field)
    return format((number / 100).normalize(), "f")


def _weight(value: Any, field: str, label: str) -> str:
    raw = str(value if value is not None else "").strip().replace(",", ".").replace("%", "").strip()
    try:
        number = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise DraftingError(f"{label} : pourcentage attendu.", field) from None
    if not number.is_finite() or not 0 < number <= 100:
        raise DraftingError(f"{label} : entre 0 et 100 %.", field)
    return str(number)


def clause_document(form: Mapping[str, Any]) -> dict[str, Any]:
    """The clause document from the builder's fields (shares and weights typed in %), before `ClauseSpec` checks it.

    Keys: insertion (bool), amount_basis, labour_share, insertion_rate, hourly_cost, hours_override,
    override_reason, modes, publics, penalty_per_hour, reservation, insertion_object, social_criterion (bool),
    social_criterion_weight, social_criterion_description, environmental_conditions, environmental_free_text,
    environmental_criterion (bool), environmental_criterion_weight, environmental_criterion_description,
    environmental_criterion_cost (bool),
    waiver_exception, waiver_reason."""
    def get(name: str, default: Any = "") -> Any:
        value = form.get(name, default)
        return default if value is None else value

    insertion = None
    if get("insertion", False):
        insertion = {
            "amount_basis": str(get("amount_basis")).replace("\u202f", "").replace(" ", "").replace(",", "."),
            "labour_share": _percent_to_share(get("labour_share"), "labour_share", "Part de main-d'œuvre"),
            "insertion_rate": _percent_to_share(get("insertion_rate"), "insertion_rate", "Taux d'insertion"),
            "hourly_cost": str(get("hourly_cost")).replace(",", "."),
            "hours_override": str(get("hours_override")).strip() or None,
            "override_reason": get("override_reason"),
            "modes": list(get("modes", []) or []), "publics": list(get("publics", []) or []),
            "penalty_per_hour": str(get("penalty_per_hour")).replace(",", ".").strip() or None}
    social = None
    if get("social_criterion", False):
        social = {"weight": _weight(get("social_criterion_weight"), "social_criterion_weight",
                                    "Critère social : pondération"),
                  "description": get("social_criterion_description")}
    environmental = None
    if get("environmental_criterion", False):
        environmental = {"weight": _weight(get("environmental_criterion_weight"), "environmental_criterion_weight",
                                           "Critère environnemental : pondération"),
                         "description": get("environmental_criterion_description"),
                         "cost": bool(get("environmental_criterion_cost", False))}
    waivers = []
    exception = get("waiver_exception")
    if exception:
        waivers.append({"obligation": SOCIAL_CONSIDERATION.code, "exception": exception,
                        "reason": get("waiver_reason")})
        if not str(get("waiver_reason")).strip():
            raise DraftingError("Exception : écrivez le motif, il est conservé avec la consultation.", "waiver_reason")
    return {"insertion": insertion, "reservation": get("reservation") or None,
            "insertion_object": bool(get("insertion_object", False)), "social_criterion": social,
            "environmental_conditions": list(get("environmental_conditions", []) or []),
            "environmental_free_text": get("environmental_free_text"),
            "environmental_criterion": environmental, "waivers": waivers}


def read_clauses(form: Mapping[str, Any]) -> ClauseSpec:
    """The builder's fields as a checked `ClauseSpec`; a refusal names the builder's field."""
    document = clause_document(form)
    try:
        return ClauseSpec.from_json(document)
    except ClauseSpecError as error:
        raise DraftingError(error.message, SPEC_FIELDS.get(error.field, error.field)) from None


def set_lot_clauses(user, lot: TenderLot, form: Mapping[str, Any]) -> ClauseSpec:
    """Store the lot's clauses (through `ClauseSpec.to_json`); on a published tender, a rectificatif says so."""
    tender = lot.tender
    _require_editable(tender)
    spec = read_clauses(form)
    document = spec.to_json()
    if "required_env" in form:  # the environmental commitments asked of who answers (tenders.matching reads them)
        required_env = _required_env(form["required_env"])
        if required_env != list(lot.required_env or []):
            record_rectificatif(user, tender, [{
                "field": "lot_required_env", "label": f"Lot {lot.position} : engagements environnementaux exigés",
                "before": _env_words(lot.required_env), "after": _env_words(required_env)}])
            lot.required_env = required_env
            db.session.flush()
    if document != ClauseSpec.from_json(lot.clauses).to_json():
        before = ClauseSpec.from_json(lot.clauses)
        lot.clauses = document
        db.session.flush()
        audit.record(user, "tender.lot_clauses", tender, lot=lot.id)
        record_rectificatif(user, tender, [{
            "field": "lot_clauses", "label": f"Lot {lot.position} : clauses sociales et environnementales",
            "before": clause_summary(before), "after": clause_summary(spec)}])
    return spec


def _required_env(values: Any) -> list[str]:
    """Known commitment codes, each once, in the list's order; an unknown one is refused naming the field."""
    from ..suppliers.models import EnvLabel

    chosen = list(dict.fromkeys(values or []))
    for value in chosen:
        if value not in EnvLabel._value2member_map_:
            raise DraftingError(f"Engagement environnemental inconnu : « {str(value)[:30]} ».", "required_env")
    return chosen


def _env_words(values: Any) -> str:
    from ..suppliers.models import EnvLabel

    return ", ".join(EnvLabel(value).label for value in values or [] if value in EnvLabel._value2member_map_) or "aucun"


def clause_summary(spec: ClauseSpec) -> str:
    from ..clauses.spec import CLAUSE_TYPES

    parts = [CLAUSE_TYPES[code] for code in spec.clause_types()]
    if spec.insertion is not None:
        parts[parts.index(CLAUSE_TYPES["insertion"])] += f" ({fr_number(spec.insertion.hours)} h)"
    return ", ".join(parts) or "aucune"


def builder_values(lot: TenderLot) -> dict[str, Any]:
    """The builder's fields for a stored lot (shares in %), with the calculator's defaults when it has no
    insertion clause yet."""
    spec = ClauseSpec.from_json(lot.clauses)
    tender = lot.tender
    group = tender.sectors[0].group.slug if tender.sectors else None
    defaults = calculator_defaults(tender.nature, group)
    basis = lot.amount if lot.amount is not None else tender.amount
    values: dict[str, Any] = {
        "insertion": spec.insertion is not None,
        "amount_basis": str(basis if basis is not None else ""),
        "labour_share": _to_percent(defaults.labour_share.value),
        "insertion_rate": _to_percent(defaults.insertion_rate.value),
        "hourly_cost": str(defaults.hourly_cost.value), "hours_override": "", "override_reason": "",
        "modes": [], "publics": [], "penalty_per_hour": "",
        "reservation": spec.reservation or "", "insertion_object": spec.insertion_object,
        "social_criterion": spec.social_criterion is not None,
        "social_criterion_weight": str(spec.social_criterion.weight) if spec.social_criterion else "",
        "social_criterion_description": spec.social_criterion.description if spec.social_criterion else "",
        "environmental_conditions": list(spec.environmental_conditions),
        "environmental_free_text": spec.environmental_free_text,
        "environmental_criterion": spec.environmental_criterion is not None,
        "environmental_criterion_weight": str(spec.environmental_criterion.weight)
        if spec.environmental_criterion else "",
        "environmental_criterion_description": spec.environmental_criterion.description
        if spec.environmental_criterion else "",
        "environmental_criterion_cost": bool(spec.environmental_criterion and spec.environmental_criterion.cost),
        "waiver_exception": spec.waivers[0].exception if spec.waivers else "",
        "waiver_reason": spec.waivers[0].reason if spec.waivers else "",
        "required_env": list(lot.required_env or []),
    }
    if spec.insertion is not None:
        i = spec.insertion
        values.update({"amount_basis": str(i.amount_basis), "labour_share": _to_percent(i.labour_share),
                       "insertion_rate": _to_percent(i.insertion_rate), "hourly_cost": str(i.hourly_cost),
                       "hours_override": "" if i.hours_override is None else str(i.hours_override),
                       "override_reason": i.override_reason, "modes": list(i.modes), "publics": list(i.publics),
                       "penalty_per_hour": "" if i.penalty_per_hour is None else str(i.penalty_per_hour)})
    return values


def _to_percent(share: Decimal) -> str:
    return format((Decimal(share) * 100).normalize(), "f")


# --- the legal check -----------------------------------------------------------------------------------

def tender_facts(tender: Tender, *, on: date | None = None) -> legal.TenderFacts:
    """What the legal check reads of a tender; an undated one is judged as launched today."""
    return legal.TenderFacts(buyer_category=buyer_category(tender.organisation), nature=tender.nature,
                             amount=tender.amount or Decimal(0), launch_date=tender.launch_date or on or today(),
                             defence=tender.defence, specific_services=tender.specific_services,
                             procedure=tender.procedure)


def lot_specs(tender: Tender) -> list[tuple[TenderLot, ClauseSpec]]:
    return [(lot, ClauseSpec.from_json(lot.clauses)) for lot in tender.lots]


def lot_title(lot: TenderLot) -> str:
    return lot.title if lot.tender.allotted else ""


def legal_check(tender: Tender, replaced: tuple[TenderLot, ClauseSpec] | None = None) -> legal.LegalCheck:
    """The check of the tender as stored, or with one lot's clauses `replaced` (the builder's live check)."""
    lots = []
    for lot, spec in lot_specs(tender):
        if replaced is not None and replaced[0] is lot:
            spec = replaced[1]
        lots.append(spec.lot_clauses(lot_title(lot) or f"Lot {lot.position}"))
    return legal.check(tender_facts(tender), lots)


@dataclass(frozen=True)
class LiveCheck:
    """What the checklist beside the builder shows: the check, the calculator, or the refusal of an input."""

    check: legal.LegalCheck | None
    hours: Hours | None = None
    hours_asked: Decimal | None = None
    error: DraftingError | None = None


def live_check(lot: TenderLot, form: Mapping[str, Any]) -> LiveCheck:
    """The legal check with the builder's current fields (nothing stored); an input refused is shown, not raised."""
    hours = None
    if form.get("insertion"):
        try:
            hours = insertion_hours(str(form.get("amount_basis", "")).replace(" ", "").replace("\u202f", ""),
                                    _percent_to_share(form.get("labour_share"), "labour_share", "Part de main-d'œuvre"),
                                    _percent_to_share(form.get("insertion_rate"), "insertion_rate",
                                                      "Taux d'insertion"),
                                    str(form.get("hourly_cost", "")).replace(",", "."))
        except DomainError:
            hours = None
    try:
        spec = read_clauses(form)
    except DraftingError as error:
        return LiveCheck(legal_check(lot.tender), hours, error=error)
    asked = spec.insertion.hours if spec.insertion is not None else None
    return LiveCheck(legal_check(lot.tender, (lot, spec)), hours, asked)


# --- what is left to do ----------------------------------------------------------------------------------

def to_do(tender: Tender, *, now: datetime | None = None) -> list[str]:
    """What the buyer still has to do on a tender, in French (empty: nothing)."""
    now = now or datetime.now(timezone.utc)
    status = tender.status
    if status == TenderStatus.DRAFT:
        missing = [label for label, value in (("le montant estimé", tender.amount), ("un code CPV", tender.cpv_codes),
                                              ("le lieu d'exécution", tender.place_ref),
                                              ("la date limite de réponse", tender.answers_deadline)) if not value]
        items = [f"Renseigner {', '.join(missing)}."] if missing else []
        if tender.answers_deadline is not None and tender.answers_deadline <= now:
            items.append("Reporter la date limite de réponse, passée.")
        try:
            check = legal_check(tender)
        except DomainError as error:
            items.append(error.message)
        else:
            items += [f"Clauses : {line}" for line in check.blocking]
        return items or ["Soumettre la consultation à validation."]
    if status == TenderStatus.SUBMITTED:
        return ["Attendre la validation du facilitateur ou de la plateforme."]
    if status == TenderStatus.PUBLISHED:
        if tender.answers_deadline is not None and tender.answers_deadline <= now:
            return ["Date limite passée : clôturer et attribuer les lots."]
        return []
    if status == TenderStatus.CLOSED:
        open_lots = [lot for lot in tender.lots if lot.award is None]
        return [f"Attribuer ou déclarer infructueux {len(open_lots)} lot(s)."] if open_lots else []
    return []


# --- duplicating, starting from a search -----------------------------------------------------------------

COPIED = ("title", "object", "kind", "procedure", "defence", "specific_services", "cpv_codes", "nature", "place_ref",
          "amount", "duration_months", "contact_name", "contact_email", "contact_phone", "buyer_profile_url",
          "allotted")


def duplicate_tender(user, source: Tender) -> Tender:
    """A new draft from a past tender of the same organisation: its fields, sectors, lots and their clauses; no
    dates, attachments, comments or award."""
    tender = Tender(organisation_id=source.organisation_id, created_by_id=user.id, source_tender_id=source.id,
                    status=TenderStatus.DRAFT, **{name: getattr(source, name) for name in COPIED})
    tender.title = f"{source.title} (copie)"[:250]
    tender.cpv_codes = list(source.cpv_codes)
    tender.sectors = list(source.sectors)
    tender.lots = [TenderLot(position=lot.position, title=lot.title, description=lot.description, amount=lot.amount,
                             cpv_codes=list(lot.cpv_codes), place_ref=lot.place_ref,
                             clauses=ClauseSpec.from_json(lot.clauses).to_json() if lot.clauses else {})
                   for lot in source.lots]
    if not tender.allotted:
        tender.lots[0].title = tender.title
    db.session.add(tender)
    db.session.flush()
    audit.record(user, "tender.duplicate", tender, source=source.id)
    return tender


def initial_from_search(args: Mapping[str, Any]) -> dict[str, Any]:
    """The new tender form's starting values from a directory search (`secteurs`, `territoire`); anything
    unreadable is left out, never an error."""
    initial: dict[str, Any] = {}
    raw = args.getlist("secteurs") if hasattr(args, "getlist") else [args.get("secteurs", "")]
    ids = [int(part) for value in raw for part in re.split(r"[\s,]+", str(value or "")) if part.isascii()
           and part.isdigit() and len(part) < 9]
    if ids:
        initial["sectors"] = sorted(db.session.scalars(select(Sector.id).where(Sector.id.in_(ids))))
    place = str(args.get("territoire") or "").strip()
    if place:
        try:
            initial["place_ref"] = resolve(place).ref
        except TerritoryError:
            pass
    return initial


# --- attachments -----------------------------------------------------------------------------------------

def add_attachment(user, tender: Tender, storage) -> TenderAttachment:
    """A PDF (checked by its content, ≤ 20 MB), stored outside static/."""
    _require_editable(tender)
    if storage is None or not getattr(storage, "filename", ""):
        raise DraftingError("Choisissez un fichier PDF.", "file")
    data = read_upload(storage, MAX_ATTACHMENT_BYTES, "file")
    if not data.startswith(b"%PDF-"):
        raise DraftingError("Pièce jointe : seul le format PDF est accepté (le contenu du fichier n'est pas un PDF).",
                            "file")
    name = re.sub(r"[^\w.\- ]+", "_", storage.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip() or "document"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    attachment = TenderAttachment(tender=tender, path=store_upload(data, "pdf", ATTACHMENTS_FOLDER),
                                  filename=name[-200:], size=len(data), uploaded_by_id=user.id)
    db.session.add(attachment)
    db.session.flush()
    audit.record(user, "tender.attachment_add", tender, attachment=attachment.id)
    record_rectificatif(user, tender, [{"field": "attachments", "label": "Pièce jointe ajoutée", "before": "—",
                                        "after": attachment.filename}])
    return attachment


def remove_attachment(user, attachment: TenderAttachment) -> None:
    tender = attachment.tender
    _require_editable(tender)
    tender.attachments.remove(attachment)
    db.session.flush()
    audit.record(user, "tender.attachment_remove", tender, filename=attachment.filename)
    record_rectificatif(user, tender, [{"field": "attachments", "label": "Pièce jointe retirée",
                                        "before": attachment.filename, "after": "—"}])


def attachment_path(attachment: TenderAttachment):
    return upload_root() / attachment.path


# --- the clause annex --------------------------------------------------------------------------------------

def annex_lots(tender: Tender) -> list[LotAnnex]:
    facilitator = tender.assisting_organisation.name if tender.assisting_organisation else ""
    return [spec.annex(lot.position, lot_title(lot), facilitator) for lot, spec in lot_specs(tender)]


def tender_annex_text(tender: Tender) -> str:
    return annex_text(tender.title, annex_lots(tender))


def tender_annex_params(tender: Tender) -> dict[str, Any]:
    return annex_params(tender.title, tender.organisation.name, annex_lots(tender), today())


# --- "Mes consultations" ------------------------------------------------------------------------------------

def my_tenders_query(organisation_ids: Iterable[int], status: str | None = None):
    query = select(Tender).where(Tender.organisation_id.in_(list(organisation_ids)))
    if status:
        query = query.where(Tender.status == status)
    return query.order_by(Tender.updated_at.desc(), Tender.id.desc())


def status_counts(organisation_ids: Iterable[int]) -> dict[str, int]:
    rows = db.session.execute(select(Tender.status, func.count()).where(
        Tender.organisation_id.in_(list(organisation_ids))).group_by(Tender.status))
    return {status: count for status, count in rows}
