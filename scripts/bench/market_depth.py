"""Market depth and matching of one lot against the bench directory (50 000 structures): `tenders.matching`'s
`market_depth` (the count, the ranking of the first 2 000 nearest matches, the reasons of the best 20, and the
levers when fewer than 3 can answer) and `matching_ids` (the relay's list), beside the raw directory search for the
same filters (`search.service.search`, one page of 20) measured in the same run. Issue 20's target: ≤ 200 ms.

Three lots: a common one (the bench buyer's sector near Lille, department-wide), a national one (every structure of
that sector in France, the ranking reading its cap) and a thin one (reserved to EA/ESAT with a commitment in a
small commune: fewer than 3, so every lever is counted too). The bench tender lives in the bench's own database.
"""
from __future__ import annotations

import json
from dataclasses import replace

from common import ROOT, timed

from marche import create_app
from marche.extensions import db
from marche.search import service as search_service
from marche.tenders import matching
from marche.tenders.models import Tender, TenderLot

CALLS = 40
TARGET_MS = 200.0
BENCH_TITLE = "Banc d'essai : profondeur du marché"
LOTS = {  # name -> (place, reservation, required commitments)
    "lot courant (dep:59, un secteur)": ("dep:59", None, []),
    "lot national (toute la France)": ("country:FR", None, []),
    "lot étroit (EA/ESAT, ISO 14001, commune)": ("commune:59350", "disability", ["iso14001"]),
}


def bench_lots() -> dict[str, int]:
    """The bench tender and its three lots (made once, kept)."""
    from tenders_bench import bench_buyer

    user = bench_buyer()
    tender = db.session.scalar(db.select(Tender).where(Tender.title == BENCH_TITLE))
    if tender is None:
        tender = Tender(organisation_id=user.organisation.id, title=BENCH_TITLE, status="draft", nature="services",
                        cpv_codes=["77310000-6"], place_ref="dep:59", allotted=True)
        for position, (name, (place, reservation, env)) in enumerate(LOTS.items(), start=1):
            tender.lots.append(TenderLot(position=position, title=name, place_ref=place, required_env=env,
                                         clauses={"reservation": reservation} if reservation else {}))
        db.session.add(tender)
        db.session.commit()
    return {lot.title: lot.id for lot in tender.lots}


def main() -> None:
    app = create_app()
    rows = []
    with app.test_request_context():
        structures = db.session.scalar(db.text("SELECT count(*) FROM structure"))
        for name, lot_id in bench_lots().items():
            lot = db.session.get(TenderLot, lot_id)
            depth = matching.market_depth(lot)  # warms the caches (territories, sectors)
            query = replace(matching.lot_query(lot), per_page=20)
            raw = timed(lambda i: search_service.search(query), CALLS)
            full = timed(lambda i: matching.market_depth(lot), CALLS)
            ids = timed(lambda i: matching.matching_ids(lot), CALLS)
            rows.append((f"{name} : {depth.count} structures, {len(depth.levers)} leviers", raw, full, ids))
    print(f"\nProfondeur du marché — {structures} structures, {CALLS} appels par mesure (service, sans réseau)\n")
    print(f"{'lot':<62} {'annuaire p95':>12} {'profondeur p50':>14} {'p95':>8} {'ids p95':>8} "
          f"{'cible':>6}  verdict")
    for label, raw, full, ids in rows:
        print(f"{label:<62} {raw['p95']:>12.1f} {full['p50']:>14.1f} {full['p95']:>8.1f} {ids['p95']:>8.1f} "
              f"{TARGET_MS:>6.0f}  {'OK' if max(full['p95'], ids['p95']) <= TARGET_MS else 'AU-DESSUS'}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "market_depth.json").write_text(json.dumps(
        {"structures": structures, **{label: {"directory_search": raw, "market_depth": full, "matching_ids": ids}
                                      for label, raw, full, ids in rows}}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
