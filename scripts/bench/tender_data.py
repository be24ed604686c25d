"""The tender benches' data, in the bench's own database: 20 000 published tenders of varied places, kinds,
reservations, clauses and CPV codes (200 of them published in the last day: a digest's new tenders), indexed
in the bench's `tenders` index. Made once and kept (idempotent)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select, text

from marche.accounts.models import Organisation, OrganisationKind
from marche.clauses.spec import ClauseSpec, Criterion, InsertionSpec
from marche.extensions import db
from marche.search.indexer import reindex
from marche.tenders.models import Tender, TenderLot
from marche.tenders.search_documents import TENDERS, tenders_index

TENDER_COUNT, FRESH = 20_000, 200
BUYER_SIRET = "21590350099987"
WORDS = ["nettoyage", "espaces verts", "restauration", "collecte des déchets", "blanchisserie", "voirie",
         "entretien des bâtiments", "déménagement", "imprimerie", "numérisation", "recyclage", "menuiserie"]
CPV = ["90910000-9", "77310000-6", "55523100-3", "90511000-2", "98310000-9", "45233140-2", "50700000-2",
       "98392000-7", "79800000-2", "79999100-4", "90514000-3", "45421000-4"]
RESERVATIONS = [None, None, None, "siae", "disability", "both"]
INSERTION = InsertionSpec(Decimal(300_000), Decimal("0.5"), Decimal("0.05"), Decimal(30), modes=("direct_hire",),
                          publics=("long_term_jobseeker",))


def places() -> list[str]:
    departments = list(db.session.execute(text("SELECT code FROM department ORDER BY code")).scalars())
    communes = list(db.session.execute(text("SELECT code FROM commune ORDER BY code LIMIT 3000")).scalars())
    return [f"dep:{d}" for d in departments] + [f"commune:{c}" for c in communes[::10]] + ["reg:32", "reg:11",
                                                                                           "country:FR"]


def ensure_tenders() -> int:
    """Create the missing tenders (bulk inserts), then make sure the index holds them; returns how many."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.siret == BUYER_SIRET))
    if organisation is None:
        organisation = Organisation(name="Métropole du banc d'essai", kind=OrganisationKind.PUBLIC_BUYER,
                                    siret=BUYER_SIRET, buyer_category="local_authority",
                                    verification_status="not_required")
        db.session.add(organisation)
        db.session.commit()
    have = db.session.scalar(select(func.count()).select_from(Tender).where(Tender.organisation_id == organisation.id))
    rng, now, where = random.Random(20), datetime.now(timezone.utc), places()
    for start in range(have, TENDER_COUNT, 2000):
        rows = []
        for n in range(start, min(start + 2000, TENDER_COUNT)):
            word = WORDS[n % len(WORDS)]
            published = now - (timedelta(hours=rng.randint(1, 20)) if n % (TENDER_COUNT // FRESH) == 0
                               else timedelta(days=rng.randint(2, 60)))
            rows.append({"organisation_id": organisation.id, "title": f"{word.capitalize()} — marché n° {n + 1}",
                         "object": f"Prestations de {word} pour les services de la collectivité", "status": "published",
                         "kind": ["call_for_tenders", "quote_request", "sourcing"][n % 3], "nature": "services",
                         "cpv_codes": [CPV[n % len(CPV)]], "place_ref": where[rng.randrange(len(where))],
                         "answers_deadline": now + timedelta(days=rng.randint(3, 90), minutes=n),
                         "published_at": published, "amount": Decimal(50_000 + n)})
        ids = db.session.execute(insert(Tender).returning(Tender.id), rows).scalars().all()
        lots = []
        for n, tender_id in enumerate(ids, start=start):
            reservation = RESERVATIONS[n % len(RESERVATIONS)]
            spec = ClauseSpec(insertion=INSERTION if n % 2 else None, reservation=reservation,
                              environmental_conditions=("reuse",) if n % 4 == 0 else (),
                              social_criterion=Criterion(Decimal(10)) if n % 5 == 0 else None)
            lots.append({"tender_id": tender_id, "position": 1, "title": "Lot unique", "clauses": spec.to_json(),
                         "description": f"Lot de {WORDS[(n + 3) % len(WORDS)]}"})
        db.session.execute(insert(TenderLot), lots)
        db.session.commit()
    try:
        indexed = tenders_index().get_stats().number_of_documents
    except Exception:  # noqa: BLE001 - no index yet
        indexed = 0
    total = db.session.scalar(select(func.count()).select_from(Tender).where(Tender.status == "published"))
    if indexed != total:
        reindex(TENDERS)
    return total
