"""Demo data for `make run`: one account per role with its organisation, and tenders in every state for the
demo buyers (idempotent)."""
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


#: how many profiles of Lille the demo facilitator has completed (« Secteurs à compléter »)
SECTOR_COMPLETION_DEMO = 2


def create_sector_completion_demo() -> None:
    """The demo facilitator (Nord) has confirmed the deduced sectors of two unclaimed profiles of Lille (what the
    public data says, not invented for real structures): their pages say who gave them; the list shows the others.
    Once done (or without such profiles), nothing more."""
    from sqlalchemy import select

    from .suppliers import completion
    from .suppliers.models import Structure, structure_sector

    facilitator = services.find_user_by_email("facilitateur@demo.marche.local")
    if facilitator is None or db.session.execute(select(Structure.id).where(
            Structure.sectors_given_by.is_not(None)).limit(1)).first() is not None:
        return
    deduced = select(structure_sector.c.structure_id).where(structure_sector.c.inferred)
    targets = db.session.execute(select(Structure).where(completion.completable(), Structure.commune_code == "59350",
                                                         Structure.id.in_(deduced))
                                 .order_by(Structure.name).limit(SECTOR_COMPLETION_DEMO)).scalars().all()
    for structure in targets:
        completion.give_sectors(facilitator, structure, [sector.id for sector in structure.inferred_sectors])


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
    create_sector_completion_demo()
    create_tender_demo()
    create_reach_demo()
    partner = create_gme_demo()
    create_insertion_demo()
    return [{"role": a["role"], "email": a["email"], "password": DEMO_PASSWORD}
            for a in DEMO_ACCOUNTS + [PENDING_FACILITATOR] + ([partner] if partner else [])]


# --- demo tenders (issue 19): a few in every state for the two demo buyers --------------------------

#: La Collecterie (Montreuil), the demo structure: it holds the private buyer's awarded lot
COLLECTERIE_SIRET = "75187049400026"
PUBLIC_BUYER_EMAIL = "acheteur.public@demo.marche.local"
PRIVATE_BUYER_EMAIL = "acheteur.prive@demo.marche.local"


def _spec(amount: int | None = None, nature: str = "services", group: str | None = None, *,
          reservation: str | None = None, social: int | None = None, environment: tuple[str, ...] = (),
          environmental_criterion: int | None = None) -> dict:
    """A lot's clause document: an insertion clause sized by the calculator's defaults when `amount` is given."""
    from decimal import Decimal

    from .clauses.catalogue import EligiblePublic, FulfilmentMode
    from .clauses.rules import calculator_defaults
    from .clauses.spec import ClauseSpec, Criterion, InsertionSpec

    insertion = None
    if amount is not None:
        defaults = calculator_defaults(nature, group)
        insertion = InsertionSpec(Decimal(amount), defaults.labour_share.value, defaults.insertion_rate.value,
                                  defaults.hourly_cost.value,
                                  modes=(FulfilmentMode.DIRECT_HIRE, FulfilmentMode.MADE_AVAILABLE,
                                         FulfilmentMode.SUBCONTRACTING),
                                  publics=(EligiblePublic.LONG_TERM_JOBSEEKER, EligiblePublic.MINIMUM_INCOME,
                                           EligiblePublic.YOUNG_UNQUALIFIED, EligiblePublic.PLIE),
                                  penalty_per_hour=Decimal(30))
    return ClauseSpec(
        insertion=insertion, reservation=reservation,
        social_criterion=Criterion(Decimal(social), "Qualité du parcours d'insertion proposé") if social else None,
        environmental_conditions=environment,
        environmental_criterion=(Criterion(Decimal(environmental_criterion), "Performance environnementale")
                                 if environmental_criterion else None)).to_json()


