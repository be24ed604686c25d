"""Clauses: the legal check and the hours calculator per call (in process, and through the API's Flask stack
without the network), and the 10-lot clause annex PDF (wall clock and CPU), printed beside issue 19's targets."""
from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal

from common import ROOT, timed

from marche import create_app
from marche.clauses import calculator, legal
from marche.clauses.annex import ANNEX_DOCUMENT, InsertionTerms, LotAnnex, annex_params
from marche.clauses.legal import LotClauses, TenderFacts
from marche.core.documents import render_document

CALLS, PDF_RUNS = 2000, 5
CHECK_TARGET_MS, PDF_TARGET_S = 50.0, 1.5


def ten_lots() -> list[LotClauses]:
    return [LotClauses(f"Lot {n}", insertion_clause=n % 2 == 0, social_criterion_weight=Decimal(10),
                       environmental_condition=True, environmental_criterion_weight=Decimal(15)) for n in range(10)]


def annex_lots() -> list[LotAnnex]:
    terms = InsertionTerms(Decimal(833), ("direct_hire", "made_available"), ("long_term_jobseeker", "plie"),
                           "PLIE de Roubaix, clauses@plie.example", Decimal(45))
    return [LotAnnex(n, LotClauses(f"Lot de démonstration {n}", insertion_clause=True,
                                   social_criterion_weight=Decimal(10), environmental_condition=True,
                                   environmental_criterion_weight=Decimal(15)), terms, ("reuse", "waste_sorting"))
            for n in range(1, 11)]


def main() -> None:
    app = create_app()
    lots = ten_lots()
    rows = [
        ("Contrôle légal, 10 lots (fonction)", timed(lambda i: legal.check(
            TenderFacts("local_authority", "services", Decimal(200_000 + i * 10), date(2026, 9, 1),
                        procedure=legal.ADAPTED), lots), CALLS)),
        ("Calculateur d'heures (fonction)", timed(lambda i: calculator.insertion_hours(
            1_000_000 + i, "0.5", "0.05", 30), CALLS)),
    ]
    client = app.test_client()
    rows.append(("GET /api/v1/clauses/legal-check", timed(lambda i: client.get(
        "/api/v1/clauses/legal-check", query_string={"buyer_category": "state", "nature": "supplies",
                                                     "amount": str(139_000 + i), "launch_date": "2026-09-01"}),
        CALLS // 4)))
    rows.append(("GET /api/v1/clauses/hours", timed(lambda i: client.get(
        "/api/v1/clauses/hours", query_string={"amount": str(1_000_000 + i), "labour_share": "0.5",
                                               "insertion_rate": "0.05", "hourly_cost": "30"}), CALLS // 4)))
    params = annex_params("Entretien des espaces verts", "Ville de Roubaix", annex_lots(), date(2026, 9, 1))
    with app.test_request_context():
        render_document(ANNEX_DOCUMENT, params)  # WeasyPrint's import and first fonts: once per worker
        walls, cpus = [], []
        for _ in range(PDF_RUNS):
            started, cpu = time.perf_counter(), time.process_time()
            render_document(ANNEX_DOCUMENT, params)
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
    print(f"\nClauses — {CALLS} appels par fonction, {CALLS // 4} par point d'API (client Flask, sans réseau)\n")
    print(f"{'mesure':<42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cible p95':>10}  verdict")
    for label, figures in rows:
        print(f"{label:<42} {figures['p50']:>8.2f} {figures['p95']:>8.2f} {figures['max']:>8.2f} "
              f"{CHECK_TARGET_MS:>10.1f}  {'OK' if figures['p95'] <= CHECK_TARGET_MS else 'AU-DESSUS'}")
    wall, cpu = max(walls), max(cpus)
    print(f"{'Annexe PDF, 10 lots (pire de ' + str(PDF_RUNS) + ', horloge)':<42} {'':>8} {wall * 1000:>8.0f} "
          f"{'':>8} {PDF_TARGET_S * 1000:>10.0f}  {'OK' if wall <= PDF_TARGET_S else 'AU-DESSUS'}")
    print(f"{'Annexe PDF, 10 lots (pire de ' + str(PDF_RUNS) + ', CPU)':<42} {'':>8} {cpu * 1000:>8.0f} "
          f"{'':>8} {PDF_TARGET_S * 1000:>10.0f}  {'OK' if cpu <= PDF_TARGET_S else 'AU-DESSUS'}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "clauses.json").write_text(json.dumps({"calls": CALLS, **{label: figures for label, figures in rows},
                                                  "annex_pdf_10_lots_wall_s": walls, "annex_pdf_10_lots_cpu_s": cpus},
                                                 indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
