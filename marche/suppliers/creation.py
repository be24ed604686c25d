"""A structure that is in no public list creates its own profile; it stays out of the directory until a
platform admin or a facilitator competent for its territory verifies it (issue 18 item 9).

The profile is created « en attente de vérification » and managed by the creator's organisation at once
(it can complete it meanwhile); search, map, API and supplier check ignore it, and its page answers 404
to everyone but its organisation, the admins and those facilitators. Publishing or refusing (with a
reason, mailed) is one audited move of `PUBLICATION_STATES`.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..accounts.models import Organisation, OrganisationKind, User
from ..core import audit
from ..core.models import utcnow
from ..core.errors import DomainError
from ..core.identifiers import is_digits, is_valid_siret
from ..core.mail import queue_mail
from ..core.states import Move, StateMachine
from ..core.text import normalize_search
from ..core.urls import external_url
from ..extensions import db
from ..geo.models import Commune
from ..reference.models import Sector
from .access import _in_territories
from .inference import inferred_sector_ids, services_for
from .models import DEFAULT_RADIUS_KM, AreaKind, Publication, SiretStatus, Structure
from .services import mark_sector_origin, notify_changed, platform_admins, refresh_derived, structure_ident

#: `source` of a profile a structure created itself
USER_SOURCE = "user"

PUBLICATION_STATES = StateMachine("publication", [
    Move(Publication.PENDING, Publication.PUBLISHED, "structure.publication_verified"),
    Move(Publication.PENDING, Publication.REFUSED, "structure.publication_refused"),
], refused="Cette fiche a déjà été vérifiée (état : {current}).")


class AlreadyListed(DomainError):
    """The SIRET is already a profile of the directory: claim it rather than create it."""

    def __init__(self, structure: Structure):
        super().__init__("Cette structure est déjà dans l'annuaire : demandez à gérer sa fiche plutôt que d'en "
                         "créer une autre.", "siret")
        self.structure = structure


@dataclass
class NewStructure:
    siret: str
    name: str
    kinds: list[str]
    address: str | None
    postcode: str
    city: str


def clean_siret(value: str) -> str:
    """14 digits (spaces and dots allowed) with a right check digit; DomainError in French otherwise."""
    digits = "".join(ch for ch in value if ch not in " .\u00a0\u202f")
    if len(digits) != 14 or not is_digits(digits):
        raise DomainError(f"« {value[:40]} » n'est pas un SIRET : 14 chiffres attendus.", "siret")
    if not is_valid_siret(digits):
        raise DomainError("Ce SIRET n'existe pas (sa clé de contrôle est fausse) : vérifiez-le sur votre Kbis "
                          "ou sur annuaire-entreprises.data.gouv.fr.", "siret")
    return digits


def find_commune(postcode: str, city: str) -> Commune:
    """The commune of this postcode named `city`; the only one when the postcode has one. Several
    communes and a name matching none: a French message listing them (the person chooses)."""
    candidates = list(db.session.execute(select(Commune).where(Commune.postcodes.any(postcode))
                                         .order_by(Commune.name)).scalars())
    if not candidates:
        raise DomainError(f"Aucune commune n'a le code postal {postcode}.", "postcode")
    wanted = normalize_search(city)
    named = [c for c in candidates if c.search_name == wanted]
    if len(named) == 1:
        return named[0]
    if len(candidates) == 1 and not wanted:
        return candidates[0]
    names = ", ".join(c.name for c in candidates[:12]) + (" …" if len(candidates) > 12 else "")
    raise DomainError(f"Quelle commune ? Le code postal {postcode} couvre : {names}. Écrivez le nom exact.", "city")


def structure_organisation(user: User) -> Organisation:
    organisation = next((m.organisation for m in user.memberships
                         if m.organisation.kind == OrganisationKind.INCLUSIVE_STRUCTURE), None)
    if organisation is None:
        raise DomainError("Seul un membre d'une structure inclusive peut créer une fiche.")
    return organisation


def competent_facilitators(structure: Structure) -> list[User]:
    """The members of the verified facilitator organisations whose territory contains the structure."""
    organisations = db.session.execute(select(Organisation).where(
        Organisation.kind == OrganisationKind.FACILITATOR)).scalars()
    return [m.user for org in organisations if org.trusted and _in_territories(org.territories, structure)
            for m in org.memberships if m.user.active]


def create_structure(user: User, data: NewStructure) -> Structure:
    """The profile, pending, managed by the user's structure organisation; those who can verify it are
    mailed. Raises AlreadyListed when the SIRET is in the directory (published or not)."""
    organisation = structure_organisation(user)
    siret = clean_siret(data.siret)
    existing = db.session.execute(select(Structure).where(Structure.siret == siret)).scalar_one_or_none()
    if existing is not None:
        raise AlreadyListed(existing)
    if not data.kinds:
        raise DomainError("Choisissez au moins un type de structure.", "kinds")
    commune = find_commune(data.postcode, data.city)
    structure = Structure(
        siret=siret, siren=siret[:9], siret_status=SiretStatus.OK, finess_numbers=[], name=data.name.strip(),
        kinds=sorted(set(data.kinds)), address=data.address, postcode=data.postcode, city=commune.name,
        commune_code=commune.code, department_code=commune.department_code, region_code=commune.region_code,
        latitude=commune.latitude, longitude=commune.longitude,
        point_source="commune" if commune.latitude is not None else None,
        service_kinds=services_for(data.kinds), source=USER_SOURCE, publication=Publication.PENDING,
        owner_organisation_id=organisation.id, claimed_at=utcnow(),
        area_kind=AreaKind.RADIUS, area_radius_km=DEFAULT_RADIUS_KM, area_refs=[])
    # sectors deduced from the name, as for imported profiles, until the structure declares its own
    deduced = inferred_sector_ids(None, structure.name, None, None)
    structure.sectors = list(db.session.execute(select(Sector).where(Sector.id.in_(deduced))
                                                .order_by(Sector.name)).scalars()) if deduced else []
    refresh_derived(structure)
    db.session.add(structure)
    db.session.flush()
    mark_sector_origin([structure], inferred=True)
    audit.record(user, "structure.created", structure, organisation_id=organisation.id, siret=siret,
                 kinds=structure.kinds, commune=commune.code)
    link = external_url("structure_creation.pending")
    recipients = {u.email for u in platform_admins()} | {u.email for u in competent_facilitators(structure)}
    for email in sorted(recipients):
        queue_mail(email, f"Nouvelle fiche à vérifier : {structure.display_name}", "structure_created",
                   structure=structure, organisation=organisation, requester=user, link=link)
    return structure


def pending_structures() -> list[Structure]:
    return list(db.session.execute(select(Structure).where(Structure.publication == Publication.PENDING)
                                   .order_by(Structure.created_at)).scalars())


def decide_publication(actor: User, structure: Structure, publish: bool, reason: str | None) -> None:
    """Publish (the profile enters search, map and API) or refuse with a reason; audited, and mailed to
    every active member of the structure's organisation."""
    reason = (reason or "").strip() or None
    if not publish and reason is None:
        raise DomainError("Indiquez la raison du refus : elle est envoyée à la structure.", "reason")
    target = Publication.PUBLISHED if publish else Publication.REFUSED
    capacity = ("platform_admin" if actor.is_platform_admin else
                [org.id for org in actor.trusted_organisations(OrganisationKind.FACILITATOR)])
    PUBLICATION_STATES.move(actor, structure, target, capacity=capacity, reason=reason)
    structure.publication_reason = None if publish else reason
    notify_changed([structure.id])  # published: it enters the index (a refused one stays out)
    owners = db.session.get(Organisation, structure.owner_organisation_id) if structure.owner_organisation_id else None
    link = external_url("suppliers.profile", ident=structure_ident(structure))
    for email in sorted({m.user.email for m in (owners.memberships if owners else []) if m.user.active}):
        queue_mail(email, f"Votre fiche « {structure.display_name} » : "
                          + ("publiée" if publish else "refusée"), "structure_publication_decision",
                   structure=structure, published=publish, reason=reason, link=link)