def demo_tenders() -> list[dict]:
    """The demo tenders, as data: buyer, status, dates in days from today, lots and their clauses."""
    green, cleaning, waste = "espaces-verts-exterieurs-2", "hygiene-et-proprete-64", "collecte-traitement-des-dechets"
    return [
        {"buyer": PUBLIC_BUYER_EMAIL, "status": "published", "kind": "call_for_tenders",
         "title": "Entretien des espaces verts des écoles de Lille",
         "object": "Tonte, taille, désherbage sans produit phytosanitaire et ramassage des feuilles dans les "
                   "cours et jardins des 64 écoles publiques de Lille, pour trois ans.",
         "procedure": "Appel d'offres ouvert", "cpv": ["77310000-6", "77311000-3"], "nature": "services",
         "place": "commune:59350", "sectors": ["creation-et-entretien-des-espaces-verts"], "duration": 36,
         "launch": -10, "questions": 20, "deadline": 30, "notification": 60, "rectificatif": True,
         "lots": [("Tonte et taille — écoles du nord de la ville", 180_000,
                   _spec(180_000, "services", green, environment=("waste_sorting", "low_emission_delivery"),
                         environmental_criterion=15, social=10)),
                  ("Désherbage manuel et alternatif — écoles du sud", 120_000,
                   _spec(reservation="siae", environment=("waste_sorting",), environmental_criterion=20))]},
        {"buyer": PUBLIC_BUYER_EMAIL, "status": "draft", "kind": "call_for_tenders",
         "title": "Nettoyage des locaux de la mairie de quartier de Fives",
         "object": "Nettoyage quotidien des bureaux, vitrerie trimestrielle.", "cpv": ["90911200-8"],
         "nature": "services", "place": "commune:59350", "sectors": ["nettoyage-de-locaux-16"], "duration": 24,
         "launch": 15, "questions": 35, "deadline": 45,
         "lots": [(None, 150_000, _spec(150_000, "services", cleaning))]},
        {"buyer": PUBLIC_BUYER_EMAIL, "status": "submitted", "kind": "call_for_tenders", "assisted": True,
         "title": "Rénovation de la toiture du gymnase Jean-Zay",
         "object": "Dépose et réfection de la charpente et de la couverture, avec réemploi des tuiles saines.",
         "procedure": "Procédure adaptée", "cpv": ["45261000-4", "45261210-9"], "nature": "works",
         "place": "commune:59350", "sectors": ["travaux-de-chantiers-74"], "duration": 8,
         "launch": 5, "questions": 25, "deadline": 35, "notification": 60,
         "lots": [("Charpente", 350_000, _spec(350_000, "works", environment=("reuse",), environmental_criterion=15)),
                  ("Couverture", 450_000, _spec(450_000, "works", environment=("reuse", "waste_sorting"),
                                                environmental_criterion=15))]},
        {"buyer": PUBLIC_BUYER_EMAIL, "status": "closed", "kind": "call_for_tenders",
         "title": "Collecte et réemploi des encombrants du quartier de Moulins",
         "object": "Collecte sur rendez-vous, tri et orientation vers le réemploi.", "cpv": ["90511000-2"],
         "procedure": "Procédure adaptée", "nature": "services", "place": "commune:59350",
         "sectors": ["collecte-dencombrants"], "duration": 12, "launch": -40, "questions": -20, "deadline": -10,
         "lots": [(None, 90_000, _spec(reservation="both", environment=("reuse",), environmental_criterion=20))]},
        {"buyer": PUBLIC_BUYER_EMAIL, "status": "awarded", "kind": "call_for_tenders",
         "title": "Repas en circuit court pour les centres de loisirs",
         "object": "Confection et livraison des repas des centres de loisirs pendant les vacances scolaires.",
         "procedure": "Procédure adaptée", "cpv": ["55524000-9"], "nature": "services", "place": "dep:59",
         "sectors": ["restauration-collective"], "duration": 12, "launch": -90, "questions": -70,
         "deadline": -60, "notification": -20,
         "lots": [("Repas des centres du nord", 110_000,
                   _spec(110_000, "services", environment=("short_supply_chain", "packaging"),
                         environmental_criterion=20)),
                  ("Goûters", 40_000, _spec(reservation="siae", environment=("short_supply_chain",),
                                            environmental_criterion=20))],
         "awards": [{"holder": "nord", "amount": 104_500, "offers": 4},
                    {"unsuccessful": "Aucune offre reçue pour ce lot."}]},
        {"buyer": PUBLIC_BUYER_EMAIL, "status": "unsuccessful", "kind": "quote_request",
         "title": "Maintenance des aires de jeux du parc de la Citadelle",
         "object": "Vérification et petites réparations des équipements de jeux.", "cpv": ["50870000-4"],
         "procedure": "Procédure adaptée", "nature": "services", "place": "commune:59350",
         "sectors": ["entretien-et-maintenance-de-lespace-urbain-17"], "duration": 12,
         "launch": -80, "questions": -60, "deadline": -50,
         "lots": [(None, 45_000, _spec(45_000, "services", green, environment=("waste_sorting",),
                                       environmental_criterion=15))],
         "awards": [{"unsuccessful": "Les deux offres reçues dépassaient le budget de plus de 40 %."}],
         "reason": "Aucune offre acceptable : la consultation sera relancée au printemps."},
        {"buyer": PUBLIC_BUYER_EMAIL, "status": "cancelled", "kind": "quote_request",
         "title": "Impression des supports de communication de l'été",
         "object": "Affiches, dépliants et programmes des animations d'été.", "cpv": ["79810000-5"],
         "nature": "services", "place": "commune:59350", "sectors": ["impressions"], "duration": 3,
         "launch": -30, "questions": -15, "deadline": -5,
         "lots": [(None, 30_000, _spec(environment=("ecolabelled",), environmental_criterion=20))],
         "reason": "Besoin repris par la métropole dans son marché groupé."},
        {"buyer": PRIVATE_BUYER_EMAIL, "status": "published", "kind": "sourcing",
         "title": "Sourçage : entretien des vêtements de travail du site de Lyon",
         "object": "Nous cherchons des ESAT et entreprises adaptées capables de collecter, laver et livrer "
                   "chaque semaine 400 tenues de travail.", "cpv": ["98310000-9"], "nature": "services",
         "place": "commune:69123", "sectors": ["blanchisserie"], "duration": 24, "launch": -3, "deadline": 25,
         "lots": [(None, 60_000, _spec(reservation="disability", environment=("low_emission_delivery",)))]},
        {"buyer": PRIVATE_BUYER_EMAIL, "status": "awarded", "kind": "quote_request",
         "title": "Collecte et réemploi du mobilier de bureau du site de Montreuil",
         "object": "Enlèvement de 300 postes de travail, réemploi ou don, recyclage du reste.",
         "cpv": ["90500000-2"], "nature": "services", "place": "commune:93048",
         "sectors": ["collecte-dencombrants"], "duration": 2, "launch": -60, "deadline": -40,
         "lots": [(None, 25_000, _spec(25_000, "services", waste, environment=("reuse", "waste_sorting")))],
         "awards": [{"holder": "collecterie", "amount": 23_800, "offers": 3}]},
        {"buyer": PRIVATE_BUYER_EMAIL, "status": "published", "kind": "quote_request",
         "title": "Collecte et réemploi des équipements du site de Montreuil",
         "object": "Enlèvement trimestriel des équipements réformés (mobilier, petit électroménager), réemploi "
                   "ou don, tri du reste ; bordereau de suivi à chaque passage.",
         "cpv": ["90500000-2"], "nature": "services", "place": "commune:93048",
         "sectors": ["collecte-dencombrants"], "duration": 24, "launch": -2, "questions": 14, "deadline": 21,
         "lots": [(None, 40_000, _spec(40_000, "services", waste, reservation="siae",
                                       environment=("reuse", "waste_sorting")))]},
        {"buyer": PRIVATE_BUYER_EMAIL, "status": "draft", "kind": "quote_request",
         "title": "Entretien des espaces verts du site de Vénissieux",
         "object": "Tonte et taille, douze passages par an.", "cpv": ["77310000-6"], "nature": "services",
         "place": "commune:69259", "sectors": ["creation-et-entretien-des-espaces-verts"], "duration": 12,
         "lots": [(None, 18_000, _spec(18_000, "services", green))]},
    ]


