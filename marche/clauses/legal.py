"""The legal check of a tender: for its buyer, nature, estimated amount, launch date and defence flag, which of
the three 2026 obligations apply and whether each lot satisfies them, waives them (a legal exception and its
reason recorded) or misses them; and whether the procedure fits the amount (a warning, never a block).

Pure functions over plain records: no database, a few microseconds per call, so the form re-checks on every
change. Every figure and date comes from `rules.py`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..core.errors import DomainError
from . import rules
from .calculator import euros, fr_decimal, to_decimal
from .rules import Nature, Obligation

SATISFIED, WAIVED, MISSING, NOT_REQUIRED = "satisfied", "waived", "missing", "not_required"
STATUS_LABELS = {SATISFIED: "Respectée", WAIVED: "Écartée (exception motivée)", MISSING: "Manquante",
                 NOT_REQUIRED: "Non obligatoire"}
RESERVATIONS = {"siae": rules.RESERVED_SIAE_ARTICLE, "disability": rules.RESERVED_DISABILITY_ARTICLE,
                "both": rules.RESERVED_BOTH_ARTICLE}
#: the DECP 2024 values of `procedure` for a marché (data/decp/schema_decp_v2.0.3.json)
ADAPTED = "Procédure adaptée"
OPEN_TENDER = "Appel d'offres ouvert"
RESTRICTED_TENDER = "Appel d'offres restreint"
NEGOTIATED = "Procédure avec négociation"
NO_COMPETITION = "Marché passé sans publicité ni mise en concurrence préalable"
COMPETITIVE_DIALOGUE = "Dialogue compétitif"
PROCEDURES = (ADAPTED, OPEN_TENDER, RESTRICTED_TENDER, NEGOTIATED, NO_COMPETITION, COMPETITIVE_DIALOGUE)
FORMALISED = (OPEN_TENDER, RESTRICTED_TENDER, NEGOTIATED, COMPETITIVE_DIALOGUE)
MAX_TOTAL_WEIGHT = Decimal(100)


class LegalCheckError(DomainError):
    """An input the check cannot judge (unknown category, weights over 100 %, a waiver without its reason)."""


@dataclass(frozen=True)
class Waiver:
    """A recorded exception: the obligation it waives, the legal exception invoked and the buyer's reason."""

    obligation: str
    exception: str
    reason: str


@dataclass(frozen=True)
class LotClauses:
    """What a lot says about the obligations (weights in %, None when the lot has no such criterion)."""

    title: str = ""
    insertion_clause: bool = False
    social_criterion_weight: Decimal | None = None
    reservation: str | None = None
    insertion_object: bool = False
    environmental_condition: bool = False
    environmental_criterion_weight: Decimal | None = None
    #: the environmental criterion is the offer's cost by a global approach (life-cycle cost, R2152-9) that
    #: includes its environmental characteristics: the only kind of criterion that may stand alone
    environmental_criterion_is_cost: bool = False
    waivers: tuple[Waiver, ...] = ()


@dataclass(frozen=True)
class TenderFacts:
    buyer_category: str
    nature: str
    amount: Decimal
    launch_date: date
    defence: bool = False
    #: services sociaux et autres services spécifiques (their own EU threshold, MAPA at any amount)
    specific_services: bool = False
    procedure: str | None = None


@dataclass(frozen=True)
class LotOutcome:
    title: str
    status: str
    detail: str


@dataclass(frozen=True)
class ObligationResult:
    code: str
    label: str
    required: bool
    article: str
    threshold: Decimal | None
    applies_from: date
    reason: str
    #: satisfied / waived / missing / not_required; None when no lot was given (the check of the figures alone)
    status: str | None = None
    lots: tuple[LotOutcome, ...] = ()


@dataclass(frozen=True)
class ProcedureCheck:
    applies: bool
    procedure: str | None
    allowed: tuple[str, ...]
    fits: bool | None
    warning: str | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LegalCheck:
    obligations: tuple[ObligationResult, ...]
    procedure: ProcedureCheck
    #: the lines that would block publication (required and missing)
    blocking: tuple[str, ...] = field(default=())


