"""The input layer: what no view should ever see, refused once with a French 400 naming the field.

- NUL bytes (PostgreSQL refuses `\\x00` in text) in the path, a query or form value or key, a file name;
- API JSON bodies too large, nested too deep (Python's parser would hit its recursion limit), or holding
  `NaN`, `Infinity` or a number out of float range (`1e999`), none of which JSON allows.
"""
from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, request

from .errors import DomainError, render_error

#: an API body is a list of at most 5 000 SIRETs (~100 KB): 1 MB is generous
MAX_JSON_BYTES = 1024 * 1024
#: our bodies are two levels deep; 32 leaves room and stays far below the recursion limit
MAX_JSON_DEPTH = 32


class InputError(DomainError):
    """A request value that cannot be read at all; `field` names it, `message` is French."""


def _nul_in(name: str, value: Any) -> str | None:
    if isinstance(value, str) and "\x00" in value:
        return name
    return None


def find_nul() -> str | None:
    """The name of the first request value holding a NUL byte (path, query, form, file name), if any."""
    if "\x00" in request.path:
        return "adresse"
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            if "\x00" in key:
                return key.replace("\x00", "")
            if (found := _nul_in(key, value)) is not None:
                return found
    for key, storage in request.files.items(multi=True):
        if "\x00" in key or "\x00" in (storage.filename or ""):
            return key.replace("\x00", "")
    return None


def _refuse_nul():
    field = find_nul()
    if field is not None:
        return render_error(400, f"Le champ « {field[:60]} » contient des caractères non autorisés (caractère "
                                 "nul \\0). Corrigez la saisie et réessayez.", parameter=field[:60])
    return None


def _depth_exceeds(data: bytes, limit: int) -> bool:
    """Bracket nesting of a JSON text, counted outside strings, before the recursive parser sees it."""
    depth, in_string, escaped = 0, False, False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _refuse_constant(name: str) -> Any:
    raise InputError(f"Nombre non autorisé dans le corps JSON : {name}.", "body")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"Nombre hors limites dans le corps JSON : {text[:30]}.", "body")
    return value


def parse_json(data: bytes, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of `data`, or InputError with a French message (never RecursionError, never NaN)."""
    if len(data) > max_bytes:
        raise InputError(f"Corps JSON trop volumineux : {max_bytes // 1024} Ko au plus.", "body")
    if _depth_exceeds(data, max_depth):
        raise InputError(f"Corps JSON trop imbriqué : {max_depth} niveaux au plus.", "body")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("Le corps de la requête doit être du JSON encodé en UTF-8.", "body") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except InputError:
        raise
    except (ValueError, RecursionError):
        raise InputError("Le corps de la requête n'est pas un JSON valide.", "body") from None


def request_json(max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The request body read as bounded JSON (at most `max_bytes` read from the stream)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise InputError(f"Corps JSON trop volumineux : {max_bytes // 1024} Ko au plus.", "body")
    return parse_json(request.get_data(cache=True)[: max_bytes + 1], max_bytes, max_depth)


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)

    @app.errorhandler(InputError)
    def input_error(error: InputError):
        return render_error(400, error.message)