def _demo_holder(which: str):
    """(structure or None, SIRET, name) of a demo award: La Collecterie, or an insertion company of the Nord
    from the directory (La Collecterie when the directory is not imported)."""
    from sqlalchemy import select

    from .suppliers.models import Structure

    structure = None
    if which == "nord":
        structure = db.session.execute(
            select(Structure).where(Structure.department_code == "59", Structure.kinds.any("EI"),
                                    Structure.siret.is_not(None), Structure.publication == "published")
            .order_by(Structure.name).limit(1)).scalar_one_or_none()
    if structure is None:
        structure = db.session.execute(select(Structure).where(Structure.siret == COLLECTERIE_SIRET)
                                       ).scalar_one_or_none()
    if structure is None:
        return None, COLLECTERIE_SIRET, "La Collecterie"
    return structure, structure.siret, structure.brand or structure.name


def create_tender_demo() -> None:
    """The demo tenders of `demo_tenders()`, each created once (found again by its buyer and title): rows
    written directly in the state they show, with their clause documents through `ClauseSpec`."""
    from datetime import datetime, time, timedelta
    from decimal import Decimal

    from sqlalchemy import select

    from .core.dates import PARIS, today
    from .core.models import utcnow
    from .reference.models import Sector
    from .tenders.models import LotAward, Tender, TenderComment, TenderLot, TenderRectificatif

    refuse_in_production()
    day = today()
    facilitator = services.find_user_by_email("facilitateur@demo.marche.local")
    admin = services.find_user_by_email("admin@demo.marche.local")

    def moment(days: int | None):
        return None if days is None else datetime.combine(day + timedelta(days=days), time(12), tzinfo=PARIS)

    for data in demo_tenders():
        buyer = services.find_user_by_email(data["buyer"])
        if buyer is None or buyer.organisation is None:
            continue
        organisation = buyer.organisation
        if db.session.execute(select(Tender.id).where(Tender.organisation_id == organisation.id,
                                                      Tender.title == data["title"])).first():
            continue
        lots = data["lots"]
        tender = Tender(
            organisation_id=organisation.id, created_by_id=buyer.id, title=data["title"], object=data["object"],
            kind=data["kind"], procedure=data.get("procedure"), cpv_codes=data["cpv"], nature=data["nature"],
            place_ref=data["place"], amount=Decimal(sum(amount for _, amount, _ in lots)),
            duration_months=data["duration"],
            launch_date=None if data.get("launch") is None else day + timedelta(days=data["launch"]),
            questions_deadline=moment(data.get("questions")), answers_deadline=moment(data.get("deadline")),
            planned_notification=(None if data.get("notification") is None
                                  else day + timedelta(days=data["notification"])),
            contact_name=buyer.full_name, contact_email=buyer.email, allotted=len(lots) > 1, status=data["status"],
            outcome_reason=data.get("reason"),
            sectors=list(db.session.execute(select(Sector).where(Sector.slug.in_(data["sectors"]))).scalars()))
        for position, (title, amount, clauses) in enumerate(lots, start=1):
            tender.lots.append(TenderLot(position=position, title=title or data["title"], amount=Decimal(amount),
                                         clauses=clauses))
        if data["status"] != "draft":
            tender.submitted_at = moment((data.get("launch") or 0) - 3)
        if data["status"] not in ("draft", "submitted"):
            tender.validated_at = moment((data.get("launch") or 0) - 1)
            tender.validated_by_id = admin.id if admin else None
            tender.published_at = moment(data.get("launch") or 0)
        if data["status"] in ("closed", "awarded", "unsuccessful"):
            tender.closed_at = moment(data.get("deadline"))
        if data.get("assisted") and facilitator is not None:
            tender.assisting_organisation_id = facilitator.organisation.id
            tender.assist_requested_at = moment(data["launch"] - 10)
            tender.comments.append(TenderComment(
                author_id=facilitator.id, organisation_id=facilitator.organisation.id,
                body="Clauses relues : 5 % d'heures d'insertion par lot est tenable pour ce chantier ; pensez à "
                     "nous indiquer comme contact dans l'annexe."))
        if data.get("rectificatif"):
            tender.rectificatifs.append(TenderRectificatif(
                author_id=buyer.id, note="Une visite des sites est ajoutée : la date limite est repoussée.",
                changes=[{"field": "answers_deadline", "label": "Date limite de réponse",
                          "before": (day + timedelta(days=data["deadline"] - 7)).strftime("%d/%m/%Y") + " 12:00",
                          "after": (day + timedelta(days=data["deadline"])).strftime("%d/%m/%Y") + " 12:00"}]))
        for lot, award in zip(tender.lots, data.get("awards", [])):
            if "unsuccessful" in award:
                lot.status = "unsuccessful"
                lot.award = LotAward(awarded=False, unsuccessful_reason=award["unsuccessful"],
                                     recorded_by_id=buyer.id, recorded_at=utcnow())
                continue
            structure, siret, name = _demo_holder(award["holder"])
            lot.status = "awarded"
            lot.award = LotAward(awarded=True, holder_structure_id=structure.id if structure else None,
                                 holder_siret=siret, holder_name=name, amount=Decimal(award["amount"]),
                                 awarded_on=day + timedelta(days=data.get("notification") or -20),
                                 offers_count=award["offers"], recorded_by_id=buyer.id, recorded_at=utcnow())
        db.session.add(tender)
    db.session.flush()


