"""« Can work at » a commune for a radius area, on both sides of the radius, in both backends: the SQL
fallback's cheap latitude test (search.structures) never drops a structure the distance keeps.

Two structures due north of Montreuil's centre with a 10 km radius, 9.95 km and 10.05 km away as
computed here (tests.search.directory.haversine), not by the search code.
"""
from __future__ import annotations

import math

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


def _box_bounds(clause: str) -> tuple[float, float, float, float]:
    """(top, right, bottom, left) of a `_geoBoundingBox([top, right], [bottom, left])` filter."""
    numbers = [float(n) for n in clause.removeprefix("_geoBoundingBox(").replace("[", "").replace("]", "")
               .rstrip(")").split(",")]
    return numbers[0], numbers[1], numbers[2], numbers[3]


def test_the_box_before_each_distance_never_cuts_a_point_within_it():
    """Meilisearch's coverage and `near` filters put a box before each distance (search.structures): a
    point 1 m inside the radius, in any direction and at any latitude of France and its overseas
    communes, is inside the box (from the great-circle destination, computed here)."""
    from marche.search.structures import _near_clauses

    earth_km = 6371.0088
    for latitude, longitude in ((51.08, 2.52), (48.85, 2.35), (42.33, 9.45), (-21.11, 55.53), (16.25, -61.58),
                                (4.93, -52.33), (-12.78, 45.23), (46.78, -56.17)):
        for radius in (10, 20, 30, 50, 100, 200, 500):
            box, distance = _near_clauses((latitude, longitude), radius)
            assert distance == f"_geoRadius({latitude}, {longitude}, {radius * 1000})"
            top, right, bottom, left = _box_bounds(box)
            angle = (radius - 0.001) / earth_km
            lat1, lon1 = math.radians(latitude), math.radians(longitude)
            for degrees in range(0, 360, 3):
                bearing = math.radians(degrees)
                lat2 = math.asin(math.sin(lat1) * math.cos(angle) + math.cos(lat1) * math.sin(angle) * math.cos(bearing))
                lon2 = lon1 + math.atan2(math.sin(bearing) * math.sin(angle) * math.cos(lat1),
                                         math.cos(angle) - math.sin(lat1) * math.sin(lat2))
                point = (math.degrees(lat2), math.degrees(lon2))
                assert haversine(latitude, longitude, *point) <= radius
                assert bottom < point[0] < top and left < point[1] < right, (latitude, radius, degrees)


def test_no_box_across_the_antimeridian_or_near_a_pole():
    """Where a box would be wrong, the distance alone decides."""
    from marche.search.structures import _near_clauses

    assert _near_clauses((-14.3, -178.9), 200) == ["_geoRadius(-14.3, -178.9, 200000)"]
    assert _near_clauses((84.0, 10.0), 200) == ["_geoRadius(84.0, 10.0, 200000)"]
