"""The hours calculator of an insertion clause: amount × labour share × insertion rate ÷ loaded hourly cost.

All in `Decimal` (no float drift). Rounding, written once: hours to the nearest whole hour, half up (833.33 → 833,
0.5 → 1); ETP = those rounded hours ÷ 1 607, to two decimals, half up (what the buyer reads is what is divided).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ..core.errors import DomainError
from ..core.filters import fr_number
from .rules import ETP_HOURS

#: beyond this amount (10 billion euros) an estimate is a typing error, and the Decimal arithmetic stays exact
MAX_AMOUNT = Decimal(10_000_000_000)
#: a loaded hourly cost below one cent is a typing error
MIN_HOURLY_COST = Decimal("0.01")
MAX_HOURLY_COST = Decimal(10_000)


class CalculatorError(DomainError):
    """An input out of range; `field` names it (amount, labour_share, insertion_rate, hourly_cost)."""


@dataclass(frozen=True)
class Hours:
    hours: Decimal
    etp: Decimal
    formula: str


def to_decimal(value, field: str, label: str) -> Decimal:
    """A finite Decimal from a number or a text (French comma accepted), else a French error naming the field."""
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip().replace(",", ".").replace("\u202f", "").replace(" ", ""))
    except (InvalidOperation, ValueError):
        raise CalculatorError(f"{label} : nombre attendu (reçu « {str(value)[:30]} »).", field) from None
    if not number.is_finite():
        raise CalculatorError(f"{label} : nombre attendu (reçu « {str(value)[:30]} »).", field)
    return number


def fr_decimal(value: Decimal) -> str:
    """A number in French with the decimals it has, no more: 15.50 → « 15,5 », 100 → « 100 »."""
    value = Decimal(value).normalize()
    return fr_number(value, max(0, -value.as_tuple().exponent))


def percent(share: Decimal) -> str:
    """0.05 → « 5 % », 0.125 → « 12,5 % »."""
    return f"{fr_decimal(share * 100)} %"


def euros(value: Decimal) -> str:
    """Whole euros without decimals, else with cents: « 1 000 000 € », « 30,50 € »."""
    decimals = 0 if value == value.to_integral_value() else 2
    return f"{fr_number(value, decimals)} €"


def check_inputs(amount, labour_share, insertion_rate, hourly_cost) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    amount = to_decimal(amount, "amount", "Montant")
    labour_share = to_decimal(labour_share, "labour_share", "Part de main-d'œuvre")
    insertion_rate = to_decimal(insertion_rate, "insertion_rate", "Taux d'insertion")
    hourly_cost = to_decimal(hourly_cost, "hourly_cost", "Coût horaire chargé")
    if amount < 0:
        raise CalculatorError("Le montant ne peut pas être négatif.", "amount")
    if amount > MAX_AMOUNT:
        raise CalculatorError(f"Le montant dépasse {fr_number(MAX_AMOUNT)} € : vérifiez la saisie.", "amount")
    for value, field, label in ((labour_share, "labour_share", "La part de main-d'œuvre"),
                                (insertion_rate, "insertion_rate", "Le taux d'insertion")):
        if not 0 <= value <= 1:
            raise CalculatorError(f"{label} doit être comprise entre 0 et 1 (par exemple 0,05 pour 5 %).", field)
    if hourly_cost <= 0:
        raise CalculatorError("Le coût horaire chargé doit être supérieur à 0 €.", "hourly_cost")
    if hourly_cost < MIN_HOURLY_COST or hourly_cost > MAX_HOURLY_COST:
        raise CalculatorError(f"Le coût horaire chargé doit être compris entre 0,01 € et "
                              f"{fr_number(MAX_HOURLY_COST)} €.", "hourly_cost")
    return amount, labour_share, insertion_rate, hourly_cost


def round_hours(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def etp(hours: Decimal) -> Decimal:
    """Full-time equivalents of a number of hours: ÷ 1 607, two decimals, half up."""
    return (Decimal(hours) / ETP_HOURS.value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def insertion_hours(amount, labour_share, insertion_rate, hourly_cost) -> Hours:
    """The hours to reserve, their ETP and the formula with its figures, in French."""
    amount, labour_share, insertion_rate, hourly_cost = check_inputs(amount, labour_share, insertion_rate,
                                                                     hourly_cost)
    hours = round_hours(amount * labour_share * insertion_rate / hourly_cost)
    formula = (f"{euros(amount)} × {percent(labour_share)} × {percent(insertion_rate)} ÷ "
               f"{euros(hourly_cost)}/h = {fr_number(hours)} h")
    return Hours(hours, etp(hours), formula)
