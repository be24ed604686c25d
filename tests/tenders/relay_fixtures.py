"""A small world for the relay and funnel tests: a Lille buyer, claimed structures around Lille in one sector (the
tender's), and the ones that must not match (another sector, unclaimed, far away), indexed in Meilisearch.

Who matches is decided here, by construction, not by asking the matching code: same sector as the tender, a
30 km radius around Lille (the tender's place), and an owner organisation."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from marche.accounts.models import Membership, OrganisationKind, User
from marche.extensions import db
from marche.reference.models import Sector
from marche.search.structures import index_structures
from marche.suppliers.models import Structure
from marche.suppliers.services import refresh_derived
from marche.tenders import workflow
from marche.tenders.models import Tender, TenderStatus
from tests.tenders.factories import make_tender, organisation_of

LILLE = dict(commune_code="59350", department_code="59", region_code="32", latitude=50.6319, longitude=3.0575,
             city="Lille")
MARSEILLE = dict(commune_code="13055", department_code="13", region_code="93", latitude=43.2965, longitude=5.3698,
                 city="Marseille")


@dataclass
class World:
    buyer: int
    buyer_org: int
    sector_id: int
    other_sector_id: int
    #: name -> structure id
    structures: dict[str, int] = field(default_factory=dict)
    #: name -> the addresses of its organisation's members
    members: dict[str, list[str]] = field(default_factory=dict)
    #: the names that must match the tender (claimed, sector, around Lille)
    matching: set[str] = field(default_factory=set)


def add_structure(world: World, name: str, siret: str, *, owner_email: str | None, sector_id: int,
                  place: dict, make_user, matches: bool) -> int:
    organisation_id = None
    if owner_email:
        user_id = make_user(owner_email, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name=f"Organisation {name}")
        organisation_id = organisation_of(user_id)
        world.members[name] = [owner_email]
    structure = Structure(siret=siret, siren=siret[:9], name=name, kinds=["ACI"], source="test", area_kind="radius",
                          area_radius_km=30, area_refs=[], owner_organisation_id=organisation_id, **place)
    structure.sectors = [db.session.get(Sector, sector_id)]
    db.session.add(structure)
    refresh_derived(structure)
    db.session.commit()
    world.structures[name] = structure.id
    if matches:
        world.matching.add(name)
    return structure.id


def add_member(world: World, name: str, email: str, make_user) -> None:
    """A second member of the structure's organisation (through a user of its own, moved in)."""
    user_id = make_user(email, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Organisation de passage")
    structure = db.session.get(Structure, world.structures[name])
    user = db.session.get(User, user_id)
    for membership in list(user.memberships):
        db.session.delete(membership)
    db.session.add(Membership(user_id=user_id, organisation_id=structure.owner_organisation_id, role="member"))
    db.session.commit()
    world.members[name].append(email)


def build(make_user) -> World:
    """Buyer + A, B, C, D matching; E (another sector), F (unclaimed), G (Marseille) not. Must run in a request
    context."""
    sectors = list(db.session.execute(select(Sector.id).order_by(Sector.id).limit(2)).scalars())
    buyer = make_user("acheteur@lille.example.fr", name="Ville de Lille")
    world = World(buyer=buyer, buyer_org=organisation_of(buyer), sector_id=sectors[0], other_sector_id=sectors[1])
    specs = [("Atelier A", "a@a.example.fr", sectors[0], LILLE, True),
             ("Bâtisseurs B", "b@b.example.fr", sectors[0], LILLE, True),
             ("Chantier C", "c@c.example.fr", sectors[0], LILLE, True),
             ("Débroussaille D", "d@d.example.fr", sectors[0], LILLE, True),
             ("Entretien E", "e@e.example.fr", sectors[1], LILLE, False),
             ("Ferme F", None, sectors[0], LILLE, False),
             ("Garrigue G", "g@g.example.fr", sectors[0], MARSEILLE, False)]
    for index, (name, email, sector_id, place, matches) in enumerate(specs):
        add_structure(world, name, f"8000000000{index:04d}", owner_email=email, sector_id=sector_id, place=place,
                      make_user=make_user, matches=matches)
    index_structures(db.session, list(world.structures.values()), wait=True)
    db.session.commit()
    return world


def submitted_tender(world: World, **kwargs) -> int:
    """A validated tender of the buyer in Lille, in the world's sector, ready to publish."""
    tender_id = make_tender(world.buyer_org, status=TenderStatus.SUBMITTED, validated=True, **kwargs)
    tender = db.session.get(Tender, tender_id)
    tender.sectors = [db.session.get(Sector, world.sector_id)]
    tender.contact_email = "marches@lille.example.fr"
    db.session.commit()
    return tender_id


def publish(world: World, tender_id: int) -> None:
    """Publish through the workflow and commit, as the view does (the relay runs inline: no Redis in tests)."""
    workflow.publish(db.session.get(User, world.buyer), db.session.get(Tender, tender_id))
    db.session.commit()


def recipients(mailbox, subject_part: str = "") -> list[str]:
    return sorted(message["To"] for message in mailbox if subject_part in message["Subject"])
