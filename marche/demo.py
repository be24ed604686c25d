"""Demo data for `make run`: one account per role with its organisation (idempotent)."""
from __future__ import annotations

from .accounts import services
from .accounts.models import FacilitatorKind, OrganisationKind, VerificationStatus
from .core.identifiers import is_valid_siret
from .extensions import db

DEMO_PASSWORD = "Demo-marche-2026"


def siret_for(siren: str) -> str:
    """The first establishment number that gives a valid SIRET for this SIREN (demo only)."""
    for nic in range(1, 100000):
        candidate = f"{siren}{nic:05d}"
        if is_valid_siret(candidate):
            return candidate
    raise ValueError(siren)


DEMO_ACCOUNTS = [
    {"role": "Acheteur public", "email": "acheteur.public@demo.marche.local", "name": "Claire Martin",
     "organisation": services.OrganisationData(name="Ville de Lille", kind=OrganisationKind.PUBLIC_BUYER,
                                               siret=siret_for("215903501"), buyer_category="local_authority",
                                               city="Lille")},
    {"role": "Acheteur privé", "email": "acheteur.prive@demo.marche.local", "name": "Julien Bernard",
     "organisation": services.OrganisationData(name="Groupe Démo Industries (RSE)",
                                               kind=OrganisationKind.PRIVATE_COMPANY,
                                               siret=siret_for("552100554"), city="Lyon")},
    {"role": "Structure inclusive", "email": "structure@demo.marche.local", "name": "Nadia Haddad",
     "organisation": services.OrganisationData(name="La Collecterie", kind=OrganisationKind.INCLUSIVE_STRUCTURE,
                                               siret="75187049400026", city="Montreuil")},
    {"role": "Facilitateur", "email": "facilitateur@demo.marche.local", "name": "Sophie Leroy",
     "organisation": services.OrganisationData(name="PLIE de la Métropole lilloise (démo)",
                                               kind=OrganisationKind.FACILITATOR, siret=siret_for("130010002"),
                                               facilitator_kind=FacilitatorKind.PLIE, territories=["dep:59"],
                                               city="Lille")},
    {"role": "Administrateur", "email": "admin@demo.marche.local", "name": "Équipe plateforme",
     "organisation": services.OrganisationData(name="Équipe Marché inclusif", kind=OrganisationKind.PLATFORM,
                                               siret=None)},
]


def create_supplier_demo() -> None:
    """Once the real structures are imported: the demo structure account manages La Collecterie's
    profile (sectors, area, a commitment, a reference), and the public buyer has a favourites list."""
    from datetime import date

    from sqlalchemy import select

    from .core.models import utcnow
    from .reference.models import Sector
    from .suppliers import favorites
    from .suppliers.models import ClientReference, EnvCommitment, Structure
    from .suppliers.services import notify_changed, refresh_derived

    refuse_in_production()
    collecterie = db.session.execute(select(Structure).where(Structure.siret == "75187049400026")).scalar_one_or_none()
    structure_user = services.find_user_by_email("structure@demo.marche.local")
    if collecterie is None or structure_user is None or collecterie.claimed:
        return
    collecterie.owner_organisation_id = structure_user.organisation.id
    collecterie.claimed_at = utcnow()
    collecterie.brand = "La Collecterie"
    collecterie.description = ("Ressourcerie associative de Montreuil : collecte d'encombrants et d'objets, "
                               "réemploi, vente solidaire et ateliers de réparation.")
    collecterie.sectors = list(db.session.execute(select(Sector).where(Sector.id.in_([86, 119, 138]))).scalars())
    collecterie.service_kinds = ["prestation", "fourniture"]
    collecterie.area_kind, collecterie.area_radius_km, collecterie.area_refs = "territories", None, ["dep:93", "dep:75", "dep:94"]
    collecterie.employees_count, collecterie.inclusion_workers_count = 38, 24
    collecterie.env_commitments.append(EnvCommitment(label="reemploi", obtained_on=date(2019, 1, 1)))
    collecterie.env_commitments.append(EnvCommitment(label="esus", obtained_on=date(2021, 3, 1), expires_on=date(2031, 3, 1)))
    collecterie.references.append(ClientReference(client_name="Est Ensemble", year=2025,
                                                  description="Collecte d'encombrants et réemploi sur trois communes."))
    refresh_derived(collecterie)
    buyer = services.find_user_by_email("acheteur.public@demo.marche.local")
    nearby = db.session.execute(select(Structure).where(Structure.department_code == "59", Structure.kinds.any("EI"))
                                .order_by(Structure.name).limit(3)).scalars().all()
    for structure in nearby:
        favorites.add_to_list(buyer, structure, None, "Propreté urbaine 2027")
    db.session.flush()
    notify_changed([collecterie.id])


