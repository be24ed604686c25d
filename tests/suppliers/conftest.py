"""Fixtures for structure tests: a structure made through the services, linked to an organisation."""
import pytest

from marche.extensions import db
from marche.suppliers.models import Structure
from marche.suppliers.services import refresh_derived


@pytest.fixture
def make_structure(app):
    def factory(siret="75187049400026", name="La Collecterie", kinds=("ACI",), commune="93048", department="93",
                region="11", lat=48.865024, lon=2.455023, **fields):
        with app.app_context():
            structure = Structure(siret=siret, siren=siret[:9] if siret else None, name=name, kinds=list(kinds), city="Montreuil",
                                  commune_code=commune, department_code=department, region_code=region,
                                  latitude=lat, longitude=lon, source="test",
                                  area_kind=fields.pop("area_kind", "radius"),
                                  area_radius_km=fields.pop("area_radius_km", 30), area_refs=[], **fields)
            db.session.add(structure)
            refresh_derived(structure)
            db.session.commit()
            structure_id = structure.id
            db.session.remove()
        return structure_id

    return factory
