"""Rules held by the structure models: a commitment counts up to and including its expiry day, the
size bands' edges, and what "claimed" and the displayed name mean."""
from datetime import date, timedelta

import pytest

from marche.suppliers.models import EnvCommitment, SizeBand, Structure

EXPIRY = date(2026, 6, 30)


@pytest.mark.parametrize("today, current", [
    (EXPIRY - timedelta(days=1), True),
    (EXPIRY, True),  # was: counting a commitment as expired on its expiry day went unnoticed
    (EXPIRY + timedelta(days=1), False),
])
def test_a_commitment_counts_through_its_expiry_day(today, current):
    assert EnvCommitment(label="iso14001", expires_on=EXPIRY).is_current(today) is current


def test_a_commitment_without_expiry_never_expires():
    assert EnvCommitment(label="iso14001", expires_on=None).is_current(date(2100, 1, 1)) is True


@pytest.mark.parametrize("employees, band", [
    (None, None), (0, SizeBand.MICRO), (9, SizeBand.MICRO), (10, SizeBand.SMALL), (49, SizeBand.SMALL),
    (50, SizeBand.MEDIUM), (249, SizeBand.MEDIUM), (250, SizeBand.LARGE), (10_000, SizeBand.LARGE),
])
def test_size_bands_edges(employees, band):
    assert SizeBand.of(employees) is band


def test_a_profile_is_claimed_once_an_organisation_manages_it():
    assert Structure(owner_organisation_id=None).claimed is False
    assert Structure(owner_organisation_id=7).claimed is True


def test_the_brand_is_shown_when_there_is_one():
    assert Structure(name="ASSOCIATION LE RELAIS", brand="Le Relais").display_name == "Le Relais"
    assert Structure(name="ASSOCIATION LE RELAIS", brand=None).display_name == "ASSOCIATION LE RELAIS"
