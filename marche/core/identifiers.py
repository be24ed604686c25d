"""French business identifiers: SIRET / SIREN (Luhn, with the La Poste exception), FINESS (format).

Digits are ASCII digits only: Python's `str.isdigit()` and `int()` also accept « ² », Arabic-Indic
« ٣ » or full-width « ３ », which no register issues and which would reach the database as they are.
"""
from __future__ import annotations

import re

LA_POSTE_SIREN = "356000000"
_NON_DIGITS = re.compile(r"[\s.\-\u00a0\u202f]")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")
#: a FINESS establishment number: its department (2 digits, 2A or 2B), then 7 digits
_FINESS = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{7}")


def is_digits(value: str | None) -> bool:
    """Only ASCII 0-9, at least one (`"²".isdigit()` is True, this is not)."""
    return bool(value) and _ASCII_DIGITS.fullmatch(value) is not None


def parse_int(value: str | None) -> int | None:
    """An integer written with ASCII digits and an optional sign; None for anything else
    (« ３ », « 1_000 », « 1e3 », « NaN », « ² » and blanks inside are all refused)."""
    text = (value or "").strip()
    if len(text.lstrip("+-")) > 18 or _ASCII_INTEGER.fullmatch(text) is None:
        return None
    return int(text)


def normalize_digits(value: str | None) -> str:
    """Drop the spaces, dots and dashes people type inside identifiers."""
    return _NON_DIGITS.sub("", value or "")


def luhn_ok(digits: str) -> bool:
    if not is_digits(digits):
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def is_valid_siren(value: str) -> bool:
    return len(value) == 9 and is_digits(value) and luhn_ok(value)


def is_valid_siret(value: str) -> bool:
    """14 digits and the Luhn check; La Poste's establishments (SIREN 356000000) use
    "the sum of the digits is a multiple of 5" instead (DOMAIN.md §2)."""
    if len(value) != 14 or not is_digits(value):
        return False
    if value.startswith(LA_POSTE_SIREN):
        return sum(ord(c) - 48 for c in value) % 5 == 0
    return luhn_ok(value)


def is_valid_finess(value: str) -> bool:
    """The FINESS format only: 1 499 of the 1 504 ESAT numbers also pass Luhn, but Corsica's (2A, 2B) and
    a few others do not, so the key is not checked."""
    return _FINESS.fullmatch(value or "") is not None
