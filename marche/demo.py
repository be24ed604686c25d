"""Demo data for `make run`: one account per role with its organisation (idempotent)."""
from __future__ import annotations

from .accounts import services
from .accounts.models import FacilitatorKind, OrganisationKind
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


def create_demo() -> list[dict]:
    """Create what is missing; return the demo logins."""
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
    return [{"role": a["role"], "email": a["email"], "password": DEMO_PASSWORD} for a in DEMO_ACCOUNTS]