def fr_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --- reading and checking the inputs -------------------------------------------------------------

def check_facts(facts: TenderFacts) -> TenderFacts:
    if facts.buyer_category not in rules.BUYER_CATEGORIES:
        raise LegalCheckError(f"Catégorie d'acheteur inconnue : « {str(facts.buyer_category)[:40]} ».",
                              "buyer_category")
    if facts.nature not in {n.value for n in Nature}:
        raise LegalCheckError(f"Nature inconnue : « {str(facts.nature)[:40]} » (travaux, fournitures ou services).",
                              "nature")
    amount = to_decimal(facts.amount, "amount", "Montant estimé")
    if amount < 0:
        raise LegalCheckError("Le montant estimé ne peut pas être négatif.", "amount")
    if facts.procedure is not None and facts.procedure not in PROCEDURES:
        raise LegalCheckError(f"Procédure inconnue : « {str(facts.procedure)[:60]} ».", "procedure")
    return facts


def check_lot(lot: LotClauses, position: int) -> None:
    name = lot.title or f"Lot {position}"
    weights = [w for w in (lot.social_criterion_weight, lot.environmental_criterion_weight) if w is not None]
    if any(w < 0 or w > MAX_TOTAL_WEIGHT for w in weights):
        raise LegalCheckError(f"{name} : une pondération doit être comprise entre 0 et 100 %.", "weights")
    if sum(weights, Decimal(0)) > MAX_TOTAL_WEIGHT:
        raise LegalCheckError(f"{name} : la somme des pondérations des critères dépasse 100 % "
                              f"({fr_decimal(sum(weights, Decimal(0)))} %).", "weights")
    if lot.reservation is not None and lot.reservation not in RESERVATIONS:
        raise LegalCheckError(f"{name} : réservation inconnue « {str(lot.reservation)[:30]} ».", "reservation")
    known = {o.code: o for o in rules.OBLIGATIONS}
    for waiver in lot.waivers:
        obligation = known.get(waiver.obligation)
        if obligation is None:
            raise LegalCheckError(f"{name} : obligation inconnue « {waiver.obligation[:40]} ».", "waivers")
        if not obligation.exceptions:
            raise LegalCheckError(f"{name} : aucune exception légale ne permet d'écarter « {obligation.label} » "
                                  f"({obligation.article}).", "waivers")
        if waiver.exception not in dict(obligation.exceptions):
            raise LegalCheckError(f"{name} : choisissez une des exceptions prévues par l'article "
                                  f"{obligation.article}.", "waivers")
        if not waiver.reason.strip():
            raise LegalCheckError(f"{name} : motivez l'exception invoquée pour « {obligation.label} ».", "waivers")


# --- what satisfies each obligation ---------------------------------------------------------------

def _social_means(lot: LotClauses) -> list[str]:
    means = []
    if lot.insertion_clause:
        means.append(f"clause d'insertion ({rules.INSERTION_CLAUSE_ARTICLE})")
    if lot.social_criterion_weight:
        means.append(f"critère social ({rules.SOCIAL_CRITERION_ARTICLE})")
    if lot.reservation:
        means.append(f"marché réservé ({RESERVATIONS[lot.reservation]})")
    if lot.insertion_object:
        means.append(f"marché d'insertion ({rules.INSERTION_OBJECT_ARTICLE})")
    return means


def _means(code: str, lot: LotClauses) -> list[str]:
    if code == rules.SOCIAL_CONSIDERATION.code:
        return _social_means(lot)
    if code == rules.ENVIRONMENTAL_AWARD_CRITERION.code:
        return ["critère environnemental"] if lot.environmental_criterion_weight else []
    return ["condition d'exécution environnementale"] if lot.environmental_condition else []


