"""The points of the results map, as one compact JSON answer rather than thousands of inline points.

`GET /structures/carte.json` reads the same arguments as the search page (`search.query.parse_query`)
and answers every matching structure that has a point, one array per structure:

    {"fields": ["id", "lat", "lng", "kinds", "name", "city", "ident"], "count": 5301, "points": [[…], …]}

`kinds` is "ACI" or "ACI|EI", `ident` the SIRET (or the first FINESS) the profile's URL is built from,
coordinates are rounded to 5 decimals (about 1 m). The ids come from the search engine (Meilisearch, or
its SQL fallback), in the same order as the list; the few columns a point needs are then read in one SQL
query. Only what the public search finds is answered, so nothing the directory hides can appear here.
The answer is public and the same for everyone: gzip-compressed when the browser accepts it (the whole of
France, 5 301 points: 451 KB of JSON, 173 KB sent), cached by browsers and proxies for a few minutes,
with an ETag (a repeat visit costs a 304).
"""
from __future__ import annotations

import gzip
import json
from dataclasses import replace

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from ..extensions import db
from ..suppliers.models import Structure
from . import service
from .query import QueryError, parse_query

bp = Blueprint("search_map", __name__)

#: more than every structure of the directory (about 5 300 with a point): the whole of France fits
MAP_POINTS_LIMIT = 20_000
#: seconds a browser or proxy may reuse the answer (imports and profile edits show within this delay)
MAX_AGE_S = 300
#: smaller answers go as they are (compressing a few hundred bytes gains nothing)
GZIP_FROM_BYTES = 1024
FIELDS = ["id", "lat", "lng", "kinds", "name", "city", "ident"]


def map_points(ids: list[int]) -> list[list]:
    """The compact arrays of these structures, those without a point left out, in the order of `ids`."""
    if not ids:
        return []
    rows = db.session.execute(
        select(Structure.id, Structure.latitude, Structure.longitude, Structure.kinds, Structure.brand,
               Structure.name, Structure.city, Structure.siret, Structure.finess_numbers)
        .where(Structure.id.in_(ids), Structure.latitude.is_not(None), Structure.longitude.is_not(None)))
    by_id = {}
    for id_, lat, lng, kinds, brand, name, city, siret, finess in rows:
        ident = siret or (finess[0] if finess else None)
        if ident is None:  # no URL to link to (the import always sets one or the other)
            continue
        by_id[id_] = [id_, round(lat, 5), round(lng, 5), "|".join(kinds or []), brand or name, city or "", ident]
    return [by_id[id_] for id_ in ids if id_ in by_id]


@bp.get("/structures/carte.json")
def points():
    try:
        query = parse_query(request.args)
    except QueryError as error:
        return jsonify(error.as_json()), 400
    ids = service.search_all_ids(replace(query, page=1, facets=False), limit=MAP_POINTS_LIMIT)
    found = map_points(ids)
    body = json.dumps({"fields": FIELDS, "count": len(found), "points": found}, ensure_ascii=False,
                      separators=(",", ":"))
    response = Response(body, mimetype="application/json")
    if len(body) >= GZIP_FROM_BYTES and "gzip" in request.accept_encodings:
        # the names are most of the bytes and repeat a lot: 451 KB of France become 173 KB
        response.set_data(gzip.compress(response.get_data(), compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_S}"
    response.add_etag()
    return response.make_conditional(request)
