"""Share arithmetic, against answers computed here: amounts sum to the price to the cent and each stays within a
cent of price × percent; percents are read as typed, refused outside [0, 100] or beyond two decimals."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from marche.core.errors import DomainError
from marche.groupings.shares import check_total, parse_percent, parse_price, split_amounts

cents = st.integers(min_value=1, max_value=99_999_999_999_999)  # 0,01 € … 999 999 999 999,99 €


@st.composite
def percents_summing_to_100(draw):
    """2 to 8 positive percents with two decimals, summing to exactly 100 (in hundredths: 10 000)."""
    n = draw(st.integers(min_value=1, max_value=8))
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=9_999), min_size=n - 1, max_size=n - 1,
                                unique=True)))
    bounds = [0, *cuts, 10_000]
    return [Decimal(b - a) / 100 for a, b in zip(bounds, bounds[1:])]


@given(cents, percents_summing_to_100())
def test_amounts_sum_to_the_price_and_each_is_within_a_cent(price_cents, percents):
    price = Decimal(price_cents) / 100
    amounts = split_amounts(price, percents)
    assert sum(amounts) == price
    for amount, percent in zip(amounts, percents):
        exact = Fraction(price_cents, 100) * Fraction(str(percent)) / 100
        assert abs(Fraction(str(amount)) - exact) < Fraction(1, 100)
        assert amount == amount.quantize(Decimal("0.01")) and amount >= 0


def test_the_left_over_cents_go_to_the_largest_remainders_first_on_ties():
    # 100,00 € in three thirds: 33,33 each, one cent left, all remainders equal: the first member takes it
    assert split_amounts(Decimal("100.00"), [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]) == [
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    # 0,05 € in 50/50: 0,025 each, one cent left over, to the first
    assert split_amounts(Decimal("0.05"), [Decimal("50"), Decimal("50")]) == [Decimal("0.03"), Decimal("0.02")]
    # the larger remainder wins over the order: 0,07 € at 30 / 70 → 0,021 and 0,049: the second takes the cent
    assert split_amounts(Decimal("0.07"), [Decimal("30"), Decimal("70")]) == [Decimal("0.02"), Decimal("0.05")]


@pytest.mark.parametrize("typed, expected", [
    ("50", Decimal("50.00")), ("33,33", Decimal("33.33")), (" 12,5 % ", Decimal("12.50")), ("100", Decimal("100.00")),
    ("0,01", Decimal("0.01")), ("", None), ("0", None), ("0,00", None), (None, None),
])
def test_percents_as_typed(typed, expected):
    assert parse_percent(typed, "Atelier") == expected


@pytest.mark.parametrize("typed, message", [
    ("100,01", "compris entre 0 et 100"), ("-0,01", "compris entre 0 et 100"), ("33,333", "deux décimales"),
    ("abc", "n'est pas un pourcentage"), ("1e3", "compris entre 0 et 100"), ("NaN", "compris entre 0 et 100"),
    ("Infinity", "compris entre 0 et 100"),
])
def test_percents_refused_name_the_member(typed, message):
    with pytest.raises(DomainError) as refused:
        parse_percent(typed, "Atelier du Nord")
    assert message in refused.value.message and "Atelier du Nord" in refused.value.message


def test_a_total_of_exactly_100_passes_and_one_hundredth_off_fails_either_side():
    check_total([Decimal("60.00"), Decimal("40.00")], "Lot 1")
    for parts, shown in (([Decimal("60.00"), Decimal("39.99")], "99,99"), ([Decimal("60.00"), Decimal("40.01")], "100,01"),
                         ([], "0")):
        with pytest.raises(DomainError) as refused:
            check_total(parts, "Lot 1")
        assert f"font {shown} % au total" in refused.value.message


@pytest.mark.parametrize("typed, expected", [("120 000,50", Decimal("120000.50")), ("0,01", Decimal("0.01")),
                                             ("999999999999,99", Decimal("999999999999.99")), ("", None)])
def test_prices_as_typed(typed, expected):
    assert parse_price(typed) == expected


@pytest.mark.parametrize("typed", ["0", "-5", "1000000000000", "12,345", "douze", "NaN"])
def test_prices_refused(typed):
    with pytest.raises(DomainError) as refused:
        parse_price(typed)
    assert refused.value.field == "price" and refused.value.message.startswith("Prix du groupement")
