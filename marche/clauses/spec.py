"""What one lot says in its clauses, as a stored JSON document and as the records the legal check and the annex read.

The document (`tender_lot.clauses`; decimals as strings so that nothing drifts through JSON)::

    {"insertion": {"amount_basis": "400000", "labour_share": "0.5", "insertion_rate": "0.05",
                   "hourly_cost": "30", "hours_override": null, "override_reason": "",
                   "modes": ["direct_hire"], "publics": ["long_term_jobseeker"], "penalty_per_hour": "30"},
     "reservation": null,                      # "siae" | "disability" | "both"
     "insertion_object": false,
     "social_criterion": {"weight": "10", "description": ""},          # or null
     "environmental_conditions": ["reuse", "free_text"], "environmental_free_text": "…",
     "environmental_criterion": {"weight": "15", "description": "", "cost": false},   # or null
     "waivers": [{"obligation": "social_consideration", "exception": "no_link", "reason": "…"}]}

`"cost": true` marks an environmental criterion that is the offer's global cost, environmental characteristics
included (the only criterion that may weigh 100 %, R2152-7 1°); it is written only when true. `{}` is a lot
without clauses. `ClauseSpec.from_json` checks everything and raises `ClauseSpecError` (French,
naming the field) on anything else; `to_json` writes the same shape back.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..core.errors import DomainError
from . import legal
from .annex import InsertionTerms, LotAnnex
from .calculator import CalculatorError, Hours, check_inputs, etp, insertion_hours, round_hours, to_decimal
from .catalogue import EligiblePublic, EnvironmentalCondition, FulfilmentMode

#: how tender search and lists name what a lot carries (code → French label)
CLAUSE_TYPES = {
    "insertion": "Clause d'insertion",
    "reserved": "Marché réservé",
    "insertion_object": "Marché d'insertion",
    "social_criterion": "Critère social",
    "environmental_condition": "Condition d'exécution environnementale",
    "environmental_criterion": "Critère environnemental",
}
MAX_TEXT = 2000
MAX_HOURS = Decimal(10_000_000)


class ClauseSpecError(DomainError):
    """A clause document that cannot be read; the message is French, `field` names the form field."""


@dataclass(frozen=True)
class InsertionSpec:
    """The insertion clause (L2112-2): the calculator's inputs, the hours (computed, or written with a reason),
    the accepted modes and eligible publics."""

    amount_basis: Decimal
    labour_share: Decimal
    insertion_rate: Decimal
    hourly_cost: Decimal
    hours_override: Decimal | None = None
    override_reason: str = ""
    modes: tuple[str, ...] = ()
    publics: tuple[str, ...] = ()
    penalty_per_hour: Decimal | None = None

    def computed(self) -> Hours:
        return insertion_hours(self.amount_basis, self.labour_share, self.insertion_rate, self.hourly_cost)

    @property
    def hours(self) -> Decimal:
        """The hours the clause asks: the buyer's figure when written, else the calculator's."""
        return self.hours_override if self.hours_override is not None else self.computed().hours

    @property
    def etp(self) -> Decimal:
        return etp(self.hours)


@dataclass(frozen=True)
class Criterion:
    weight: Decimal
    description: str = ""
    #: the offer's global cost, environmental characteristics included (an environmental criterion only)
    cost: bool = False


@dataclass(frozen=True)
class ClauseSpec:
    insertion: InsertionSpec | None = None
    reservation: str | None = None
    insertion_object: bool = False
    social_criterion: Criterion | None = None
    environmental_conditions: tuple[str, ...] = ()
    environmental_free_text: str = ""
    environmental_criterion: Criterion | None = None
    waivers: tuple[legal.Waiver, ...] = field(default=())

    # --- reading and writing the stored document ---------------------------------------------------

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "ClauseSpec":
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise ClauseSpecError("Clauses illisibles.", "clauses")
        spec = cls(
            insertion=_insertion(data.get("insertion")),
            reservation=_reservation(data.get("reservation")),
            insertion_object=bool(data.get("insertion_object")),
            social_criterion=_criterion(data.get("social_criterion"), "social_criterion", "Critère social"),
            environmental_conditions=_choices(data.get("environmental_conditions"), EnvironmentalCondition,
                                              "environmental_conditions", "Condition environnementale"),
            environmental_free_text=_text(data.get("environmental_free_text"), "environmental_free_text"),
            environmental_criterion=_criterion(data.get("environmental_criterion"), "environmental_criterion",
                                               "Critère environnemental", may_be_cost=True),
            waivers=tuple(_waiver(w) for w in _list(data.get("waivers"), "waivers")),
        )
        if EnvironmentalCondition.FREE_TEXT in spec.environmental_conditions and not spec.environmental_free_text:
            raise ClauseSpecError("Condition environnementale « autre » : écrivez-la.", "environmental_free_text")
        try:
            legal.check_lot(spec.lot_clauses(), 1)
        except legal.LegalCheckError as error:
            raise ClauseSpecError(error.message.removeprefix("Lot 1 : "), error.field) from None
        return spec

    def to_json(self) -> dict[str, Any]:
        def criterion(c: Criterion | None) -> dict[str, Any] | None:
            if c is None:
                return None
            return {"weight": str(c.weight), "description": c.description} | ({"cost": True} if c.cost else {})

        insertion = None
        if self.insertion is not None:
            i = self.insertion
            insertion = {"amount_basis": str(i.amount_basis), "labour_share": str(i.labour_share),
                         "insertion_rate": str(i.insertion_rate), "hourly_cost": str(i.hourly_cost),
                         "hours_override": None if i.hours_override is None else str(i.hours_override),
                         "override_reason": i.override_reason, "modes": list(i.modes), "publics": list(i.publics),
                         "penalty_per_hour": None if i.penalty_per_hour is None else str(i.penalty_per_hour)}
        return {"insertion": insertion, "reservation": self.reservation, "insertion_object": self.insertion_object,
                "social_criterion": criterion(self.social_criterion),
                "environmental_conditions": list(self.environmental_conditions),
                "environmental_free_text": self.environmental_free_text,
                "environmental_criterion": criterion(self.environmental_criterion),
                "waivers": [{"obligation": w.obligation, "exception": w.exception, "reason": w.reason}
                            for w in self.waivers]}

    # --- what the other parts of clauses read ------------------------------------------------------

    def lot_clauses(self, title: str = "") -> legal.LotClauses:
        return legal.LotClauses(
            title=title, insertion_clause=self.insertion is not None,
            social_criterion_weight=self.social_criterion.weight if self.social_criterion else None,
            reservation=self.reservation, insertion_object=self.insertion_object,
            environmental_condition=bool(self.environmental_conditions),
            environmental_criterion_weight=self.environmental_criterion.weight if self.environmental_criterion
            else None,
            environmental_criterion_is_cost=bool(self.environmental_criterion and self.environmental_criterion.cost),
            waivers=self.waivers)

    def annex(self, number: int, title: str, facilitator: str = "") -> LotAnnex:
        insertion = None
        if self.insertion is not None:
            insertion = InsertionTerms(self.insertion.hours, self.insertion.modes, self.insertion.publics,
                                       facilitator, self.insertion.penalty_per_hour)
        extra: dict[str, str] = {}
        if self.social_criterion and self.social_criterion.description:
            extra["social_criterion_text"] = self.social_criterion.description
        if self.environmental_criterion and self.environmental_criterion.description:
            extra["environmental_criterion_text"] = self.environmental_criterion.description
        return LotAnnex(number, self.lot_clauses(title), insertion, self.environmental_conditions,
                        self.environmental_free_text, **extra)

    def clause_types(self) -> list[str]:
        """The codes of CLAUSE_TYPES this lot carries, in that order."""
        present = {"insertion": self.insertion is not None, "reserved": self.reservation is not None,
                   "insertion_object": self.insertion_object, "social_criterion": self.social_criterion is not None,
                   "environmental_condition": bool(self.environmental_conditions),
                   "environmental_criterion": self.environmental_criterion is not None}
        return [code for code in CLAUSE_TYPES if present[code]]


# --- reading one part ------------------------------------------------------------------------------

def _text(value: Any, field: str) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_TEXT:
        raise ClauseSpecError(f"Texte trop long ({MAX_TEXT} caractères au plus).", field)
    return text


def _list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ClauseSpecError("Liste attendue.", field)
    return list(value)


def _choices(value: Any, enum: Any, field: str, label: str) -> tuple[str, ...]:
    chosen = []
    for item in _list(value, field):
        if item not in enum._value2member_map_:
            raise ClauseSpecError(f"{label} inconnue : « {str(item)[:40]} ».", field)
        if item not in chosen:
            chosen.append(str(item))
    return tuple(chosen)


def _reservation(value: Any) -> str | None:
    if value in (None, "", "none"):
        return None
    if value not in legal.RESERVATIONS:
        raise ClauseSpecError(f"Réservation inconnue : « {str(value)[:30]} ».", "reservation")
    return str(value)


def _criterion(value: Any, field: str, label: str, may_be_cost: bool = False) -> Criterion | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ClauseSpecError(f"{label} illisible.", field)
    weight = to_decimal(value.get("weight"), f"{field}_weight", f"{label} : pondération")
    if not 0 < weight <= legal.MAX_TOTAL_WEIGHT:
        raise ClauseSpecError(f"{label} : la pondération doit être comprise entre 0 et 100 %.", f"{field}_weight")
    cost = value.get("cost", False)
    if not isinstance(cost, bool) or (cost and not may_be_cost):
        raise ClauseSpecError(f"{label} : « coût global » illisible.", f"{field}_cost")
    return Criterion(weight, _text(value.get("description"), f"{field}_description"), cost)


def _insertion(value: Any) -> InsertionSpec | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ClauseSpecError("Clause d'insertion illisible.", "insertion")
    try:
        amount, labour_share, insertion_rate, hourly_cost = check_inputs(
            value.get("amount_basis"), value.get("labour_share"), value.get("insertion_rate"),
            value.get("hourly_cost"))
    except CalculatorError as error:
        raise ClauseSpecError(error.message, f"insertion_{error.field}") from None
    override = value.get("hours_override")
    hours_override = None
    reason = _text(value.get("override_reason"), "override_reason")
    if override not in (None, ""):
        hours_override = to_decimal(override, "hours_override", "Heures d'insertion")
        if hours_override <= 0 or hours_override > MAX_HOURS or hours_override != round_hours(hours_override):
            raise ClauseSpecError("Heures d'insertion : un nombre entier d'heures supérieur à 0.", "hours_override")
        if not reason:
            raise ClauseSpecError("Vous avez modifié les heures calculées : écrivez pourquoi.", "override_reason")
    penalty = value.get("penalty_per_hour")
    penalty_per_hour = None
    if penalty not in (None, ""):
        penalty_per_hour = to_decimal(penalty, "penalty_per_hour", "Pénalité par heure manquante")
        if penalty_per_hour < 0 or penalty_per_hour > 10_000:
            raise ClauseSpecError("Pénalité par heure manquante : entre 0 et 10 000 €.", "penalty_per_hour")
    modes = _choices(value.get("modes"), FulfilmentMode, "modes", "Modalité")
    if not modes:
        raise ClauseSpecError("Choisissez au moins une modalité de réalisation des heures.", "modes")
    publics = _choices(value.get("publics"), EligiblePublic, "publics", "Public")
    if not publics:
        raise ClauseSpecError("Choisissez au moins un public éligible.", "publics")
    return InsertionSpec(amount, labour_share, insertion_rate, hourly_cost, hours_override, reason, modes, publics,
                         penalty_per_hour)


def _waiver(value: Any) -> legal.Waiver:
    if not isinstance(value, Mapping):
        raise ClauseSpecError("Exception illisible.", "waivers")
    return legal.Waiver(str(value.get("obligation") or ""), str(value.get("exception") or ""),
                        _text(value.get("reason"), "waivers"))
