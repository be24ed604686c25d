"""Relay, publication: a buyer publishes a tender matching 2 000 claimed structures (POST …/publier through the
Flask stack, without the network); the request must answer in ≤ 300 ms because it only queues the relay. Beside
it, the reference measured in the same run: the relay job itself (matching through Meilisearch, 2 000
notifications and lot responses inserted, 40 mail batches queued), as the worker runs it.

The outbox rows go to an RQ queue of the bench's own (`REDIS_URL`, else the local Redis), never run: no mail
leaves. The bench's structures, their organisations and the buyer are made once and kept (idempotent); the
outbox rows and queued jobs of the run are removed at the end.
"""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from common import ROOT, summary

from marche import create_app
from marche.accounts.models import Membership, MemberRole, Organisation, OrganisationKind, User
from marche.accounts.passwords import hash_password
from marche.clauses.spec import ClauseSpec, Criterion, InsertionSpec
from marche.core import outbox
from marche.core.models import OutboxMessage
from marche.extensions import db
from marche.reference.models import Sector
from marche.search.structures import index_structures
from marche.suppliers.models import Structure
from marche.suppliers.services import refresh_derived
from marche.tenders import relay
from marche.tenders.models import Tender, TenderLot, TenderNotification, TenderStatus

STRUCTURES, PUBLICATIONS = 2000, 8
TARGET_MS = 300.0
BUYER_EMAIL = "bench.relais@marche.example.fr"
BUYER_SIRET = "21590350099987"
SIRET_PREFIX = "990"  # the bench's synthetic structures: 990 + 11 digits
LILLE = dict(commune_code="59350", department_code="59", region_code="32", latitude=50.6319, longitude=3.0575,
             city="Lille", postcode="59000")
CLAUSES = ClauseSpec(insertion=InsertionSpec(Decimal(400_000), Decimal("0.5"), Decimal("0.05"), Decimal(30),
                                             modes=("direct_hire",), publics=("long_term_jobseeker",)),
                     environmental_conditions=("reuse",), environmental_criterion=Criterion(Decimal(15))).to_json()


def bench_sector() -> Sector:
    return db.session.scalar(db.select(Sector).order_by(Sector.id).limit(1))


def bench_buyer() -> User:
    user = db.session.scalar(db.select(User).where(User.email == BUYER_EMAIL))
    if user is None:
        organisation = Organisation(name="Ville du banc du relais", kind=OrganisationKind.PUBLIC_BUYER,
                                    siret=BUYER_SIRET, buyer_category="local_authority",
                                    verification_status="not_required")
        user = User(email=BUYER_EMAIL, password_hash=hash_password("banc-d-essai-1"), full_name="Banc du relais",
                    email_confirmed_at=datetime.now(timezone.utc))
        db.session.add_all([organisation, user, Membership(user=user, organisation=organisation,
                                                           role=MemberRole.ADMIN)])
        db.session.commit()
    return user


def bench_structures(sector: Sector) -> list[int]:
    """2 000 claimed structures around Lille in the bench sector, each with its organisation and one member."""
    have = db.session.scalar(db.select(db.func.count()).select_from(Structure).where(
        Structure.siret.like(SIRET_PREFIX + "%")))
    password = hash_password("banc-d-essai-1")
    for n in range(have, STRUCTURES):
        organisation = Organisation(name=f"Structure du banc {n}", kind=OrganisationKind.INCLUSIVE_STRUCTURE,
                                    siret=f"{SIRET_PREFIX}{n:011d}")
        user = User(email=f"bench.relais.{n}@marche.example.fr", password_hash=password, full_name=f"Membre {n}",
                    email_confirmed_at=datetime.now(timezone.utc))
        structure = Structure(siret=f"{SIRET_PREFIX}{n:011d}", siren=f"{SIRET_PREFIX}{n:011d}"[:9],
                              name=f"Atelier du banc {n}", kinds=["ACI"], source="synthetic", area_kind="radius",
                              area_radius_km=30, area_refs=[], **LILLE)
        structure.sectors = [sector]
        db.session.add_all([organisation, user, Membership(user=user, organisation=organisation), structure])
        db.session.flush()
        structure.owner_organisation_id = organisation.id
        refresh_derived(structure)
        if n % 200 == 199:
            db.session.commit()
    db.session.commit()
    ids = list(db.session.execute(db.select(Structure.id).where(Structure.siret.like(SIRET_PREFIX + "%"))
                                  .order_by(Structure.id)).scalars())
    if have < STRUCTURES:
        for start in range(0, len(ids), 500):
            index_structures(db.session, ids[start:start + 500], wait=True)
    return ids


