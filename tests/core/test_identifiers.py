"""SIRET / SIREN validation: Luhn, with La Poste's exception (DOMAIN.md §2)."""
from hypothesis import given, strategies as st

from marche.core.identifiers import LA_POSTE_SIREN, is_valid_siren, is_valid_siret, luhn_ok, normalize_digits


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
    siret = LA_POSTE_SIREN + "00018"  # 3+5+6+1+8 = 23 → not a multiple of 5
    assert not is_valid_siret(siret)
    siret = LA_POSTE_SIREN + "00004"  # 3+5+6+4 = 18 → no
    ok = next(LA_POSTE_SIREN + f"{nic:05d}" for nic in range(100) if sum(map(int, LA_POSTE_SIREN + f"{nic:05d}")) % 5 == 0)
    assert is_valid_siret(ok)
    assert not luhn_ok(ok) or sum(map(int, ok)) % 5 == 0


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
