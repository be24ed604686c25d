"""Insertion hours dashboards at scale (issue 22): 5 000 contracts and 1 000 000 declaration lines, then a
territory-year dashboard (target ≤ 200 ms), a contract dashboard (≤ 50 ms) and a contract bilan PDF (≤ 1.5 s),
server-side, p50 and p95 printed beside the targets; results in scripts/bench/results/hours_dashboards.json.

The data lives in the bench's own database, generated once (one transaction, by `INSERT … SELECT
generate_series`, seeded): 10 verified facilitators (« territories ») keep 500 contracts each, all bought by the
bench buyer; 2 000 pseudonymous participants per facilitator; 200 lines per contract over its months up to
November 2026 (85 % validated, 8 % waiting, 7 % rejected), and 2 % of the validated lines corrected (70 % of the
corrections validated). A territory-year is one facilitator's 500 contracts in 2025 (about a third of its
100 000 lines); the buyer's year (all 5 000 contracts, about 330 000 lines) is measured too, with no target.

`--contracts` and `--lines-per-contract` make a smaller set (e.g. 500 × 200 = 100 000 lines) for a quick reading
on a scratch database: `DATABASE_URL=… python scripts/bench/hours_dashboards.py --contracts 500`.
"""
from __future__ import annotations

import argparse
import json
import time
from datetime import date, datetime, timezone

from common import ROOT, summary

from flask import render_template
from flask_login import login_user
from sqlalchemy import text

from marche import create_app
from marche.accounts.models import Membership, MemberRole, Organisation, OrganisationKind, User
from marche.core import documents
from marche.extensions import db
from marche.insertion import bilans, indicators
from marche.insertion.models import Contract

FACILITATORS = 10
CONTRACTS = 5_000
LINES_PER_CONTRACT = 200
PARTICIPANTS_PER_FACILITATOR = 2_000
YEAR = 2025
TITLE = "Banc d'essai des heures, marché n° "
TARGETS_MS = {"territory_year": 200.0, "contract_dashboard": 50.0, "contract_pdf": 1_500.0}
RUNS = {"territory_year": 20, "buyer_year": 5, "contract_dashboard": 50, "contract_pdf": 5}
MODES = "ARRAY['direct_hire', 'made_available', 'subcontracting', 'training']"
PUBLICS = ("'{}'", "'{long_term_jobseeker}'", "'{minimum_income,disability}'", "'{young_unqualified}'",
           "'{plie,iae}'")


def bench_siret(n: int) -> str:
    """A valid SIRET of the bench's facilitators (Luhn key), none other uses: 31590350 0 n … k."""
    from marche.core.identifiers import is_valid_siret

    return next(candidate for key in range(10)
                if is_valid_siret(candidate := f"3159035009{n:03d}{key}"))


def bench_facilitators() -> list[Organisation]:
    """The bench's verified facilitators, each with one member (made once)."""
    from marche.accounts.passwords import hash_password

    found = list(db.session.scalars(db.select(Organisation).where(Organisation.name.like("PLIE du banc d'essai %"))
                                    .order_by(Organisation.id)))
    for n in range(len(found), FACILITATORS):
        organisation = Organisation(name=f"PLIE du banc d'essai {n + 1}", kind=OrganisationKind.FACILITATOR,
                                    siret=bench_siret(n), territories=[f"dep:{59 + n}"], verification_status="verified")
        user = User(email=f"plie-{n + 1}@banc-d-essai.example.fr", password_hash=hash_password("banc-d-essai-1"),
                    full_name="Banc d'essai", email_confirmed_at=datetime.now(timezone.utc))
        db.session.add_all([organisation, user, Membership(user=user, organisation=organisation,
                                                           role=MemberRole.ADMIN)])
        db.session.flush()
        found.append(organisation)
    db.session.commit()
    return found


