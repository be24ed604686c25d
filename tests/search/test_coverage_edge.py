"""« Can work at » a commune for a radius area, on both sides of the radius, in both backends: the SQL
fallback's cheap latitude test (search.structures) never drops a structure the distance keeps.

Two structures due north of Montreuil's centre with a 10 km radius, 9.95 km and 10.05 km away as
computed here (tests.search.directory.haversine), not by the search code.
"""
from __future__ import annotations

from marche.extensions import db
from marche.geo.models import Commune
from marche.search import meili_backend, sql_backend
from marche.search.indexer import reindex_all
from marche.search.query import StructureQuery
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)

from .directory import haversine

KM_PER_DEGREE_OF_LATITUDE = 6371.0088 * 3.141592653589793 / 180


def test_radius_edge_due_north_in_both_backends(app_ctx, make_structure):
    centre = db.session.get(Commune, "93048")
    made = {}
    for km, siret in ((9.95, "75187049400026"), (10.05, "75187049400034")):
        lat = centre.latitude + km / KM_PER_DEGREE_OF_LATITUDE
        distance = haversine(centre.latitude, centre.longitude, lat, centre.longitude)
        made[make_structure(siret=siret, name=f"Rayon {km}", lat=lat, lon=centre.longitude,
                            area_radius_km=10)] = distance
    db.session.remove()
    reindex_all()
    inside = {i for i, distance in made.items() if distance <= 10}
    assert len(inside) == 1 and len(made) == 2
    query = StructureQuery(territory="commune:93048", per_page=100)
    for backend in (meili_backend, sql_backend):
        assert set(backend.search_ids(query, 100)) == inside, backend.__name__
        assert backend.search(query).count == 1, backend.__name__
