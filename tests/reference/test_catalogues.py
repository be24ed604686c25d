"""Sector taxonomy, CPV 2008 and NAF: loading, check digit, ancestors, search and the JSON endpoints."""
from __future__ import annotations

import csv
import time

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import func, select

from marche import create_app
from marche.cli import DATA_DIR
from marche.extensions import db
from marche.reference.loader import load_catalogues
from marche.reference.models import CpvCode, NafCode, Sector, SectorGroup
from marche.reference.services import (
    cpv_ancestors, cpv_check_digit, is_valid_cpv, search_cpv, sectors_by_group,
)
from tests.conftest import load_factor


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _cpv_file() -> list[dict[str, str]]:
    with (DATA_DIR / "cpv_2008.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- loading ----------------------------------------------------------------------------------

def test_counts(app_ctx):
    assert _count(SectorGroup) == 20
    assert _count(Sector) == 154
    assert _count(CpvCode) == 9454
    assert _count(NafCode) == 732


def test_reload_is_skipped_then_forced(app_ctx):
    assert load_catalogues(DATA_DIR) == {"groupes de secteurs": 0, "secteurs": 0, "cpv": 0, "naf": 0}
    started = time.perf_counter()
    counts = load_catalogues(DATA_DIR, force=True)
    db.session.flush()
    assert time.perf_counter() - started < 5 * load_factor()
    assert counts == {"groupes de secteurs": 20, "secteurs": 154, "cpv": 9454, "naf": 732}
    assert _count(CpvCode) == 9454
    db.session.rollback()


def test_loaded_values(app_ctx):
    works = db.session.get(CpvCode, "45000000-7")
    assert works.level == "division" and works.nature == "travaux" and works.parent_code is None
    assert works.search_label == "45000000 travaux de construction"
    cleaning = db.session.get(NafCode, "81.21Z")
    assert cleaning.code_ape == "8121Z" and cleaning.section_code == "N"


# --- CPV check digit --------------------------------------------------------------------------

#: the 2008 revision renumbered these codes without recomputing their check digit (see cpv_check_digit)
LEGACY_CHECK_DIGITS = 532


def test_check_digit_over_every_official_code():
    rows = _cpv_file()
    assert len(rows) == 9454
    mismatches = [row["code"] for row in rows if cpv_check_digit(row["code8"]) != row["code"][-1]]
    assert len(mismatches) == LEGACY_CHECK_DIGITS
    # whole renumbered branches carry legacy digits, e.g. the one the Commission was asked about
    assert "03300000-2" in mismatches and cpv_check_digit("03300000") == "4"
    assert sum(code.startswith("421") for code in mismatches) == 164


@pytest.mark.parametrize("code", ["03113100-7", "03113200-8", "18451000-5", "18453000-9", "71355000-1",
                                  "71355200-3", "45000000-7", "90910000-9"])
def test_check_digit_of_published_examples(code):
    assert cpv_check_digit(code[:8]) == code[-1]


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_check_digit_is_total_over_eight_digits(code8):
    digit = cpv_check_digit(code8)
    assert len(digit) == 1 and digit.isdigit()
    # a single wrong digit is always caught: weights 3, 7 and 1 are prime to 10
    changed = code8[:4] + str((int(code8[4]) + 1) % 10) + code8[5:]
    assert cpv_check_digit(changed) != digit


@pytest.mark.parametrize("bad", ["", "1234567", "123456789", "1234567a", "١٢٣٤٥٦٧٨"])
def test_check_digit_refuses_malformed_codes(bad):
    with pytest.raises(ValueError):
        cpv_check_digit(bad)


def test_is_valid_cpv(app_ctx):
    assert is_valid_cpv("45000000-7")
    assert is_valid_cpv(" 03300000-2 ")  # official, legacy check digit
    assert not is_valid_cpv("03300000-4")  # computed digit, but not the published code
    assert not is_valid_cpv("45000000-8")
    assert not is_valid_cpv("45000000")
    assert not is_valid_cpv("99999999-9")
    assert not is_valid_cpv("")


def test_cpv_ancestors(app_ctx):
    chain = [code.code for code in cpv_ancestors("45211100-0")]
    assert chain == ["45000000-7", "45200000-9", "45210000-2", "45211000-9"]
    assert cpv_ancestors("45000000-7") == []
    assert cpv_ancestors("nothing") == []


# --- CPV search -------------------------------------------------------------------------------

def test_search_cpv_by_code(app_ctx):
    assert [code.code for code in search_cpv("45210000-2")] == ["45210000-2"]
    assert [code.code for code in search_cpv("4521", limit=3)] == ["45210000-2", "45211000-9", "45211100-0"]


def test_search_cpv_by_words(app_ctx):
    assert search_cpv("travaux de peinture")[0].code == "45442100-8"
    labels = [code.label_fr for code in search_cpv("nettoyage bureaux")]
    assert "Services de nettoyage de bureaux" in labels
    assert search_cpv("NETTOYAGE DE BUREAUX")[0].label_fr == "Services de nettoyage de bureaux"
    assert search_cpv("matériel informatique")[0].code == "30230000-0"


def test_search_cpv_tolerates_typos_and_empty(app_ctx):
    assert "90919200-4" in [code.code for code in search_cpv("netoyage bureaux")]
    assert search_cpv("") == search_cpv("  ") == []
    assert len(search_cpv("services", limit=4)) == 4


# --- sectors ----------------------------------------------------------------------------------

def test_sectors_by_group(app_ctx):
    groups = sectors_by_group()
    assert len(groups) == 20 and sum(len(sectors) for _, sectors in groups) == 154
    for group, sectors in groups:
        assert all(sector.group_id == group.id for sector in sectors)
        assert sectors[-1].name.startswith("Autre")  # each group's "Autre (…)" sector comes last


# --- JSON endpoints (the blueprint is registered here in case the factory does not yet) ------

@pytest.fixture(scope="module")
def reference_client(app_config):
    return create_app(app_config).test_client()


def test_api_cpv(reference_client):
    response = reference_client.get("/api/v1/cpv?q=peinture&limit=2")
    assert response.status_code == 200
    results = response.json["results"]
    assert len(results) == 2 and set(results[0]) == {"code", "label", "nature"}
    assert reference_client.get("/api/v1/cpv?q=45000000").json["results"] == [
        {"code": "45000000-7", "label": "Travaux de construction", "nature": "travaux"}]
    assert reference_client.get("/api/v1/cpv?q=peinture&limit=x").status_code == 400


def test_api_sectors(reference_client):
    groups = reference_client.get("/api/v1/sectors").json["groups"]
    assert len(groups) == 20
    assert set(groups[0]) == {"id", "name", "slug", "sectors"}
    assert sum(len(group["sectors"]) for group in groups) == 154