# --- reaching the structures (issue 20): the demo structure on the published Lille tender -----------------------

REACH_TENDER = "Collecte et réemploi des équipements du site de Montreuil"
DEMO_QUESTION = "Les équipements électriques hors d'usage sont-ils compris dans l'enlèvement ?"


def create_reach_demo() -> None:
    """La Collecterie (the demo structure's profile) as the relay finds it on the private buyer's published
    Montreuil quote request: notified with its reasons, interested, a question answered publicly; the structure
    account's saved search and its calendar link. Each created once."""
    from sqlalchemy import select

    from .core.models import utcnow
    from .suppliers.models import Structure
    from .tenders import watch
    from .tenders.matching import reasons_for
    from .tenders.models import (Interest, LotResponse, SavedSearch, Tender, TenderNotification, TenderQuestion,
                                 TenderStatus)

    refuse_in_production()
    structure_user = services.find_user_by_email("structure@demo.marche.local")
    buyer = services.find_user_by_email(PRIVATE_BUYER_EMAIL)
    collecterie = db.session.scalar(select(Structure).where(Structure.siret == COLLECTERIE_SIRET))
    tender = db.session.scalar(select(Tender).where(Tender.title == REACH_TENDER,
                                                    Tender.status == TenderStatus.PUBLISHED))
    if structure_user is None or buyer is None or collecterie is None or tender is None:
        return
    now = utcnow()
    if db.session.scalar(select(TenderNotification.id).where(TenderNotification.tender_id == tender.id,
                                                             TenderNotification.structure_id == collecterie.id)) is None:
        lots = sorted(tender.lots, key=lambda lot: lot.position)
        db.session.add(TenderNotification(
            tender_id=tender.id, structure_id=collecterie.id, lot_ids=[lot.id for lot in lots], mailed_at=now,
            reasons={str(lot.id): reasons_for(collecterie.id, lot) for lot in lots}))
        for lot in lots:
            db.session.add(LotResponse(lot_id=lot.id, structure_id=collecterie.id, notified_at=now, viewed_at=now,
                                       interest=Interest.INTERESTED, interest_at=now))
        db.session.add(TenderQuestion(tender_id=tender.id, lot_id=lots[0].id, structure_id=collecterie.id,
                                      asked_by_id=structure_user.id, body=DEMO_QUESTION, created_at=now,
                                      answer="Oui : deux passages par semaine d'octobre à décembre.",
                                      answered_at=now, answered_by_id=buyer.id))
    if db.session.scalar(select(SavedSearch.id).where(SavedSearch.user_id == structure_user.id)) is None:
        watch.create(structure_user.id, "Réemploi réservé aux SIAE", [("q", "réemploi"), ("reserved", "siae")])
    watch.calendar_token(collecterie.id)
    db.session.flush()


