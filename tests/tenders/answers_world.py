"""People and objects of the structure-side tests: a buyer (Ville de Lille) with a published tender, two
structure organisations each owning a claimed profile (an ACI, an EA), and helpers to read the rows back."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marche.accounts.models import OrganisationKind, User
from marche.core.models import utcnow
from marche.extensions import db
from marche.suppliers.models import Structure
from marche.suppliers.services import refresh_derived
from marche.tenders.models import LotResponse, Tender, TenderQuestion

from .factories import organisation_of

BUYER = "acheteur@lille.example.fr"
INSERTION = "contact@jardins.example.fr"
ADAPTED = "contact@atelier.example.fr"
BUYER_COLLEAGUE = "collegue@lille.example.fr"
#: SIRETs of the profiles only (the check constraint wants 14 digits; no other test of this run uses them)
_SIRETS = iter(f"9{n:013d}" for n in range(100, 100_000))
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def owned_structure(organisation_id: int | None, name: str, kinds=("ACI",), publication: str = "published") -> int:
    """A claimed profile of the directory (Lille), owned by `organisation_id`. Inside an app context; commits."""
    structure = Structure(siret=next(_SIRETS), name=name, kinds=list(kinds), city="Lille", commune_code="59350",
                          department_code="59", region_code="32", latitude=50.6292, longitude=3.0573,
                          source="test", area_kind="radius", area_radius_km=30, area_refs=[],
                          owner_organisation_id=organisation_id,
                          claimed_at=utcnow() if organisation_id else None, publication=publication)
    db.session.add(structure)
    refresh_derived(structure)
    db.session.commit()
    return structure.id


@pytest.fixture
def people(app, make_user):
    with app.app_context():
        ids = {"buyer": make_user(BUYER, name="Ville de Lille"),
               "insertion": make_user(INSERTION, kind=OrganisationKind.INCLUSIVE_STRUCTURE,
                                      name="Jardins Solidaires SAS"),
               "adapted": make_user(ADAPTED, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Atelier Adapté SAS")}
        ids["org"] = organisation_of(ids["buyer"])
        ids["insertion_org"] = organisation_of(ids["insertion"])
        ids["adapted_org"] = organisation_of(ids["adapted"])
        ids["aci"] = owned_structure(ids["insertion_org"], "Les Jardins Solidaires", ("ACI",))
        ids["ea"] = owned_structure(ids["adapted_org"], "Atelier du Nord", ("EA",))
    return ids


def response_rows(tender_id: int) -> list[tuple]:
    """Every lot response of the tender, each column, in a stable order (to compare before and after)."""
    table = LotResponse.__table__
    lot_ids = [lot.id for lot in db.session.get(Tender, tender_id).lots]
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(
        select(table).where(table.c.lot_id.in_(lot_ids)).order_by(table.c.id))]


def question_rows(tender_id: int) -> list[tuple]:
    table = TenderQuestion.__table__
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(
        select(table).where(table.c.tender_id == tender_id).order_by(table.c.id))]


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def structure(structure_id: int) -> Structure:
    return db.session.get(Structure, structure_id)
