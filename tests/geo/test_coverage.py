"""Intervention areas: departments touched (shapely) and commune coverage (great-circle distance)."""
import math

from sqlalchemy import select

from marche.extensions import db
from marche.geo.coverage import Area, covers, touched
from marche.geo.models import Commune, Department


def haversine(lat1, lon1, lat2, lon2):
    """Written here independently of geo.services."""
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


LILLE = (50.6311, 3.0469)


def test_radius_covers_exactly_the_communes_within_distance(app_ctx):
    area = Area(kind="radius", radius_km=20, latitude=LILLE[0], longitude=LILLE[1], home_department="59")
    communes = db.session.execute(select(Commune.code, Commune.latitude, Commune.longitude)
                                  .where(Commune.department_code.in_(["59", "62"]))).all()
    checked = 0
    for code, lat, lon in communes[::7]:
        if lat is None:
            continue
        assert covers(area, code) == (haversine(LILLE[0], LILLE[1], lat, lon) <= 20), code
        checked += 1
    assert checked > 100


def test_radius_touches_neighbouring_departments(app_ctx):
    departments, regions = touched(Area(kind="radius", radius_km=30, latitude=LILLE[0], longitude=LILLE[1],
                                        home_department="59"))
    assert "59" in departments and "62" in departments  # Lens is about 30 km away
    assert "75" not in departments
    assert regions == ["32"]
    small, _ = touched(Area(kind="radius", radius_km=10, latitude=48.8589, longitude=2.347, home_department="75"))
    assert "75" in small and "13" not in small


def test_territory_sets_use_membership(app_ctx):
    area = Area(kind="territories", refs=("dep:93", "commune:59350", "reg:53"))
    assert covers(area, "93048")  # Montreuil, in 93
    assert covers(area, "59350")  # Lille itself
    assert not covers(area, "59009")  # Villeneuve-d'Ascq: same department as Lille, but not listed
    assert covers(area, "35238")  # Rennes, region 53 (Bretagne)
    departments, regions = touched(area)
    assert {"93", "59", "22", "29", "35", "56"} <= set(departments)
    assert {"11", "32", "53"} <= set(regions)


def test_country_covers_everything(app_ctx):
    departments, regions = touched(Area(kind="country"))
    assert len(departments) == db.session.scalar(select(db.func.count()).select_from(Department))
    assert covers(Area(kind="country"), "97411")