# --- demo grouping (issue 21) --------------------------------------------------------------------------------

GME_PARTNER_EMAIL = "partenaire@demo.marche.local"
GME_MESSAGE = "Nous pouvons assurer les passages du mardi et le tri du petit électroménager."


def create_gme_demo() -> dict | None:
    """La Collecterie answers the private buyer's Montreuil quote request (reserved to SIAE) in a confirmed
    solidaire grouping with another insertion structure of Seine-Saint-Denis from the directory, whose account
    (« partenaire@… ») the demo creates and whose profile it claims; 60 / 40 and a message in the thread. Returns
    the partner's login, or None when the directory has no such structure. Created once: a second run finds the
    grouping."""
    from sqlalchemy import or_, select

    from .core.models import utcnow
    from .groupings import services as groupings
    from .groupings.models import Grouping
    from .suppliers.models import SIAE_KINDS, Publication, Structure
    from .tenders.models import Tender, TenderStatus

    refuse_in_production()
    login = {"role": "Structure partenaire (groupement)", "email": GME_PARTNER_EMAIL, "password": DEMO_PASSWORD}
    lead_user = services.find_user_by_email("structure@demo.marche.local")
    collecterie = db.session.scalar(select(Structure).where(Structure.siret == COLLECTERIE_SIRET))
    tender = db.session.scalar(select(Tender).where(Tender.title == REACH_TENDER,
                                                    Tender.status == TenderStatus.PUBLISHED))
    if lead_user is None or collecterie is None or tender is None:
        return None
    partner_user = services.find_user_by_email(GME_PARTNER_EMAIL)
    if partner_user is None:
        partner = db.session.scalar(
            select(Structure).where(Structure.department_code == "93", Structure.owner_organisation_id.is_(None),
                                    Structure.siret.is_not(None), Structure.id != collecterie.id,
                                    Structure.publication == Publication.PUBLISHED,
                                    or_(*[Structure.kinds.any(kind) for kind in sorted(SIAE_KINDS)]))
            .order_by(Structure.name, Structure.id).limit(1))
        if partner is None or services.find_organisation_by_siret(partner.siret) is not None:
            return None
        partner_user = services.create_user(GME_PARTNER_EMAIL, DEMO_PASSWORD, "Thomas Petit", confirmed=True)
        organisation = services.create_organisation(partner_user, services.OrganisationData(
            name=partner.display_name[:250], kind=OrganisationKind.INCLUSIVE_STRUCTURE, siret=partner.siret,
            city=partner.city))
        partner.owner_organisation_id, partner.claimed_at = organisation.id, utcnow()
        db.session.flush()
    partner = db.session.scalar(select(Structure).where(
        Structure.owner_organisation_id == partner_user.organisation.id).order_by(Structure.id).limit(1))
    if partner is None:
        return None
    if db.session.scalar(select(Grouping.id).where(Grouping.tender_id == tender.id)) is None:
        grouping = groupings.start(lead_user, tender, collecterie, [lot.id for lot in tender.lots], "solidaire")
        member = groupings.invite_structure(lead_user, grouping, partner,
                                            "Passages du mardi, tri et démantèlement du petit électroménager")
        groupings.answer_invitation(partner_user, member, True)
        for grouping_lot in grouping.lots:
            groupings.set_shares(lead_user, grouping, grouping_lot, {grouping.mandataire_id: "60", member.id: "40"})
        grouping.mandataire.services = "Enlèvement, réemploi et don du mobilier, bordereaux de suivi"
        groupings.post_message(partner_user, grouping, GME_MESSAGE)
        groupings.confirm(lead_user, grouping)
        db.session.flush()
    return login