def single_criterion_problem(lot: LotClauses) -> str | None:
    """Why the lot's environmental criterion does not count: it is the only criterion (100 %) and not a cost."""
    if lot.environmental_criterion_weight == MAX_TOTAL_WEIGHT and not lot.environmental_criterion_is_cost:
        return (f"critère environnemental unique (100 %) : un critère unique ne peut être que le coût, déterminé "
                f"selon une approche globale qui inclut les caractéristiques environnementales de l'offre "
                f"({rules.SINGLE_CRITERION_ARTICLE}, {rules.LIFE_CYCLE_COST_ARTICLE}) ; le prix seul n'est plus "
                f"admis")
    return None


def _lot_outcome(obligation: Obligation, lot: LotClauses, position: int) -> LotOutcome:
    title = lot.title or f"Lot {position}"
    if obligation.code == rules.ENVIRONMENTAL_AWARD_CRITERION.code and (problem := single_criterion_problem(lot)):
        return LotOutcome(title, MISSING, problem)
    means = _means(obligation.code, lot)
    if means:
        return LotOutcome(title, SATISFIED, ", ".join(means))
    waiver = next((w for w in lot.waivers if w.obligation == obligation.code), None)
    if waiver is not None:
        return LotOutcome(title, WAIVED, f"{dict(obligation.exceptions)[waiver.exception]} : {waiver.reason}")
    return LotOutcome(title, MISSING, f"{obligation.label} manquante ({obligation.article})")


def _overall(outcomes: list[LotOutcome]) -> str:
    statuses = {o.status for o in outcomes}
    if MISSING in statuses:
        return MISSING
    return WAIVED if WAIVED in statuses else SATISFIED


# --- the check -----------------------------------------------------------------------------------

def _requirement(obligation: Obligation, facts: TenderFacts, amount: Decimal) -> tuple[bool, Decimal | None, str]:
    """(required, threshold, French reason) for one obligation."""
    public = facts.buyer_category != rules.PRIVATE
    social = obligation.code == rules.SOCIAL_CONSIDERATION.code
    threshold = None
    if social and public and not facts.defence:
        figure = rules.eu_threshold(facts.buyer_category, facts.nature, facts.launch_date,
                                    specific_services=facts.specific_services)
        threshold = figure.value
    if not public:
        return False, None, "Acheteur privé : le Code de la commande publique ne lui impose pas cette obligation."
    if facts.defence:
        return False, None, "Marché de défense ou de sécurité : exempté de cette obligation."
    if facts.launch_date < obligation.applies_from:
        return False, threshold, (f"Consultation lancée le {fr_date(facts.launch_date)} : l'obligation "
                                  f"({obligation.article}) vise les consultations lancées à partir du "
                                  f"{fr_date(obligation.applies_from)}.")
    if not social:
        what = ("un critère d'attribution environnemental" if obligation is rules.ENVIRONMENTAL_AWARD_CRITERION
                else "une condition d'exécution environnementale")
        return True, None, (f"Obligatoire à tout montant pour les consultations lancées à partir du "
                            f"{fr_date(obligation.applies_from)} ({obligation.article}) : chaque lot doit "
                            f"comporter {what}.")
    assert threshold is not None
    nature = rules.NATURE_LABELS[Nature(facts.nature)]
    late = "" if facts.launch_date <= rules.EU_UNTIL else " (seuil 2026-2027, le plus récent connu)"
    if amount < threshold:
        return False, threshold, (f"Montant estimé de {euros(amount)} HT inférieur au seuil européen de "
                                  f"{euros(threshold)} HT ({nature}){late} : non obligatoire.")
    return True, threshold, (f"Montant estimé de {euros(amount)} HT au moins égal au seuil européen de "
                             f"{euros(threshold)} HT ({nature}){late} : chaque lot doit comporter une "
                             f"considération sociale (clause d'insertion, critère social, marché réservé ou "
                             f"marché d'insertion) ({obligation.article}).")


