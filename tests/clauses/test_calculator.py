"""The hours calculator: DOMAIN's examples, the rounding rule, zero cases, monotony (hypothesis), French errors."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marche.clauses import calculator, rules
from marche.clauses.calculator import CalculatorError, insertion_hours

NNBSP = "\u202f"
amounts = st.decimals(min_value=0, max_value=50_000_000, places=2)
shares = st.decimals(min_value=0, max_value=1, places=4)
costs = st.decimals(min_value=Decimal("0.01"), max_value=200, places=2)


def expected_hours(amount, labour, rate, cost) -> Decimal:
    """The formula, written again here: half up to the whole hour."""
    return (Decimal(amount) * Decimal(labour) * Decimal(rate) / Decimal(cost)).quantize(Decimal(1), ROUND_HALF_UP)


def test_domain_example_833_hours_and_its_formula():
    result = insertion_hours(1_000_000, "0.5", "0.05", 30)
    assert result.hours == 833  # 1 000 000 × 0.5 × 0.05 / 30 = 833.33
    assert result.formula.replace(NNBSP, " ") == "1 000 000 € × 50 % × 5 % ÷ 30 €/h = 833 h"
    assert result.etp == Decimal("0.52")  # 833 / 1 607 = 0.5183…


def test_pas_de_calais_362000_hours_are_about_225_etp():
    assert calculator.etp(Decimal(362_000)) == Decimal("225.26")  # 362 000 / 1 607 = 225.264…
    assert rules.ETP_HOURS.value == 1607


@pytest.mark.parametrize("amount, labour, rate, cost, hours", [
    # 15 × 1 × 1 / 30 = 0.5 exactly: half goes up
    (15, 1, 1, 30, 1),
    # 14.99 / 30 = 0.4997: down
    ("14.99", 1, 1, 30, 0),
    # 45 / 30 = 1.5 → 2; 44.99 / 30 = 1.4997 → 1
    (45, 1, 1, 30, 2), ("44.99", 1, 1, 30, 1),
    # 0.1 + 0.2 territory: decimal strings, no float drift (0.3 × 100 / 0.3 = 100 exactly)
    (100, "0.3", 1, "0.3", 100),
])
def test_rounding_half_up_to_the_whole_hour(amount, labour, rate, cost, hours):
    assert insertion_hours(amount, labour, rate, cost).hours == hours


@pytest.mark.parametrize("zero", ["amount", "labour", "rate"])
def test_any_zero_factor_gives_zero_hours(zero):
    values = {"amount": 1_000_000, "labour": "0.5", "rate": "0.05"}
    values[zero] = 0
    result = insertion_hours(values["amount"], values["labour"], values["rate"], 30)
    assert result.hours == 0 and result.etp == 0


@settings(max_examples=200, deadline=None)
@given(amounts, shares, shares, costs)
def test_hours_match_the_formula(amount, labour, rate, cost):
    result = insertion_hours(amount, labour, rate, cost)
    assert result.hours == expected_hours(amount, labour, rate, cost)
    assert result.etp == (result.hours / Decimal(1607)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@settings(max_examples=200, deadline=None)
@given(amounts, amounts, shares, shares, costs)
def test_monotonic_in_the_amount(a, b, labour, rate, cost):
    low, high = sorted((a, b))
    assert insertion_hours(low, labour, rate, cost).hours <= insertion_hours(high, labour, rate, cost).hours


@settings(max_examples=200, deadline=None)
@given(amounts, shares, shares, shares, costs)
def test_monotonic_in_each_share(amount, a, b, other, cost):
    low, high = sorted((a, b))
    assert insertion_hours(amount, low, other, cost).hours <= insertion_hours(amount, high, other, cost).hours
    assert insertion_hours(amount, other, low, cost).hours <= insertion_hours(amount, other, high, cost).hours


@settings(max_examples=200, deadline=None)
@given(amounts, shares, shares, costs, costs)
def test_decreasing_in_the_hourly_cost(amount, labour, rate, a, b):
    low, high = sorted((a, b))
    assert insertion_hours(amount, labour, rate, high).hours <= insertion_hours(amount, labour, rate, low).hours


@pytest.mark.parametrize("args, field, words", [
    ((-1, "0.5", "0.05", 30), "amount", "négatif"),
    (("-0.01", "0.5", "0.05", 30), "amount", "négatif"),
    ((1000, "1.0001", "0.05", 30), "labour_share", "entre 0 et 1"),
    ((1000, "-0.0001", "0.05", 30), "labour_share", "entre 0 et 1"),
    ((1000, "0.5", "1.01", 30), "insertion_rate", "entre 0 et 1"),
    ((1000, "0.5", "-0.05", 30), "insertion_rate", "entre 0 et 1"),
    ((1000, "0.5", "0.05", 0), "hourly_cost", "supérieur à 0"),
    ((1000, "0.5", "0.05", "-3"), "hourly_cost", "supérieur à 0"),
    ((1000, "0.5", "0.05", "0.009"), "hourly_cost", "0,01"),
    ((1000, "0.5", "0.05", "10000.01"), "hourly_cost", "10\u202f000"),
    ((1000, "abc", "0.05", 30), "labour_share", "nombre attendu"),
    ((1000, "NaN", "0.05", 30), "labour_share", "nombre attendu"),
    ((1000, "0.5", "Infinity", 30), "insertion_rate", "nombre attendu"),
    (("10000000000.01", "0.5", "0.05", 30), "amount", "vérifiez"),
])
def test_out_of_range_inputs_are_refused_in_french(args, field, words):
    with pytest.raises(CalculatorError) as caught:
        insertion_hours(*args)
    assert caught.value.field == field and words in caught.value.message


def test_edges_of_the_ranges_are_accepted():
    assert insertion_hours(0, 0, 0, "0.01").hours == 0
    assert insertion_hours(10_000_000_000, 1, 1, "0.01").hours == Decimal(10**12)
    assert insertion_hours(1000, 1, 1, 10_000).hours == 0  # 0.1 h


def test_french_comma_is_read():
    assert insertion_hours("1 000 000", "0,5", "0,05", "30").hours == 833


def test_defaults_come_with_their_source():
    works = rules.calculator_defaults("works")
    assert works.labour_share.value == Decimal("0.5") and works.hourly_cost.value == 30
    assert "ANRU" in works.insertion_rate.source
    cleaning = rules.calculator_defaults("services", "hygiene-et-proprete-64")
    assert cleaning.insertion_rate.value == Decimal("0.10")
    assert rules.calculator_defaults("supplies", "unknown-group") == rules.DEFAULTS_BY_NATURE["supplies"]


def test_a_result_cannot_be_changed_after_the_fact():
    import dataclasses

    result = insertion_hours(1000, 1, 1, 10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.hours = Decimal(1)


def test_a_bad_value_is_echoed_on_30_characters_at_most():
    with pytest.raises(CalculatorError) as text:
        insertion_hours(1000, "x" * 40, "0.05", 30)
    assert f"« {'x' * 30} »" in text.value.message
    with pytest.raises(CalculatorError) as nan:
        insertion_hours(1000, "0.5", "NaN" + "1" * 40, 30)  # a NaN with a payload: not a number either
    assert f"« NaN{'1' * 27} »" in nan.value.message


def test_amounts_and_costs_with_cents_show_two_decimals():
    formula = insertion_hours("1000.5", "0.5", "0.125", "30.5").formula.replace(NNBSP, " ")
    assert formula == "1 000,50 € × 50 % × 12,5 % ÷ 30,50 €/h = 2 h"  # 62.53 / 30.5 = 2.05
