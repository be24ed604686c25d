"""Schemathesis over our OpenAPI document, in-process (WSGI): every operation, generated valid and
invalid requests, all checks (no 5xx, status codes, content types, headers and bodies conform to the
document, invalid data rejected, valid data accepted). Bounded by MAX_EXAMPLES per operation and
generation mode, so the whole run stays under a minute.

Schemathesis' pytest plugin does not run under pytest 9 (it reads a removed private attribute), so the
cases come from its Python API: one hypothesis strategy per operation and mode."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from marche.api.openapi import openapi_document

MAX_EXAMPLES = 30
DOCUMENT = openapi_document()["paths"]
OPERATIONS = [(method.upper(), path, mode) for path, item in DOCUMENT.items() for method, spec in item.items()
              for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
              # invalid requests come from query parameters and bodies (a path cannot carry a NUL byte)
              if mode == GenerationMode.POSITIVE or spec.get("requestBody")
              or any(parameter["in"] == "query" for parameter in spec.get("parameters", []))]
#: parameters whose value is well formed per the document but must also exist in the database
#: (a commune, a department, a sector, a CPV code): a 400 naming one of them is the right answer to valid-looking data
DATA_DEPENDENT = {"/api/v1/structures": {"territory", "near", "sector"},
                  # a whole CPV code must also be in the catalogue (its check digit is right)
                  "/api/v1/tenders": {"territory", "sector", "cpv"},
                  "/api/v1/market-depth": {"territory", "sector"},
                  # a structure id must name a published structure
                  "/api/v1/tenders/search": {"territory", "sector", "structure"}}


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.mark.parametrize("method, path, mode", OPERATIONS,
                         ids=[f"{m} {p} {'valides' if g == GenerationMode.POSITIVE else 'invalides'}"
                              for m, p, g in OPERATIONS])
def test_api_conforms_to_its_document(api_schema, method, path, mode):
    operation = api_schema[path][method]
    statuses = []
    excluded = [positive_data_acceptance] if path in DATA_DEPENDENT else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def run(case):
        response = case.call_and_validate(excluded_checks=excluded)
        statuses.append(response.status_code)
        assert response.status_code < 500
        if excluded and mode == GenerationMode.POSITIVE and response.status_code == 400:
            body = response.json()
            query = case.query or {}
            if body["parameter"] == "sort":
                # a documented dependency between parameters: sorting by distance needs « near »
                assert query.get("sort") == "distance" and not query.get("near"), body
                return
            # otherwise the one way valid-looking data may be refused: it names something that does not exist
            assert body["parameter"] in DATA_DEPENDENT[path], body
            assert "inconnu" in body["message"].lower(), body

    run()
    assert statuses and max(statuses) < 500
