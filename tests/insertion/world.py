"""People and objects of the contracts-and-hours tests: a city buyer (Ville de Lille), a verified facilitator
covering the Nord (PLIE Lille Métropole), an ACI holding the contract (its organisation declares), an ETTI partner,
a company with nothing to do with the contract, and an unverified facilitator of the Nord; one active contract
of 1 000 hours in Lille over the twelve months of 2026 (January to December), accepting direct hire and « mise
à disposition », with two participants in the facilitator's records."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import current_app

from marche.accounts.models import OrganisationKind, User
from marche.extensions import db
from marche.insertion import services
from marche.insertion.models import Contract, HoursDeclaration, Participant
from tests.tenders.answers_world import owned_structure
from tests.tenders.factories import make_facilitator, organisation_of

BUYER = "acheteur@lille.example.fr"
FACILITATOR = "clauses@plie-lille.example.fr"
HOLDER = "direction@aci-lille.example.fr"
PARTNER = "agence@etti-nord.example.fr"
STRANGER = "contact@autre.example.fr"
UNVERIFIED = "clauses@nouveau-plie.example.fr"
LILLE = "commune:59350"


def paris_today() -> date:
    """Today in Paris, computed here without the product's helper."""
    return datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/Paris")).date()


def paris_month() -> date:
    return paris_today().replace(day=1)


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def contract(contract_id: int) -> Contract:
    return db.session.get(Contract, contract_id)


def participant(participant_id: int) -> Participant:
    return db.session.get(Participant, participant_id)


def declaration(declaration_id: int) -> HoursDeclaration:
    return db.session.get(HoursDeclaration, declaration_id)


@pytest.fixture
def hours_world(app, make_user):
    """ids: buyer, facilitator, holder, partner, stranger, unverified (users); *_org (organisations);
    holder_s (the ACI's structure); contract; p1, p2 (participants)."""
    with app.app_context():
        ids = {"buyer": make_user(BUYER, name="Ville de Lille"),
               "facilitator": make_facilitator(make_user, FACILITATOR, ["dep:59"], name="PLIE Lille Métropole"),
               "holder": make_user(HOLDER, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="Chantier Nord SAS"),
               "partner": make_user(PARTNER, kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="ETTI Nord Emploi"),
               "stranger": make_user(STRANGER, kind=OrganisationKind.PRIVATE_COMPANY, name="Autre SARL"),
               "unverified": make_facilitator(make_user, UNVERIFIED, ["dep:59"], verified=False,
                                              name="Nouveau PLIE")}
        for role in ("buyer", "facilitator", "holder", "partner", "stranger", "unverified"):
            ids[f"{role}_org"] = organisation_of(ids[role])
        ids["holder_s"] = owned_structure(ids["holder_org"], "Chantier Nord", ("ACI",))
        with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
            buyer = user(ids["buyer"])
            created = services.create_contract(buyer, buyer.organisation, services.ContractData(
                title="Entretien des espaces verts de Lille", reference="2026-EV-01", starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31), place_ref=LILLE, holder_structure_id=ids["holder_s"],
                hours_target="1000", amount="400000", modes=["direct_hire", "made_available"],
                publics=["long_term_jobseeker", "young_unqualified"]))
            partner = user(ids["partner"]).organisation
            services.add_partner(user(ids["facilitator"]), created, partner.siret)
            ids["contract"] = created.id
            for key, code, year, sex in (("p1", "LIL-001", 1990, "F"), ("p2", "LIL-002", 2003, "M")):
                ids[key] = services.create_participant(user(ids["facilitator"]), created.keeper_organisation_id,
                                                       services.ParticipantData(code=code, birth_year=year, sex=sex,
                                                                                publics=["long_term_jobseeker"])).id
            db.session.commit()
    return ids


def declared(ids: dict, who: str, person: str, month: date, hours: str, mode: str = "direct_hire",
             validate: bool = False) -> int:
    """A line declared by `who` (through the services, as the pages do), validated by the facilitator when
    asked. Commits; returns its id."""
    from marche.insertion.access import declaring_organisation

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        the_contract = contract(ids["contract"])
        actor = user(ids[who])
        line = services.declare(actor, declaring_organisation(actor, the_contract), the_contract,
                                services.LineInput(participant(ids[person]), month, mode, Decimal(hours)))
        if validate:
            services.validate(user(ids["facilitator"]), line)
        db.session.commit()
        return line.id