def generate(buyer: Organisation, facilitators: list[Organisation], contracts: int, per_contract: int) -> float:
    """The contracts, participants and lines, in one transaction (nothing half made); seconds taken."""
    started = time.perf_counter()
    ids = "ARRAY[" + ", ".join(str(f.id) for f in facilitators) + "]"
    run = lambda sql, **params: db.session.execute(text(sql), params)  # noqa: E731
    run("SELECT setseed(0.22)")
    # months from the month of `a` to the month of `b`, both included (a temporary helper of this transaction)
    run("""CREATE FUNCTION pg_temp.months_between(a date, b date) RETURNS int LANGUAGE sql IMMUTABLE AS
           $$ SELECT ((extract(year FROM b) - extract(year FROM a)) * 12
                      + extract(month FROM b) - extract(month FROM a))::int + 1 $$""")
    run(f"""
        INSERT INTO participant (keeper_organisation_id, code, birth_year, sex, publics, qpv, zrr)
        SELECT f, 'BENCH-' || n, 1960 + (n * 13) % 47, CASE WHEN n % 2 = 0 THEN 'F' ELSE 'M' END,
               CASE n % 5 {" ".join(f"WHEN {i} THEN {p}::varchar[]" for i, p in enumerate(PUBLICS))} END,
               n % 4 = 0, n % 9 = 0
        FROM unnest({ids}) AS f, generate_series(0, :people - 1) AS n
        ON CONFLICT DO NOTHING""", people=PARTICIPANTS_PER_FACILITATOR)
    run("""CREATE TEMP TABLE bench_pool ON COMMIT DROP AS
           SELECT keeper_organisation_id AS keeper, split_part(code, '-', 2)::int AS n, id FROM participant
           WHERE code LIKE 'BENCH-%'""")
    run("CREATE INDEX ON bench_pool (keeper, n)")
    run(f"""
        INSERT INTO contract (title, buyer_organisation_id, buyer_name, starts_on, ends_on, place_ref, holder_kind,
                              holder_siret, holder_name, hours_target, facilitator_organisation_id, status)
        SELECT CAST(:title AS text) || g, :buyer, :buyer_name, start,
               (start + make_interval(months => 12 + g % 25) - interval '1 day')::date,
               'dep:' || (59 + g % {FACILITATORS}), 'company', NULL, 'Titulaire ' || g, 500 + (g % 40) * 100,
               ({ids})[1 + g % {FACILITATORS}], 'active'
        FROM generate_series(1, :contracts) AS g,
             LATERAL (SELECT (DATE '2024-01-01' + make_interval(months => (g * 7) % 24))::date AS start) AS s""",
        title=TITLE, buyer=buyer.id, buyer_name=buyer.name, contracts=contracts)
    run(f"""
        INSERT INTO hours_declaration (contract_id, participant_id, month, mode, hours, status, rejection_reason)
        SELECT c.id, p.id, (c.first_month + make_interval(months => l.g % c.span))::date, ({MODES})[1 + l.g % 4],
               round((1 + l.r2 * 150)::numeric, 2),
               CASE WHEN l.r < 0.85 THEN 'validated' WHEN l.r < 0.93 THEN 'submitted' ELSE 'rejected' END,
               CASE WHEN l.r >= 0.93 THEN 'Banc d''essai' END
        FROM (SELECT id, facilitator_organisation_id AS keeper, row_number() OVER (ORDER BY id) AS rn,
                     date_trunc('month', starts_on)::date AS first_month,
                     least(pg_temp.months_between(starts_on, ends_on),
                           pg_temp.months_between(starts_on, DATE '2026-11-01')) AS span
              FROM contract WHERE title LIKE :pattern) AS c
        CROSS JOIN LATERAL (SELECT g, random() AS r, random() AS r2 FROM generate_series(0, :lines - 1) AS g
                            WHERE c.id IS NOT NULL) AS l
        JOIN bench_pool AS p ON p.keeper = c.keeper AND p.n = (c.rn * 31 + l.g * 7) % :people""",
        pattern=TITLE + "%", lines=per_contract, people=PARTICIPANTS_PER_FACILITATOR)
    run("""
        INSERT INTO hours_declaration (contract_id, participant_id, month, mode, hours, status, corrects_id)
        SELECT contract_id, participant_id, month, mode, greatest(1, round(hours * 0.8, 2)),
               CASE WHEN random() < 0.7 THEN 'validated' ELSE 'submitted' END, id
        FROM hours_declaration
        WHERE status = 'validated' AND corrects_id IS NULL AND random() < 0.02
          AND contract_id IN (SELECT id FROM contract WHERE title LIKE :pattern)""", pattern=TITLE + "%")
    db.session.commit()
    for table in ("contract", "participant", "hours_declaration"):
        db.session.execute(text(f"ANALYZE {table}"))
    db.session.commit()
    return time.perf_counter() - started


def timed(function, runs: int) -> dict[str, float]:
    function(0)  # warm: the first call loads templates and plans
    values = []
    for i in range(runs):
        started = time.perf_counter()
        function(i)
        values.append((time.perf_counter() - started) * 1000)
    return summary(values)


