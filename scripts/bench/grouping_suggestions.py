"""Partner suggestions of a grouping against the bench directory (50 000 structures): `groupings.suggestions.suggest`
(each lot's gaps, the candidates of each lot read in one SQL query with the directory's conditions and a LIMIT, their
facts, the « mise à disposition » list) beside the raw directory search for the same filters (`search.service.search`,
one page of 20 per lot: the lot's kinds, the missing sector, « peut intervenir à » the place) measured in the same run.
Issue 21's target: ≤ 200 ms.

The bench tender has three lots: Lille (commune), the Nord (department) and Lille reserved to EA/ESAT, each with an
insertion clause and asking the two sectors the Nord's structures hold most; the grouping has one member, an EA of the
Nord holding the first sector only, so that every lot misses the second. Both live in the bench's own database (made
once, kept).
"""
from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from common import ROOT, timed

from marche import create_app
from marche.clauses.spec import ClauseSpec, InsertionSpec
from marche.extensions import db
from marche.groupings import suggestions
from marche.groupings.models import Grouping, GroupingLot, GroupingMember, MemberStatus
from marche.reference.models import Sector
from marche.search import service as search_service
from marche.tenders import matching
from marche.tenders.models import Tender, TenderLot

CALLS = 40
TARGET_MS = 200.0
BENCH_TITLE = "Banc d'essai : partenaires d'un groupement"
LOTS = {  # name -> (place, reservation)
    "Lille": ("commune:59350", None),
    "Nord": ("dep:59", None),
    "Lille, réservé EA/ESAT": ("commune:59350", "disability"),
}


def nord_sectors() -> list[int]:
    """The two sectors the most published structures based in the Nord hold."""
    return list(db.session.scalars(db.text(
        "SELECT ss.sector_id FROM structure_sector ss JOIN structure s ON s.id = ss.structure_id "
        "WHERE s.department_code = '59' AND s.publication = 'published' "
        "GROUP BY ss.sector_id ORDER BY count(*) DESC, ss.sector_id LIMIT 2")))


def bench_grouping() -> int:
    """The bench tender (three lots, published, answers open for a year) and its grouping of one member."""
    from datetime import datetime, timedelta, timezone

    from tenders_bench import bench_buyer

    grouping = db.session.scalar(db.select(Grouping).join(Tender).where(Tender.title == BENCH_TITLE))
    if grouping is not None:
        return grouping.id
    user = bench_buyer()
    first, second = nord_sectors()
    now = datetime.now(timezone.utc)
    tender = Tender(organisation_id=user.organisation.id, title=BENCH_TITLE, status="published", nature="services",
                    cpv_codes=["77310000-6"], place_ref="dep:59", allotted=True, published_at=now,
                    validated_at=now, answers_deadline=now + timedelta(days=365))
    tender.sectors = [db.session.get(Sector, first), db.session.get(Sector, second)]
    for position, (name, (place, reservation)) in enumerate(LOTS.items(), start=1):
        # an insertion clause on each lot: the « mise à disposition » list is read for each
        clauses = ClauseSpec(insertion=InsertionSpec(Decimal("300000"), Decimal("0.5"), Decimal("0.05"),
                                                     Decimal("30"), modes=("direct_hire",),
                                                     publics=("long_term_jobseeker",)),
                             reservation=reservation).to_json()
        tender.lots.append(TenderLot(position=position, title=name, place_ref=place, clauses=clauses))
    member = db.session.scalar(db.text(
        "SELECT s.id FROM structure s WHERE s.department_code = '59' AND s.publication = 'published' "
        "AND s.kinds && ARRAY['EA', 'ESAT']::varchar[] "
        "AND EXISTS (SELECT 1 FROM structure_sector ss WHERE ss.structure_id = s.id AND ss.sector_id = :first) "
        "AND NOT EXISTS (SELECT 1 FROM structure_sector ss WHERE ss.structure_id = s.id AND ss.sector_id = :second) "
        "ORDER BY s.id LIMIT 1"), {"first": first, "second": second})
    grouping = Grouping(tender=tender, kind="conjoint", status="forming", created_by_id=user.id)
    grouping.lots = [GroupingLot(lot=lot) for lot in tender.lots]
    grouping.members = [GroupingMember(structure_id=member, status=MemberStatus.ACCEPTED)]
    db.session.add(grouping)
    db.session.commit()
    return grouping.id


def main() -> None:
    app = create_app()
    with app.test_request_context():
        structures = db.session.scalar(db.text("SELECT count(*) FROM structure"))
        grouping = db.session.get(Grouping, bench_grouping())
        result = suggestions.suggest(grouping)  # warms the caches (territories, sectors)
        queries = []
        for gap, grouping_lot in zip(result.gaps, grouping.lots):
            wanted = matching.wanted_of(grouping_lot.lot)
            sectors = gap.missing_sector_ids or wanted.sectors
            queries.append(replace(wanted.query(env=(), sectors=sectors), per_page=20))
        raw = timed(lambda i: [search_service.search(query) for query in queries], CALLS)
        full = timed(lambda i: suggestions.suggest(grouping), CALLS)
        lots = [f"{gap.label} : manque {', '.join(gap.missing_sectors) or 'rien'}" for gap in result.gaps]
    print(f"\nPartenaires d'un groupement — {structures} structures, 3 lots, {CALLS} appels par mesure "
          f"(service, sans réseau)\n")
    for line in lots:
        print(f"  {line}")
    print(f"  {len(result.partners)} partenaires, {len(result.provision)} pour la mise à disposition\n")
    print(f"{'mesure':<44} {'p50':>8} {'p95':>8} {'cible':>6}  verdict")
    print(f"{'annuaire, mêmes filtres (3 recherches)':<44} {raw['p50']:>8.1f} {raw['p95']:>8.1f}")
    print(f"{'suggest (3 lots, mise à disposition)':<44} {full['p50']:>8.1f} {full['p95']:>8.1f} {TARGET_MS:>6.0f}  "
          f"{'OK' if full['p95'] <= TARGET_MS else 'AU-DESSUS'}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "grouping_suggestions.json").write_text(json.dumps(
        {"structures": structures, "lots": lots, "partners": len(result.partners),
         "provision": len(result.provision), "directory_search": raw, "suggest": full}, indent=2,
        ensure_ascii=False))


if __name__ == "__main__":
    main()