def new_tender(buyer: User, sector: Sector, n: int) -> int:
    now = datetime.now(timezone.utc)
    tender = Tender(organisation_id=buyer.organisation.id, created_by_id=buyer.id, title=f"Relais n° {n}",
                    object="Entretien des espaces verts.", kind="call_for_tenders", cpv_codes=["77310000-6"],
                    nature="services", place_ref="commune:59350", amount=Decimal(300_000), duration_months=12,
                    launch_date=(now + timedelta(days=30)).date(), answers_deadline=now + timedelta(days=30),
                    questions_deadline=now + timedelta(days=20), status=TenderStatus.SUBMITTED,
                    submitted_at=now, validated_at=now, allotted=False)
    tender.sectors = [sector]
    tender.lots = [TenderLot(position=1, title="Lot unique", amount=Decimal(300_000), clauses=CLAUSES)]
    db.session.add(tender)
    db.session.commit()
    return tender.id


def main() -> None:
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    app = create_app({"WTF_CSRF_ENABLED": False, "REDIS_URL": redis_url, "RQ_QUEUE": "bench-relay-outbox"})
    queue = outbox.rq_queue(app)
    queue.connection.ping()  # the request hands its rows to this queue: a Redis must answer
    with app.app_context():
        buyer, sector = bench_buyer(), bench_sector()
        token = buyer.session_token
        structures = bench_structures(sector)
        first_message = db.session.scalar(db.select(db.func.max(OutboxMessage.id))) or 0
        tender_ids = [new_tender(buyer, sector, n) for n in range(PUBLICATIONS + 1)]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = token, True

    publish_ms, relay_ms, matched = [], [], []
    try:
        for n, tender_id in enumerate(tender_ids):
            started = time.perf_counter()
            response = client.post(f"/consultations/{tender_id}/publier")
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 302, response.status_code
            with app.app_context():
                message_id = db.session.scalar(db.select(OutboxMessage.id).where(
                    OutboxMessage.kind == relay.RELAY, OutboxMessage.payload["tender_id"].as_integer() == tender_id))
                db.session.remove()
                started = time.perf_counter()
                status = outbox.process(message_id)  # the worker's run of the relay job
                job = (time.perf_counter() - started) * 1000
                assert status == "done", status
                matched.append(db.session.scalar(db.select(db.func.count()).select_from(TenderNotification)
                                                 .where(TenderNotification.tender_id == tender_id)))
            if n:  # the first of each is a warm-up (connections, templates, Meilisearch caches)
                publish_ms.append(elapsed)
                relay_ms.append(job)
    finally:
        queue.empty()
        with app.app_context():
            db.session.execute(db.delete(OutboxMessage).where(OutboxMessage.id > first_message))
            db.session.commit()
    rows = [(f"POST …/publier (consultation de {matched[-1]} structures)", summary(publish_ms), TARGET_MS),
            ("  référence : le travail du relais (file d'attente)", summary(relay_ms), None)]
    print(f"\nRelais — {len(publish_ms)} publications, {len(structures)} structures du banc "
          f"(client Flask, sans réseau, outbox vers RQ)\n")
    print(f"{'mesure':<58} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cible max':>10}  verdict")
    for label, figures, target in rows:
        verdict = "" if target is None else ("OK" if figures["max"] <= target else "AU-DESSUS")
        print(f"{label:<58} {figures['p50']:>8.1f} {figures['p95']:>8.1f} {figures['max']:>8.1f} "
              f"{'' if target is None else f'{target:.0f}':>10}  {verdict}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "relay.json").write_text(json.dumps({"structures_matched": matched[-1],
                                                **{label: figures for label, figures, _ in rows}},
                                               indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
