"""Tender search: GET /api/v1/tenders/search over 20 000 published tenders (through the Flask stack without the
network), beside the raw Meilisearch request it sends (same body, same run). Targets: p95 ≤ 30 ms, and ≤ 2× raw
Meilisearch."""
from __future__ import annotations

import json

from common import ROOT, timed

from marche import create_app
from marche.core import meili
from marche.core.meili import index_name
from marche.search import meili_backend
from marche.tenders.search_documents import TENDERS
from marche.tenders.search_query import parse_tender_query
from tender_data import ensure_tenders
from werkzeug.datastructures import MultiDict

CALLS = 300
TARGET_MS, RATIO = 30.0, 2.0
QUERIES = [{}, {"q": "nettoyage"}, {"territory": "dep:59"}, {"reserved": "siae"}, {"clause": "insertion"},
           {"q": "espaces verts", "territory": "reg:32"}, {"kind": "quote_request", "reserved": "both"},
           {"cpv": "90"}, {"q": "recyclage", "sort": "recent"}, {"territory": "commune:59350", "clause": "reserved"},
           {"q": "netoyage"}, {"deadline_before": "2099-01-01", "page": "3"}]


def main() -> None:
    app = create_app()
    with app.app_context():
        count = ensure_tenders()
    client = app.test_client()

    def api(i: int) -> None:
        response = client.get("/api/v1/tenders/search", query_string=QUERIES[i % len(QUERIES)])
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    with app.test_request_context():
        requests = []
        for args in QUERIES:
            query = TENDERS.prepared(parse_tender_query(MultiDict(args)))
            route, body = meili_backend.http_request(query, TENDERS.resolution(query))
            requests.append((route, body))

        def raw(i: int) -> None:
            route, body = requests[i % len(requests)]
            meili.post(route, body, 5)

        for i in range(len(QUERIES)):  # warm both paths
            raw(i)
            api(i)
        raw_figures = timed(raw, CALLS)
    api_figures = timed(api, CALLS)
    ratio = api_figures["p95"] / raw_figures["p95"]
    print(f"\nRecherche de consultations — {count} consultations publiées, {CALLS} requêtes ({len(QUERIES)} formes)\n")
    print(f"{'mesure':<52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    print(f"{'Meilisearch brut (même requête)':<52} {raw_figures['p50']:>8.2f} {raw_figures['p95']:>8.2f} "
          f"{raw_figures['max']:>8.2f}")
    print(f"{'GET /api/v1/tenders/search (client Flask)':<52} {api_figures['p50']:>8.2f} {api_figures['p95']:>8.2f} "
          f"{api_figures['max']:>8.2f}")
    print(f"\np95 API {api_figures['p95']:.1f} ms (cible ≤ {TARGET_MS:.0f} ms) : "
          f"{'OK' if api_figures['p95'] <= TARGET_MS else 'AU-DESSUS'} ; rapport au brut {ratio:.2f} "
          f"(cible ≤ {RATIO:.0f}) : {'OK' if ratio <= RATIO else 'AU-DESSUS'}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "tender_search.json").write_text(json.dumps(
        {"tenders": count, "raw_meilisearch": raw_figures, "api": api_figures, "ratio_p95": ratio}, indent=2))


if __name__ == "__main__":
    main()
