"""How API v1 reads requests and describes itself, on flask-smorest (marshmallow schemas, apispec document).

- `ApiBlueprint`: routes whose parameters and bodies are read by the schemas of `api/schemas.py`; a bad value is
  a 400 in French naming the parameter (never marshmallow's English 422);
- request bodies are read by the bounded JSON parser of `core/input.py` (location `bounded_json`);
- `register(app, blueprint)`: flask-smorest's `Api` records the routes for the document (`api/openapi.py`).
"""
from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Flask, jsonify
from webargs.flaskparser import FlaskParser

from ..core.errors import render_error
from ..core.input import InputError, request_json
from ..search.query import QueryError
from . import schemas

TITLE = "Marché inclusif — API publique"
VERSION = "1.0.0"
DESCRIPTION = ("Annuaire des structures inclusives (SIAE, EA, EATT, ESAT, GEIQ), vérification de listes de "
               "fournisseurs, consultations publiées et leurs clauses sociales et environnementales, calculateur "
               "d'heures d'insertion et contrôle légal, référentiels (territoires, CPV, secteurs). Réponses JSON, "
               "messages en français ; un paramètre invalide répond 400 en se nommant.")


class ApiParser(FlaskParser):
    """webargs' Flask parser, with our bounded JSON reader and our French errors."""

    DEFAULT_VALIDATION_STATUS = 400
    __location_map__ = {**FlaskParser.__location_map__, "bounded_json": "load_bounded_json"}

    def load_bounded_json(self, req, schema) -> Any:
        try:
            return request_json()
        except InputError as error:
            raise schemas.BodyError(f"{error.message} {schemas.LOOKUP_EXPECTED}.") from None

    def parse(self, argmap, req=None, *, location=None, **kwargs):
        try:
            return super().parse(argmap, req, location=location, **kwargs)
        except QueryError as error:
            # the schema says how its endpoint titles a bad parameter
            error.title = getattr(argmap, "error_title", schemas.Parameters.error_title)
            raise

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        """A check that marshmallow made itself (our fields raise QueryError first): the first message, in a 400."""
        location, messages = next(iter(error.normalized_messages().items()))
        if location == "bounded_json":
            raise schemas.BodyError(f"{schemas.LOOKUP_EXPECTED} : {messages}"[:300])
        name, detail = next(iter(messages.items())) if isinstance(messages, dict) else (location, messages)
        detail = detail[0] if isinstance(detail, list) and detail else detail
        raise QueryError(str(name), f"« {name} » : valeur invalide ({detail}).")


class ApiBlueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "bounded_json": "application/json"}


class Api(flask_smorest.Api):
    """flask-smorest for the document and the parameters only: the site's French error pages stay in charge."""

    ERROR_SCHEMA = schemas.Error
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass


def parameter_error(error: QueryError):
    body: dict[str, Any] = {"error": getattr(error, "title", schemas.Parameters.error_title),
                            "parameter": error.param, "message": error.message}
    if error.allowed:
        body["allowed"] = error.allowed
    return jsonify(body), 400


def body_error(error: schemas.BodyError):
    return render_error(400, error.message)


def register(app: Flask, blueprint: ApiBlueprint) -> Api:
    """Register the API blueprint on `app` through flask-smorest (no documentation pages: the JSON is one route)."""
    api = Api(app, spec_kwargs={"title": TITLE, "version": VERSION, "openapi_version": "3.1.0",
                                "info": {"description": DESCRIPTION,
                                         "license": {"name": "Licence Ouverte 2.0", "identifier": "etalab-2.0"}},
                                "servers": [{"url": "/"}]})
    api.register_blueprint(blueprint)
    app.extensions["marche_api"] = api
    return api