# --- contracts and insertion hours (issue 22) ---------------------------------------------------------------------

INSERTION_DEMO_TITLE = "Nettoyage des équipements sportifs de la Métropole lilloise"
#: (code, birth year, sex, publics, QPV) of the demo participants, in the demo facilitator's records
DEMO_PARTICIPANTS = [("MEL-2026-001", 1988, "F", ["long_term_jobseeker"], True),
                     ("MEL-2026-002", 2004, "M", ["young_unqualified"], False),
                     ("MEL-2026-003", 1971, "F", ["over_50", "minimum_income"], True),
                     ("MEL-2026-004", 1995, "M", ["iae"], False),
                     ("MEL-2026-005", 1999, "F", ["disability"], False)]


def _months_back(day, count: int):
    index = day.year * 12 + day.month - 1 - count
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def create_insertion_demo() -> None:
    """The awarded demo lots with an insertion clause become contracts (as the award event does), and the demo
    facilitator follows a contract held by La Collecterie in Lille: five participants, eight months of hours
    (validated, one rejected with its reason, one corrected, the last month waiting for a decision), the first
    months locked. Created once: a second run finds the contract by its title."""
    from datetime import timedelta
    from decimal import Decimal

    from sqlalchemy import select

    from .clauses.spec import ClauseSpec
    from .core.dates import today
    from .insertion import services as insertion
    from .insertion.models import Contract, Participant
    from .tenders.award import award_event
    from .tenders.models import LotAward, LotStatus, TenderLot

    refuse_in_production()
    for lot in db.session.scalars(select(TenderLot).where(TenderLot.status == LotStatus.AWARDED)):
        award = db.session.scalar(select(LotAward).where(LotAward.lot_id == lot.id, LotAward.awarded.is_(True)))
        if award is None or award.awarded_on is None:
            continue
        spec = ClauseSpec.from_json(lot.clauses)
        insertion.from_award(db.session, award_event(lot.tender, lot, award, spec))
    facilitator = services.find_user_by_email("facilitateur@demo.marche.local")
    structure_user = services.find_user_by_email("structure@demo.marche.local")
    if facilitator is None or structure_user is None or not facilitator.organisation.trusted:
        db.session.flush()
        return
    if db.session.scalar(select(Contract.id).where(Contract.title == INSERTION_DEMO_TITLE)) is not None:
        return
    day = today()
    first = _months_back(day, 8)
    contract = insertion.create_contract(facilitator, facilitator.organisation, insertion.ContractData(
        title=INSERTION_DEMO_TITLE, reference="MEL-2026-017", buyer_name="Métropole Européenne de Lille",
        cpv_codes="90911200-8", amount="620000", starts_on=first, ends_on=first + timedelta(days=729),
        place_ref="commune:59350", holder_siret=COLLECTERIE_SIRET, holder_name="La Collecterie",
        hours_target="2400", modes=["direct_hire", "made_available"],
        publics=["long_term_jobseeker", "young_unqualified", "over_50", "minimum_income", "iae", "disability"]))
    if contract.holder_organisation_id is None:
        contract.holder_organisation_id = structure_user.organisation.id
    people = []
    for code, year, sex, publics, qpv in DEMO_PARTICIPANTS:
        person = db.session.scalar(select(Participant).where(
            Participant.keeper_organisation_id == facilitator.organisation.id, Participant.code == code))
        people.append(person or insertion.create_participant(facilitator, facilitator.organisation.id,
                                                             insertion.ParticipantData(
                                                                 code=code, birth_year=year, sex=sex,
                                                                 publics=publics, qpv=qpv)))
    for person in people[:3]:
        insertion.record_eligibility(facilitator, person, first)
    holder_org = contract.holder_organisation_id
    for back in range(8, 0, -1):  # eight finished months, the oldest first
        month = _months_back(day, back)
        for index, person in enumerate(people[: 2 + min(3, 8 - back)]):
            hours = Decimal(60 + 15 * index + 5 * (back % 3))
            mode = "made_available" if index == 4 else "direct_hire"
            line = insertion.declare(structure_user, holder_org, contract,
                                     insertion.LineInput(person, month, mode, hours))
            if back == 1:
                continue  # last month: waiting for the facilitator
            if back == 3 and index == 1:
                insertion.reject(facilitator, line, "Heures hors de la période du contrat de travail : "
                                                    "joindre l'avenant.")
                continue
            insertion.validate(facilitator, line)
            if back == 4 and index == 0:
                correction = insertion.correct(structure_user, holder_org, line, mode, hours - 12)
                insertion.validate(facilitator, correction)
    for back in (8, 7, 6):
        insertion.lock_month(facilitator, contract, _months_back(day, back))
    # two participants whose mission ended: where they stand six months after (the year's bilan counts them)
    from .insertion.indicators import record_exit

    record_exit(facilitator, people[0], contract, "cdi", day - timedelta(days=10))
    record_exit(facilitator, people[1], contract, "training", day - timedelta(days=3))
    db.session.flush()
