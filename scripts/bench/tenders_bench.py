"""Tenders, drafting: « Mes consultations » of an organisation holding 2 000 tenders (the page as served, through the
Flask stack without the network), and the live legal check beside the clause builder (the service, and the htmx
POST that answers the checklist), printed beside issue 19's targets.

The bench buyer and its 2 000 tenders live in the bench's own database (made once, kept: the script is idempotent).
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from common import ROOT, summary

from marche import create_app
from marche.accounts.models import Membership, MemberRole, Organisation, OrganisationKind, User
from marche.accounts.passwords import hash_password
from marche.clauses.spec import ClauseSpec, Criterion, InsertionSpec
from marche.extensions import db
from marche.tenders import drafting
from marche.tenders.models import Tender, TenderLot, TenderStatus

TENDERS, PAGE_CALLS, CHECK_CALLS = 2000, 100, 1000
MINE_TARGET_MS, CHECK_TARGET_MS = 100.0, 50.0
BENCH_SIRET = "21590350099995"
BENCH_EMAIL = "bench.acheteur@marche.example.fr"
STATUSES = [TenderStatus.DRAFT, TenderStatus.SUBMITTED, TenderStatus.PUBLISHED, TenderStatus.CLOSED,
            TenderStatus.AWARDED, TenderStatus.CANCELLED]
CLAUSES = ClauseSpec(insertion=InsertionSpec(Decimal(400_000), Decimal("0.5"), Decimal("0.05"), Decimal(30),
                                             modes=("direct_hire",), publics=("long_term_jobseeker",)),
                     environmental_conditions=("reuse",), environmental_criterion=Criterion(Decimal(15))).to_json()
FORM = {"insertion": "y", "amount_basis": "400000", "labour_share": "50", "insertion_rate": "5", "hourly_cost": "30",
        "modes": "direct_hire", "publics": "long_term_jobseeker", "environmental_conditions": "reuse",
        "environmental_criterion": "y", "environmental_criterion_weight": "15"}


def bench_buyer() -> User:
    """The bench's public buyer and its 2 000 tenders of every status, 2 lots each (made once)."""
    user = db.session.scalar(db.select(User).where(User.email == BENCH_EMAIL))
    if user is None:
        organisation = Organisation(name="Ville du banc d'essai", kind=OrganisationKind.PUBLIC_BUYER,
                                    siret=BENCH_SIRET, buyer_category="local_authority",
                                    verification_status="not_required")
        user = User(email=BENCH_EMAIL, password_hash=hash_password("banc-d-essai-1"), full_name="Banc d'essai",
                    email_confirmed_at=datetime.now(timezone.utc))
        db.session.add_all([organisation, user, Membership(user=user, organisation=organisation,
                                                           role=MemberRole.ADMIN)])
        db.session.flush()
    organisation = user.organisation
    have = db.session.scalar(db.select(db.func.count()).select_from(Tender).where(
        Tender.organisation_id == organisation.id))
    now = datetime.now(timezone.utc)
    for n in range(have, TENDERS):
        tender = Tender(organisation_id=organisation.id, title=f"Consultation n° {n + 1}", status=STATUSES[n % 6],
                        nature="services", amount=Decimal(200_000 + n), cpv_codes=["77310000-6"],
                        place_ref="dep:59", allotted=True, answers_deadline=now + timedelta(days=n % 60 - 20),
                        launch_date=(now + timedelta(days=1)).date())
        tender.lots = [TenderLot(position=1, title="Lot 1", amount=Decimal(100_000), clauses=CLAUSES),
                       TenderLot(position=2, title="Lot 2", amount=Decimal(100_000), clauses={})]
        db.session.add(tender)
    db.session.commit()
    return user


def timed(function, calls: int, cpu: list[float] | None = None) -> dict[str, float]:
    """Wall clock per call (ms); `cpu` collects this process's CPU time per call, which a machine shared with
    other work does not inflate (the wall clock then also counts the wait for a core and for PostgreSQL)."""
    values = []
    for i in range(calls):
        started, cpu_started = time.perf_counter(), time.process_time()
        function(i)
        values.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - cpu_started) * 1000)
    return summary(values)


def main() -> None:
    app = create_app({"WTF_CSRF_ENABLED": False})
    with app.app_context():
        user = bench_buyer()
        token, draft = user.session_token, db.session.scalar(db.select(Tender).where(
            Tender.organisation_id == user.organisation.id, Tender.status == TenderStatus.DRAFT).limit(1))
        tender_id, lot_id = draft.id, draft.lots[0].id
        count = db.session.scalar(db.select(db.func.count()).select_from(Tender).where(
            Tender.organisation_id == user.organisation.id))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = token, True

    def page(i: int) -> None:
        response = client.get("/consultations/mes-consultations", query_string={"page": 1 + i % 40})
        assert response.status_code == 200, response.status_code

    def check_post(i: int) -> None:
        response = client.post(f"/consultations/{tender_id}/lots/{lot_id}/clauses/verification",
                               data={**FORM, "amount_basis": str(400_000 + i)})
        assert response.status_code == 200, response.status_code

    page(0)
    page_cpu: list[float] = []
    rows = [(f"GET /consultations/mes-consultations ({count} consultations)", timed(page, PAGE_CALLS, page_cpu),
             MINE_TARGET_MS),
            ("  même page, temps CPU du processus Flask", summary(page_cpu), MINE_TARGET_MS)]
    with app.test_request_context():
        lot = db.session.get(TenderLot, lot_id)
        rows.append(("Vérification en direct (service)", timed(lambda i: drafting.live_check(
            lot, {**FORM, "modes": ["direct_hire"], "publics": ["long_term_jobseeker"],
                  "environmental_conditions": ["reuse"], "amount_basis": str(400_000 + i)}), CHECK_CALLS),
                     CHECK_TARGET_MS))
    check_cpu: list[float] = []
    rows.append(("POST …/clauses/verification (htmx, page partielle)", timed(check_post, CHECK_CALLS // 4, check_cpu),
                 CHECK_TARGET_MS))
    rows.append(("  même requête, temps CPU du processus Flask", summary(check_cpu), CHECK_TARGET_MS))
    print(f"\nConsultations — {PAGE_CALLS} pages, {CHECK_CALLS} vérifications (client Flask, sans réseau)\n")
    print(f"{'mesure':<58} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cible p95':>10}  verdict")
    for label, figures, target in rows:
        print(f"{label:<58} {figures['p50']:>8.2f} {figures['p95']:>8.2f} {figures['max']:>8.2f} "
              f"{target:>10.1f}  {'OK' if figures['p95'] <= target else 'AU-DESSUS'}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "tenders.json").write_text(json.dumps({"tenders": count, **{label: figures for label, figures, _ in rows}},
                                                 indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
