"""SIRET / SIREN validation: Luhn, with La Poste's exception (DOMAIN.md §2)."""
from hypothesis import given, strategies as st

import pytest

from marche.core.identifiers import (LA_POSTE_SIREN, is_digits, is_valid_finess, is_valid_siren, is_valid_siret,
                                     luhn_ok, normalize_digits, parse_int)


def luhn_reference(number: str) -> bool:
    """Textbook Luhn, written independently of the code under test."""
    digits = [int(c) for c in number][::-1]
    doubled = [d if i % 2 == 0 else sum(divmod(d * 2, 10)) for i, d in enumerate(digits)]
    return sum(doubled) % 10 == 0


def test_real_sirets():
    assert is_valid_siret("75187049400026")  # La Collecterie, from data/structures_siae_geiq_ea.csv
    assert is_valid_siret("80746931700018")
    assert not is_valid_siret("80746931700019")
    assert not is_valid_siret("12345678901234")
    assert is_valid_siren("807469317")


def test_la_poste_uses_sum_multiple_of_five():
    def sum_ok(number):
        return sum(map(int, number)) % 5 == 0

    candidates = [LA_POSTE_SIREN + f"{nic:05d}" for nic in range(1000)]
    # the exception matters only where the two rules disagree: take one of each kind
    by_sum_only = next(c for c in candidates if sum_ok(c) and not luhn_reference(c))
    by_luhn_only = next(c for c in candidates if luhn_reference(c) and not sum_ok(c))
    assert is_valid_siret(by_sum_only)
    assert not is_valid_siret(by_luhn_only)
    assert not is_valid_siret(LA_POSTE_SIREN + "00018")  # 3+5+6+1+8 = 23: not a multiple of 5


def test_format_errors():
    for bad in ["", "7518704940002", "751870494000260", "7518704940002A", " 75187049400026"]:
        assert not is_valid_siret(bad)
    assert normalize_digits("751 870 494 00026") == "75187049400026"
    assert normalize_digits("751.870.494-00026") == "75187049400026"


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_siret_matches_reference_luhn(number):
    expected = (sum(map(int, number)) % 5 == 0) if number.startswith(LA_POSTE_SIREN) else luhn_reference(number)
    assert is_valid_siret(number) == expected


@given(st.text(max_size=20))
def test_never_raises(value):
    assert is_valid_siret(value) in (True, False)


@pytest.mark.parametrize("value, expected", [
    ("0", True), ("0123456789", True), ("", False), (None, False), ("²", False), ("３", False), ("٣", False),
    ("12a", False), (" 12", False),
])
def test_digits_are_ascii_digits_only(value, expected):
    assert is_digits(value) is expected


@pytest.mark.parametrize("value, expected", [
    ("42", 42), ("+7", 7), ("-7", -7), (" 12 ", 12), ("9" * 18, int("9" * 18)), ("-" + "9" * 18, -int("9" * 18)),
    ("9" * 19, None), ("1_000", None), ("1e3", None), ("３", None), ("NaN", None), ("1 2", None), ("", None),
    (None, None), ("+", None),
])
def test_parse_int_takes_ascii_integers_of_at_most_18_digits(value, expected):
    assert parse_int(value) == expected


def test_normalize_digits_drops_what_people_type_between_digits():
    assert normalize_digits("751\u00a0870\u202f494 00026") == "75187049400026"
    assert normalize_digits(None) == ""


def test_luhn_needs_digits():
    assert luhn_ok("") is False and luhn_ok("0") is True and luhn_ok("18") is True and luhn_ok("19") is False


def test_lengths_are_exact_even_when_luhn_holds():
    # a leading zero keeps the Luhn sum: only the length tells these apart
    assert luhn_reference("0807469317") and not is_valid_siren("0807469317")
    assert luhn_reference("075187049400026") and not is_valid_siret("075187049400026")
    assert not is_valid_siren("80746931") and not is_valid_siren("80746931A")
    assert not is_valid_siren("807469318")


@pytest.mark.parametrize("value, expected", [
    ("590000013", True), ("2A0000012", True), ("2B0000012", True), ("2C0000012", False), ("59000001", False),
    ("5900000130", False), ("59000001A", False), ("", False), (None, False),
])
def test_finess_format(value, expected):
    assert is_valid_finess(value) is expected
