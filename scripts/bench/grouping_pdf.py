"""The DC1-style candidacy summary of a grouping (GME) in PDF: 5 members on 3 lots, worst of 5 renderings (wall
clock and CPU), beside issue 21's target (≤ 1 500 ms). The convention draft of the same grouping is timed too.

The bench grouping lives in the bench's own database: a 3-lot tender of the bench buyer and 5 published structures
of the bench directory as accepted members, 20 % of each lot each (made once, kept). Its rows are written directly,
as `market_depth.py` writes its tender: the forming rules (claimed structures, deadlines) are not what is measured.
"""
from __future__ import annotations

import json
import time
from decimal import Decimal

from common import ROOT, summary

from marche import create_app
from marche.extensions import db
from marche.groupings import documents
from marche.groupings.models import (Grouping, GroupingKind, GroupingLot, GroupingMember, GroupingShare,
                                     GroupingStatus, MemberStatus)
from marche.groupings.shares import split_amounts
from marche.suppliers.models import Publication, Structure
from marche.tenders.models import Tender, TenderLot

PDF_RUNS = 5
PDF_TARGET_S = 1.5
MEMBERS, LOTS = 5, 3
BENCH_TITLE = "Banc d'essai : groupement momentané d'entreprises"
SERVICES = "Nettoyage des locaux, vitrerie, gestion des déchets et petits travaux d'entretien des espaces extérieurs"


def bench_grouping() -> int:
    """The bench grouping (made once, kept): its id."""
    from tenders_bench import bench_buyer

    tender = db.session.scalar(db.select(Tender).where(Tender.title == BENCH_TITLE))
    if tender is not None:
        found = db.session.scalar(db.select(Grouping.id).where(Grouping.tender_id == tender.id))
        if found is not None:
            return found
    user = bench_buyer()
    if tender is None:
        tender = Tender(organisation_id=user.organisation.id, title=BENCH_TITLE, status="published",
                        nature="services", cpv_codes=["90919200-4"], place_ref="dep:59", allotted=True,
                        amount=Decimal(LOTS * 150_000), duration_months=36)
        tender.lots = [TenderLot(position=n, title=f"Propreté des bâtiments, secteur {n}", amount=Decimal(150_000),
                                 clauses={}) for n in range(1, LOTS + 1)]
        db.session.add(tender)
        db.session.flush()
    structures = db.session.scalars(db.select(Structure).where(Structure.publication == Publication.PUBLISHED,
                                                               Structure.siret.is_not(None))
                                    .order_by(Structure.id).limit(MEMBERS)).all()
    grouping = Grouping(tender=tender, kind=GroupingKind.CONJOINT, mandataire_jointly_liable=True,
                        status=GroupingStatus.CONFIRMED)
    grouping.lots = [GroupingLot(lot=lot, price=lot.amount) for lot in tender.lots]
    grouping.members = [GroupingMember(structure=s, status=MemberStatus.ACCEPTED, services=SERVICES)
                        for s in structures]
    db.session.add(grouping)
    db.session.flush()
    grouping.mandataire = grouping.members[0]
    percents = [Decimal(100) / len(structures)] * len(structures)
    for grouping_lot in grouping.lots:
        for member, percent, amount in zip(grouping.members, percents,
                                           split_amounts(grouping_lot.price, percents)):
            db.session.add(GroupingShare(member=member, grouping_lot=grouping_lot, percent=percent, amount=amount))
    db.session.commit()
    return grouping.id


def timed_pdf(render) -> tuple[list[float], list[float]]:
    render()  # WeasyPrint's import and first fonts: once per worker
    walls, cpus = [], []
    for _ in range(PDF_RUNS):
        started, cpu = time.perf_counter(), time.process_time()
        render()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def main() -> None:
    app = create_app()
    results = {}
    with app.test_request_context():
        grouping = db.session.get(Grouping, bench_grouping())
        members, lots = len(grouping.accepted_members), len(grouping.lots)
        results["dc1"] = timed_pdf(lambda: documents.dc1_pdf(grouping))
        results["convention"] = timed_pdf(lambda: documents.convention_pdf(grouping))
    print(f"\nDocuments du groupement — {members} membres, {lots} lots, pire de {PDF_RUNS} rendus\n")
    print(f"{'mesure':<42} {'ms':>8} {'cible ms':>10}  verdict")
    for name, label in (("dc1", "Récapitulatif DC1 PDF"), ("convention", "Projet de convention PDF")):
        walls, cpus = results[name]
        for kind, values in (("horloge", walls), ("CPU", cpus)):
            worst = max(values)
            verdict = "OK" if worst <= PDF_TARGET_S else "AU-DESSUS"
            print(f"{label + ' (' + kind + ')':<42} {worst * 1000:>8.0f} {PDF_TARGET_S * 1000:>10.0f}  {verdict}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "grouping_pdf.json").write_text(json.dumps(
        {"members": members, "lots": lots, "runs": PDF_RUNS, "target_s": PDF_TARGET_S,
         **{f"{name}_wall_s": walls for name, (walls, _) in results.items()},
         **{f"{name}_cpu_s": cpus for name, (_, cpus) in results.items()},
         **{f"{name}_wall_ms": summary([w * 1000 for w in walls]) for name, (walls, _) in results.items()}},
        indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