def main() -> None:
    from tenders_bench import bench_buyer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=CONTRACTS)
    parser.add_argument("--lines-per-contract", type=int, default=LINES_PER_CONTRACT)
    options = parser.parse_args()
    app = create_app()
    results: dict[str, dict] = {}
    with app.app_context():
        buyer = bench_buyer().organisation
        facilitators = bench_facilitators()
        made = db.session.scalar(db.select(db.func.count()).select_from(Contract).where(Contract.title.like(
            TITLE + "%")))
        generated_s = None
        if not made:
            generated_s = generate(buyer, facilitators, options.contracts, options.lines_per_contract)
        counts = db.session.execute(text("""
            SELECT count(DISTINCT c.id), count(h.id) FROM contract c JOIN hours_declaration h ON h.contract_id = c.id
            WHERE c.title LIKE :pattern"""), {"pattern": TITLE + "%"}).one()
        territory = facilitators[0]
        member = db.session.scalar(db.select(User).join(Membership).where(Membership.organisation_id == territory.id))
        contract_ids = list(db.session.scalars(db.select(Contract.id).where(
            Contract.title.like(TITLE + "%"), Contract.facilitator_organisation_id == territory.id)
            .order_by(Contract.id)))
        year_lines = db.session.scalar(text("""
            SELECT count(*) FROM hours_declaration h JOIN contract c ON c.id = h.contract_id
            WHERE c.facilitator_organisation_id = :f AND h.month BETWEEN :a AND :b"""),
            {"f": territory.id, "a": date(YEAR, 1, 1), "b": date(YEAR, 12, 1)})
        member_id, territory_id, buyer_id = member.id, territory.id, buyer.id

    def page(path: str):
        def call(_):
            with app.test_request_context(path):
                login_user(db.session.get(User, member_id))
                response = app.full_dispatch_request()
                assert response.status_code == 200, (path, response.status_code)
                db.session.remove()
        return call

    def year_of(organisation_id: int):
        def call(_):
            with app.test_request_context():
                figures = indicators.organisation_year(db.session.get(Organisation, organisation_id), YEAR)
                render_template("insertion/bilan_year.html", organisation=db.session.get(Organisation,
                                                                                         organisation_id),
                                figures=figures, years=[YEAR], others=[])
                db.session.remove()
        return call

    def contract_dashboard(i: int):
        with app.test_request_context():
            contract = db.session.get(Contract, contract_ids[(i * 37) % len(contract_ids)])
            render_template("insertion/_contract_dashboard.html", figures=indicators.contract_figures(contract))
            db.session.remove()

    def contract_pdf(i: int):
        with app.test_request_context():
            contract = db.session.get(Contract, contract_ids[(i * 37) % len(contract_ids)])
            documents.render_document(bilans.CONTRACT_BILAN, bilans.contract_bilan_params(contract))
            db.session.remove()

    results["territory_year"] = timed(page(f"/bilans/{YEAR}?organisation={territory_id}"), RUNS["territory_year"])
    results["buyer_year"] = timed(year_of(buyer_id), RUNS["buyer_year"])
    results["contract_dashboard"] = timed(contract_dashboard, RUNS["contract_dashboard"])
    results["contract_pdf"] = timed(contract_pdf, RUNS["contract_pdf"])

    print(f"\nTableaux de bord des heures d'insertion — {counts[0]} marchés, {counts[1]} lignes"
          f" ({year_lines} lignes dans l'année {YEAR} du territoire mesuré)\n")
    print(f"{'mesure':<44} {'p50 ms':>8} {'p95 ms':>8} {'cible ms':>9}  verdict")
    labels = {"territory_year": "Bilan annuel d'un territoire (page)",
              "buyer_year": "Bilan annuel de l'acheteur (tous ses marchés)",
              "contract_dashboard": "Tableau de bord d'un marché", "contract_pdf": "Bilan PDF d'un marché"}
    for key, label in labels.items():
        target = TARGETS_MS.get(key)
        verdict = "—" if target is None else ("OK" if results[key]["p95"] <= target else "AU-DESSUS")
        print(f"{label:<44} {results[key]['p50']:>8.1f} {results[key]['p95']:>8.1f} "
              f"{(f'{target:.0f}' if target else '—'):>9}  {verdict}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "hours_dashboards.json").write_text(json.dumps(
        {"contracts": counts[0], "lines": counts[1], "territory_year_lines": year_lines, "year": YEAR,
         "generated_s": generated_s, "targets_ms": TARGETS_MS, **results}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
