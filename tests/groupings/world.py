"""People and objects of the grouping tests: a buyer (Ville de Lille) with a published two-lot tender, an ACI
(the mandataire-to-be), an EA and an ordinary company, each with its organisation; `formed` builds a grouping
through the services, as the pages do."""
from __future__ import annotations

from decimal import Decimal

import pytest
from flask import current_app

from marche.accounts.models import OrganisationKind, User
from marche.extensions import db
from marche.groupings import services
from marche.groupings.models import Grouping
from marche.search.structures import index_structures
from marche.suppliers.models import Structure
from marche.tenders.models import Tender, TenderStatus
from tests.tenders.answers_world import owned_structure
from tests.tenders.factories import complete_clauses, make_tender, organisation_of

BUYER = "acheteur@lille.example.fr"
ACI = "direction@jardins.example.fr"
EA = "direction@atelier.example.fr"
COMPANY = "contact@entreprise.example.fr"
STRANGER = "curieux@ailleurs.example.fr"


@pytest.fixture
def gme(app, make_user):
    """ids: buyer, aci, ea, company, stranger (users); *_org (organisations); aci_s, ea_s (structures); tender
    (published, two lots of 100 000 € each, the second reserved to SIAE + EA/ESAT)."""
    with app.app_context():
        ids = {"buyer": make_user(BUYER, name="Ville de Lille"),
               "aci": make_user(ACI, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Jardins Solidaires SAS"),
               "ea": make_user(EA, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Atelier Adapté SAS"),
               "company": make_user(COMPANY, kind=OrganisationKind.PRIVATE_COMPANY, name="Paysages Durand SARL"),
               "stranger": make_user(STRANGER, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Autre SAS")}
        for role in ("buyer", "aci", "ea", "company", "stranger"):
            ids[f"{role}_org"] = organisation_of(ids[role])
        ids["aci_s"] = owned_structure(ids["aci_org"], "Les Jardins Solidaires", ("ACI",))
        ids["ea_s"] = owned_structure(ids["ea_org"], "Atelier du Nord", ("EA",))
        ids["stranger_s"] = owned_structure(ids["stranger_org"], "Chantier d'ailleurs", ("EI",))
        # in the directory's index, as the import and the profile pages put them
        index_structures(db.session, [ids["aci_s"], ids["ea_s"], ids["stranger_s"]], wait=True)
        reserved = dict(complete_clauses(), reservation="both")
        ids["tender"] = make_tender(ids["buyer_org"], status=TenderStatus.PUBLISHED, amount="200000",
                                    lots=[complete_clauses(), reserved], title="Entretien des espaces verts")
    return ids


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def tender(tender_id: int) -> Tender:
    return db.session.get(Tender, tender_id)


def structure(structure_id: int) -> Structure:
    return db.session.get(Structure, structure_id)


def formed(ids: dict, *, kind: str = "solidaire", lots: tuple[int, ...] = (0, 1),
           shares: dict[str, str] | None = None, confirm: bool = False) -> int:
    """The ACI forms a grouping with the EA on the tender's lots (indexes), the EA accepts, and each lot is
    shared per `shares` (member role → percent, default 60/40); confirmed when asked. Commits; returns its id."""
    shares = shares or {"aci": "60", "ea": "40"}
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        the_tender = tender(ids["tender"])
        lot_ids = [the_tender.lots[i].id for i in lots]
        grouping = services.start(user(ids["aci"]), the_tender, structure(ids["aci_s"]), lot_ids, kind)
        member = services.invite_structure(user(ids["aci"]), grouping, structure(ids["ea_s"]), "Entretien")
        services.answer_invitation(user(ids["ea"]), member, True)
        by_role = {"aci": grouping.mandataire_id, "ea": member.id}
        for grouping_lot in grouping.lots:
            services.set_shares(user(ids["aci"]), grouping, grouping_lot,
                                {by_role[role]: percent for role, percent in shares.items()})
        if confirm:
            services.confirm(user(ids["aci"]), grouping)
        db.session.commit()
        grouping_id = grouping.id
        db.session.remove()
    return grouping_id


def grouping(grouping_id: int) -> Grouping:
    return db.session.get(Grouping, grouping_id)


def percent(value: str) -> Decimal:
    return Decimal(value)
