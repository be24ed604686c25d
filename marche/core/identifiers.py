"""French business identifiers: SIRET / SIREN (Luhn, with the La Poste exception)."""
from __future__ import annotations

import re

LA_POSTE_SIREN = "356000000"
_NON_DIGITS = re.compile(r"[\s.\-\u00a0\u202f]")


def normalize_digits(value: str | None) -> str:
    """Drop the spaces, dots and dashes people type inside identifiers."""
    return _NON_DIGITS.sub("", value or "")


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def is_valid_siren(value: str) -> bool:
    return len(value) == 9 and value.isdigit() and luhn_ok(value)


def is_valid_siret(value: str) -> bool:
    """14 digits and the Luhn check; La Poste's establishments (SIREN 356000000) use
    "the sum of the digits is a multiple of 5" instead (DOMAIN.md §2)."""
    if len(value) != 14 or not value.isdigit():
        return False
    if value.startswith(LA_POSTE_SIREN):
        return sum(int(c) for c in value) % 5 == 0
    return luhn_ok(value)
