"""« Ce fournisseur est-il inclusif ? »: one SIRET or SIREN, without an account; French errors beside the
field; the limit per address on both sides (the 20th question of the minute answered, the 21st refused)."""
from __future__ import annotations

import re

import pytest

from marche.extensions import limiter
from marche.suppliers.check import CheckInputError, check_one
from marche.suppliers.public_check import PUBLIC_CHECK_LIMIT
from tests.conftest import VALID_SIRETS, page_text

URL = "/ce-fournisseur-est-il-inclusif"
ACI = "75187049400026"
SECOND = "75187049400034"  # another establishment of the same SIREN


@pytest.fixture(autouse=True)
def _fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def directory(make_structure):
    make_structure(siret=ACI, name="La Collecterie", kinds=("ACI",))
    make_structure(siret=SECOND, name="La Collecterie Bagnolet", kinds=("ACI", "EI"))


def test_one_number_rules(app_ctx, directory):
    line = check_one(" 751 870 494 00026 ")
    assert line.status == "inclusive" and line.kinds == ["ACI"] and line.siret == ACI
    assert check_one("751.870.494").matched_sirets == [ACI, SECOND]
    assert check_one(VALID_SIRETS[0]).status == "not_inclusive"
    for value, words in [("", "Saisissez un numéro"), ("   ", "Saisissez un numéro"),
                         ("7518704940002A", "que des chiffres"), ("SIRET 75187049400026", "que des chiffres"),
                         ("75187049400027", "SIRET invalide (clé de contrôle)"),
                         ("7518704940", "10 chiffres reçus"), ("1" * 41, "40 caractères au plus"),
                         ("٣٣٣٣٣٣٣٣٣", "que des chiffres")]:
        with pytest.raises(CheckInputError, match=re.escape(words)) as error:
            check_one(value)
        assert error.value.field == "siret"
    forty = "  ".join(ACI)  # spaces between the digits: 40 characters, still one number; 41 refused
    assert len(forty) == 40 and check_one(forty).siret == ACI
    with pytest.raises(CheckInputError, match="40 caractères au plus"):
        check_one(forty.replace(" ", "   ", 1))


def test_page_answers_without_login(client, directory):
    page = client.get(URL)
    assert page.status_code == 200 and "Ce fournisseur est-il inclusif ?" in page_text(page)
    response = client.get(URL, query_string={"siret": "751 870 494 00026"})
    text = page_text(response)
    assert response.status_code == 200 and 'data-status="inclusive"' in text
    assert "Oui : La Collecterie est une structure inclusive" in text and "ACI (Atelier et chantier d'insertion)" in text
    assert f'href="/structures/{ACI}"' in text
    response = client.get(URL, query_string={"siret": "751870494"})
    text = page_text(response)
    assert f'href="/structures/{ACI}"' in text and f'href="/structures/{SECOND}"' in text
    assert "Établissements dans l'annuaire" in text
    response = client.get(URL, query_string={"siret": VALID_SIRETS[1]})
    text = page_text(response)
    assert 'data-status="not_inclusive"' in text and "Non trouvé" in text and "n'est pas dans l'annuaire" in text
    response = client.get(URL, query_string={"siret": "12A45"})
    text = page_text(response)
    assert response.status_code == 400 and "ne doit contenir que des chiffres" in text
    assert 'value="12A45"' in text and "fr-input-group--error" in text  # what was typed is kept


def test_linked_from_home_and_bulk_check(client):
    assert URL in client.get("/").get_data(as_text=True)


def test_limit_per_address_both_sides(client, directory):
    per_minute = int(PUBLIC_CHECK_LIMIT.split(" per minute")[0])
    assert per_minute == 20
    for _ in range(per_minute):
        assert client.get(URL, query_string={"siret": ACI}).status_code == 200
    # the form without a number is not counted, and stays open
    assert client.get(URL).status_code == 200
    refused = client.get(URL, query_string={"siret": ACI})
    assert refused.status_code == 429 and "Trop de tentatives" in page_text(refused)
    # another address is not held back by this one
    other = client.get(URL, query_string={"siret": ACI}, environ_base={"REMOTE_ADDR": "127.0.0.9"})
    assert other.status_code == 200
