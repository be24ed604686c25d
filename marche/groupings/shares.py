"""The share arithmetic of a grouping's lot: percents that sum to exactly 100 %, and the amounts they stand for
out of the grouping's price, in cents that sum to exactly that price.

Percents have two decimals (as the DC1 and conventions write them: 33,33 %). Amounts are the price × percent,
rounded to the cent by the largest remainder: each amount is its exact value rounded down, then the cents left
over go one each to the largest remainders (ties: the first member listed). So the amounts always add up to the
price, and each is within one cent of its exact value.
"""
from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from ..core.errors import DomainError

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
#: Numeric(14, 2): below 10^12 €
MAX_PRICE = Decimal("999999999999.99")


def parse_percent(value: Any, who: str) -> Decimal | None:
    """A percent as typed (« 33,33 », « 50 », « » for none): None when empty or zero; DomainError naming `who`
    when it is not a number between 0 and 100 with at most two decimals."""
    text = str(value if value is not None else "").strip().replace("\u202f", "").replace(" ", "")
    text = text.rstrip("%").replace(",", ".")
    if not text:
        return None
    try:
        percent = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"Part de {who} : « {value} » n'est pas un pourcentage (exemple : 33,33).") from None
    if not percent.is_finite() or percent < 0 or percent > HUNDRED:
        raise DomainError(f"Part de {who} : un pourcentage est compris entre 0 et 100.")
    if percent != percent.quantize(CENT):
        raise DomainError(f"Part de {who} : deux décimales au plus (exemple : 33,33).")
    return None if percent == 0 else percent.quantize(CENT)


def parse_price(value: Any) -> Decimal | None:
    """The grouping's price for a lot, € HT (« 120 000,50 »); None when empty."""
    text = str(value if value is not None else "").strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
    text = text.removesuffix("€")
    if not text:
        return None
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"Prix du groupement : « {value} » n'est pas un montant (exemple : 120 000,50).",
                          "price") from None
    if not price.is_finite() or price <= 0 or price > MAX_PRICE:
        raise DomainError("Prix du groupement : un montant positif, inférieur à 1 000 milliards €.", "price")
    if price != price.quantize(CENT):
        raise DomainError("Prix du groupement : au centime près (deux décimales au plus).", "price")
    return price


def check_total(percents: list[Decimal], lot_name: str) -> None:
    """The shares of a lot sum to exactly 100 %."""
    total = sum(percents, Decimal(0))
    if total != HUNDRED:
        shown = f"{total:f}".rstrip("0").rstrip(".").replace(".", ",") if total else "0"
        raise DomainError(f"{lot_name} : les parts des membres font {shown} % au total ; elles doivent faire "
                          f"exactement 100 %.")


def split_amounts(price: Decimal, percents: list[Decimal]) -> list[Decimal]:
    """Each share's amount out of `price`, in cents summing to exactly `price` (largest remainder)."""
    if not percents:
        return []
    exact = [price * percent / HUNDRED for percent in percents]
    floors = [value.quantize(CENT, rounding=ROUND_DOWN) for value in exact]
    left = int((price - sum(floors, Decimal(0))) / CENT)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += CENT
    return floors