def check(facts: TenderFacts, lots: list[LotClauses] | None = None) -> LegalCheck:
    """The legal check; `lots` None checks the figures alone (no status), [] is one implicit lot without clauses."""
    check_facts(facts)
    amount = to_decimal(facts.amount, "amount", "Montant estimé")
    if lots is not None:
        lots = lots or [LotClauses()]
        for position, lot in enumerate(lots, start=1):
            check_lot(lot, position)
    results, blocking = [], []
    for obligation in rules.OBLIGATIONS:
        required, threshold, reason = _requirement(obligation, facts, amount)
        status, outcomes = None, ()
        if lots is not None:
            outcomes = tuple(_lot_outcome(obligation, lot, i) for i, lot in enumerate(lots, start=1))
            status = _overall(list(outcomes)) if required else NOT_REQUIRED
            if status == MISSING:
                missing = ", ".join(o.title for o in outcomes if o.status == MISSING)
                blocking.append(f"{obligation.label} ({obligation.article}) manquante : {missing}.")
        results.append(ObligationResult(obligation.code, obligation.label, required, obligation.article, threshold,
                                        obligation.applies_from, reason, status, outcomes))
    insertion_object = bool(lots) and all(lot.insertion_object for lot in lots)
    return LegalCheck(tuple(results), check_procedure(facts, amount, insertion_object=insertion_object),
                      tuple(blocking))


def check_procedure(facts: TenderFacts, amount: Decimal, *, insertion_object: bool = False) -> ProcedureCheck:
    """Which DECP procedures fit the amount; a warning when the chosen one does not."""
    if facts.buyer_category == rules.PRIVATE:
        return ProcedureCheck(False, facts.procedure, PROCEDURES, None, None,
                              ("Acheteur privé : procédure libre.",))
    eu = rules.eu_threshold(facts.buyer_category, facts.nature, facts.launch_date, defence=facts.defence,
                            specific_services=facts.specific_services)
    exempt = rules.no_competition_threshold(facts.nature)
    publicity = rules.PUBLICITY
    notes: list[str] = []
    mapa_any_amount = insertion_object or facts.specific_services
    if amount >= eu.value and not mapa_any_amount:
        allowed = FORMALISED
        notes.append(f"Au-delà du seuil européen de {euros(eu.value)} HT : procédure formalisée, publicité au "
                     f"BOAMP et au JOUE.")
    else:
        allowed = (ADAPTED, *FORMALISED)
        if insertion_object:
            notes.append(f"Marché d'insertion ({rules.INSERTION_OBJECT_ARTICLE}) : procédure adaptée quel que soit "
                         f"le montant.")
        elif facts.specific_services:
            notes.append("Services sociaux et autres services spécifiques : procédure adaptée possible quel que "
                         "soit le montant.")
        if publicity.in_force(facts.launch_date) and amount >= publicity.value:
            notes.append(f"À partir de {euros(publicity.value)} HT : publicité au BOAMP ou dans un journal "
                         f"d'annonces légales ({publicity.article}).")
    exempt_known = exempt.in_force(facts.launch_date)
    if exempt_known and amount < exempt.value:
        allowed = (NO_COMPETITION, *allowed)
        notes.append(f"Sous {euros(exempt.value)} HT : ni publicité ni mise en concurrence requises "
                     f"({exempt.article}, {exempt.source}).")
    fits, warning = None, None
    if facts.procedure is not None:
        if facts.procedure == NO_COMPETITION and not exempt_known:
            notes.append(f"Seuil de dispense de procédure non renseigné avant le {fr_date(exempt.applies_from)}.")
        else:
            fits = facts.procedure in allowed
            if not fits:
                warning = (f"La procédure « {facts.procedure} » ne correspond pas au montant estimé de "
                           f"{euros(amount)} HT : procédures attendues : {', '.join(allowed)}.")
    return ProcedureCheck(True, facts.procedure, tuple(allowed), fits, warning, tuple(notes))