class DemoRefused(RuntimeError):
    """The demo accounts have public passwords: they never exist in production."""


def refuse_in_production() -> None:
    from flask import current_app

    if current_app.config.get("MARCHE_ENV") == "production":
        raise DemoRefused("Données de démonstration refusées en production : leurs mots de passe sont publics.")


def verify_demo_facilitator() -> None:
    """The demo facilitator is verified by the platform itself (no admin acts), so `make run` shows a
    facilitator with its powers; also fixes a demo database made before verification existed."""
    facilitator = next(a["organisation"] for a in DEMO_ACCOUNTS if a["organisation"].kind == OrganisationKind.FACILITATOR)
    organisation = services.find_organisation_by_siret(facilitator.siret)
    if organisation is not None and organisation.verification_status == VerificationStatus.PENDING:
        services.verify_organisation(None, organisation, approve=True)


#: an account to see what a facilitator awaiting verification sees (listed by `make run`)
PENDING_FACILITATOR = {"role": "Facilitateur non vérifié", "email": "facilitateur.attente@demo.marche.local",
                       "name": "Karim Benali",
                       "organisation": services.OrganisationData(
                           name="Maison de l'emploi du Roubaisis (démo, à vérifier)",
                           kind=OrganisationKind.FACILITATOR, siret=siret_for("130020001"),
                           facilitator_kind=FacilitatorKind.EMPLOYMENT_HOUSE, territories=["dep:59"],
                           city="Roubaix")}
#: a structure of the Nord asks for its profile with a document: the demo facilitator (Nord) decides it
CLAIMANT_EMAIL = "direction.candidate@demo.marche.local"
DEMO_KBIS = b"%PDF-1.4\n% extrait Kbis de demonstration\n%%EOF\n"


def create_trust_demo() -> None:
    """A facilitator awaiting verification (the admin's list) and a pending claim with its document
    (the facilitator's and the admin's claims page)."""
    from sqlalchemy import select

    from .suppliers import services as suppliers
    from .suppliers.models import Structure, StructureClaim

    if services.find_user_by_email(PENDING_FACILITATOR["email"]) is None:
        user = services.create_user(PENDING_FACILITATOR["email"], DEMO_PASSWORD, PENDING_FACILITATOR["name"],
                                    confirmed=True)
        services.create_organisation(user, PENDING_FACILITATOR["organisation"])
    if services.find_user_by_email(CLAIMANT_EMAIL) is not None:
        return
    structure = db.session.execute(
        select(Structure).where(Structure.department_code == "59", Structure.owner_organisation_id.is_(None),
                                Structure.siret.is_not(None), Structure.kinds.any("EI"),
                                ~select(StructureClaim.id).where(StructureClaim.structure_id == Structure.id).exists())
        .order_by(Structure.name).limit(1)).scalar_one_or_none()
    if structure is None or services.find_organisation_by_siret(structure.siret) is not None:
        return
    user = services.create_user(CLAIMANT_EMAIL, DEMO_PASSWORD, "Direction de la structure", confirmed=True)
    services.create_organisation(user, services.OrganisationData(
        name=structure.name, kind=OrganisationKind.INCLUSIVE_STRUCTURE, siret=structure.siret, city=structure.city))
    db.session.flush()
    suppliers.request_claim(user, structure, suppliers.ClaimProof(kind="document", document=DEMO_KBIS),
                            "Nous dirigeons cette entreprise d'insertion : voici notre extrait Kbis.")


def create_demo() -> list[dict]:
    """Create what is missing; return the demo logins. Refused in production, whoever calls it."""
    refuse_in_production()
    for account in DEMO_ACCOUNTS:
        if services.find_user_by_email(account["email"]) is not None:
            continue
        user = services.create_user(account["email"], DEMO_PASSWORD, account["name"], confirmed=True)
        user.is_platform_admin = account["organisation"].kind == OrganisationKind.PLATFORM
        data = account["organisation"]
        existing = services.find_organisation_by_siret(data.siret) if data.siret else None
        if existing is None:
            services.create_organisation(user, data)
        db.session.flush()
    verify_demo_facilitator()
    create_supplier_demo()
    create_trust_demo()
    return [{"role": a["role"], "email": a["email"], "password": DEMO_PASSWORD}
            for a in DEMO_ACCOUNTS + [PENDING_FACILITATOR]]
