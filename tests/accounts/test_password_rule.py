"""The password rule is the one the hint states: 10 characters at least, letters and digits or symbols."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marche.accounts.forms import PASSWORD_HINT
from marche.accounts.services import check_password_strength
from marche.core.errors import DomainError


def expected_ok(password: str) -> bool:
    """The hint, read literally and computed here independently of the product."""
    letters = sum(c.isalpha() for c in password)
    return len(password) >= 10 and letters > 0 and letters < len(password)


@pytest.mark.parametrize("password, ok", [
    ("abcdefgh1", False),       # 9 characters: one short
    ("abcdefghi1", True),       # 10: the boundary
    ("abcdefghij", False),      # letters only
    ("1234567890", False),      # digits only
    ("----------", False),      # symbols only: no letter
    ("1234567890!", False),     # digits and symbols, no letter
    ("motdepasse!", True),      # letters and a symbol
    ("é-è-à-ù-ç-ô", True),      # accented letters count as letters
])
def test_boundaries(password, ok):
    if ok:
        check_password_strength(password)
    else:
        with pytest.raises(DomainError) as refused:
            check_password_strength(password)
        assert refused.value.field == "password"


@given(st.text(min_size=0, max_size=30))
def test_rule_matches_the_hint_for_any_text(password):
    try:
        check_password_strength(password)
        accepted = True
    except DomainError:
        accepted = False
    assert accepted == expected_ok(password)


def test_every_password_field_shows_the_hint(client):
    assert PASSWORD_HINT.replace("'", "&#39;") in client.get("/inscription").get_data(as_text=True)
