"""The one coverage rule: geo looks the commune up once and states "covers" as data that Python, the
Meilisearch filter and the SQL fallback all read; answers are checked against sums written here."""
from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from marche.extensions import db
from marche.geo.coverage import (
    AREA_RADII, Area, CoversCommune, Place, TouchesTerritory, coverage_of, covers, place,
)
from marche.geo.models import Commune
from marche.geo.services import TerritoryError


def haversine(lat1, lon1, lat2, lon2):
    """Written here independently of geo.services."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def test_place_is_the_commune_lookup(app_ctx):
    lille = place("59350")
    row = db.session.execute(select(Commune).where(Commune.code == "59350")).scalar_one()
    assert (lille.code, lille.department, lille.region) == ("59350", "59", "32")
    assert lille.point == (row.latitude, row.longitude)
    assert lille.refs == ("commune:59350", "dep:59", "reg:32", "country:FR")
    assert place("2a004").code == "2A004"
    with pytest.raises(TerritoryError):
        place("99999")
    assert place("15031").point is None  # one of the communes without a known centre


def test_coverage_of_names_the_rule_for_each_level(app_ctx):
    assert coverage_of("commune:93048") == CoversCommune(place("93048"))
    assert coverage_of("dep:59") == TouchesTerritory("dep", "59")
    assert coverage_of("reg:11") == TouchesTerritory("reg", "11")
    with pytest.raises(TerritoryError):
        coverage_of("country:FR")


def test_commune_rule_three_ways_to_cover(app_ctx):
    montreuil = place("93048")
    rule = CoversCommune(montreuil)
    assert rule.holds(Area(kind="country"))
    for refs in (("commune:93048",), ("dep:93",), ("reg:11",), ("country:FR",)):
        assert rule.holds(Area(kind="territories", refs=refs)), refs
    assert not rule.holds(Area(kind="territories", refs=("dep:94", "commune:93001")))
    paris = (48.8589, 2.347)
    distance = haversine(*paris, *montreuil.point)
    for radius in AREA_RADII:
        assert rule.holds(Area(kind="radius", radius_km=radius, latitude=paris[0], longitude=paris[1])) \
            == (distance <= radius), radius
    # a radius that is not one of the choices covers nothing: the search engines could not filter it exactly
    assert not rule.holds(Area(kind="radius", radius_km=15, latitude=paris[0], longitude=paris[1]))
    assert not CoversCommune(place("15031")).holds(Area(kind="radius", radius_km=200, latitude=45.0, longitude=2.6))


def test_covers_is_the_rule_for_a_commune(app_ctx):
    area = Area(kind="radius", radius_km=30, latitude=50.6311, longitude=3.0469, home_department="59")
    communes = db.session.execute(select(Commune.code).where(Commune.department_code == "62")
                                  .order_by(Commune.code)).scalars().all()[::40]
    assert communes
    for code in communes:
        assert covers(area, code) == CoversCommune(place(code)).holds(area)


def test_touches_reads_the_departments_an_area_touches(app_ctx):
    lille_30 = Area(kind="radius", radius_km=30, latitude=50.6311, longitude=3.0469, home_department="59")
    assert TouchesTerritory("dep", "62").holds(lille_30)
    assert TouchesTerritory("reg", "32").holds(lille_30)
    assert not TouchesTerritory("dep", "75").holds(lille_30)


def test_place_is_frozen_reference_data():
    made = Place("00000", "00", "00", 1.0, 2.0)
    assert made.point == (1.0, 2.0) and made.refs[0] == "commune:00000"
