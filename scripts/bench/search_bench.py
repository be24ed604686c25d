"""Directory search at 50 000 structures: API, raw Meilisearch, HTML page, SQL fallback, reindex.

Prints each figure beside its target and beside raw Meilisearch measured in the same run.
The HTML page is measured twice, on workers that froze their start-up objects (`gc.freeze()`) and on
workers that did not (`MARCHE_GC_FREEZE=0`). Run with `make bench`, which points DATABASE_URL and
MEILI_INDEX_PREFIX at the bench's own database and index.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from urllib.parse import urlencode

from common import ROOT, Gunicorn, KeepAlive, summary  # noqa: E402  (scripts/bench is the cwd of make bench)

REQUESTS = 320
#: the page is loaded 3 × 320 times per server: stalls seen about every 130 loads must weigh in its p99
PAGE_PASSES = 3


def directory_size(app) -> int:
    from sqlalchemy import func, select

    from marche.extensions import db
    from marche.suppliers.models import Structure

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Structure))


def query_mix(app, count: int, seed: int = 7) -> list[list[tuple[str, str]]]:
    """A seeded mix: text, kind, sector, located in, can work at, radius, env, and combinations."""
    from sqlalchemy import select

    from marche.extensions import db
    from marche.geo.models import Commune
    from marche.reference.models import Sector
    from marche.suppliers.models import EnvLabel, StructureKind

    rng = random.Random(seed)
    with app.app_context():
        communes = db.session.execute(select(Commune.code, Commune.department_code).where(
            Commune.population > 20000, Commune.latitude.is_not(None))).all()
        sectors = list(db.session.execute(select(Sector.id)).scalars())
    words = ["insertion", "nettoyage", "espaces verts", "solidaire", "recyclage", "atelier", "lille", "marseile",
             "tremplin", "services"]
    kinds = [k.value for k in StructureKind]
    envs = [e.value for e in EnvLabel]
    mixes = []
    for i in range(count):
        commune = rng.choice(communes)
        pick = i % 8
        args: list[tuple[str, str]] = []
        if pick in (0, 7):
            args.append(("q", rng.choice(words)))
        if pick in (1, 5, 7):
            args.append(("kind", rng.choice(kinds)))
        if pick in (2, 5):
            args.append(("sector", str(rng.choice(sectors))))
        if pick == 3:
            args += [("territory", f"dep:{commune.department_code}"), ("territory_mode", "located")]
        if pick in (4, 5, 7):
            args += [("territory", f"commune:{commune.code}"), ("territory_mode", "covers")]
        if pick == 6:
            args += [("near", f"commune:{commune.code}"), ("radius_km", str(rng.choice([10, 20, 30, 50])))]
        if pick in (6, 7) or rng.random() < 0.15:
            args.append(("env", rng.choice(envs)))
        mixes.append(args)
    return mixes


#: the families of query_mix, by `i % 8`
FAMILIES = ["texte", "type seul", "secteur", "implantée dans un département", "peut intervenir à (commune)",
            "type + secteur + peut intervenir", "rayon + engagement", "texte + type + peut intervenir + engagement"]


def fallback_by_family_at_load_2(url: str, calls) -> dict[str, dict]:
    """Two clients at once (load 2 on two cores), each sending every query, the second starting halfway:
    the p95 of each family of the mix."""
    import threading

    timings: dict[str, list[float]] = {family: [] for family in FAMILIES}
    lock = threading.Lock()

    def client(start: int) -> None:
        connection = KeepAlive(url)
        for n in range(len(calls)):
            i = (start + n) % len(calls)
            elapsed = timed(connection, calls[i], "SQL à charge 2")
            with lock:
                timings[FAMILIES[i % len(FAMILIES)]].append(elapsed)

    threads = [threading.Thread(target=client, args=(start,)) for start in (0, len(calls) // 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {family: summary(values) for family, values in timings.items()}


def raw_meili_requests(app, mixes) -> list[tuple[str, dict]]:
    """The exact queries the Meilisearch backend sends for each search (same filters, facets, page): a
    multi-search body when some facets are counted disjunctively, whose queries `RawMeili` sends side by
    side as the backend does (core.meili.search_many)."""
    from werkzeug.datastructures import MultiDict

    from marche.search import meili_backend
    from marche.search.query import parse_query, resolved

    requests = []
    with app.test_request_context():
        for args in mixes:
            query = replace(parse_query(MultiDict(args)), page=1, per_page=20, facets=True)
            requests.append(meili_backend.http_request(query, resolved(query)))
    return requests


class RawMeili:
    """Meilisearch asked directly, as the backend asks it: the queries of one search side by side, each on
    its own kept-alive connection (core.meili.search_many), timed from the first sent to the last answer."""

    def __init__(self, url: str, headers: dict[str, str]):
        import threading
        from concurrent.futures import ThreadPoolExecutor

        self.url, self.headers = url, headers
        self.main = KeepAlive(url, headers)
        self.pool = ThreadPoolExecutor(max_workers=4)
        self.local = threading.local()

    def _send(self, path: str, body: dict) -> tuple[int, bytes, float]:
        if not hasattr(self.local, "client"):
            self.local.client = KeepAlive(self.url, self.headers)
        return self.local.client.request("POST", path, body)

    def request(self, method: str, path: str, body: dict) -> tuple[int, bytes, float]:
        if "queries" not in body:
            return self.main.request(method, path, body)
        searches = [(f"/indexes/{query['indexUid']}/search", {k: v for k, v in query.items() if k != "indexUid"})
                    for query in body["queries"]]
        started = time.perf_counter()
        futures = [self.pool.submit(self._send, *search) for search in searches[1:]]
        answers = [self.main.request("POST", *searches[0])] + [future.result() for future in futures]
        status = max(answer[0] for answer in answers)
        return status, answers[0][1], (time.perf_counter() - started) * 1000


def timed(client: KeepAlive, call, label: str = "") -> float:
    method, path, body = call
    status, payload, elapsed = client.request(method, path, body)
    if status != 200:
        raise RuntimeError(f"{label}: {status} for {path}: {payload[:300]!r}")
    return elapsed


def run(label: str, client: KeepAlive, calls) -> dict:
    return summary([timed(client, call, label) for call in calls])


def run_by_family(label: str, client: KeepAlive, calls) -> tuple[dict, dict[str, dict]]:
    """The summary of every call, and one per family of the mix (call i is of family i % 8)."""
    timings = [timed(client, call, label) for call in calls]
    return summary(timings), {family: summary(timings[position::len(FAMILIES)])
                              for position, family in enumerate(FAMILIES)}


def measure_pages(env: dict[str, str], calls) -> tuple[dict, dict]:
    """The HTML page on two gunicorns up side by side, one whose workers froze their start-up objects
    (`gc.freeze()`) and one whose workers did not (`MARCHE_GC_FREEZE=0`). Each query goes to both in
    turn (the first one alternating), so that both see the same machine load; (frozen, not frozen)."""
    from marche.core.embedded import free_port

    servers = [Gunicorn({**env, "MARCHE_GC_FREEZE": flag}, free_port()) for flag in ("1", "0")]
    try:
        clients = [KeepAlive(server.url) for server in servers]
        for client in clients:
            run("échauffement", client, calls[:40])
        timings: list[list[float]] = [[], []]
        for i, call in enumerate(calls):
            for which in ((0, 1) if i % 2 == 0 else (1, 0)):
                timings[which].append(timed(clients[which], call, "page HTML"))
        return summary(timings[0]), summary(timings[1])
    finally:
        for server in servers:
            server.stop()


def main() -> None:
    import os

    from marche import create_app
    from marche.core.embedded import free_port
    from marche.search.indexer import reindex_all

    app = create_app()
    #: the machine's load (1-minute average) at the start and the end: figures from a shared machine say so
    load = [round(os.getloadavg()[0], 1)]
    total = directory_size(app)
    with app.app_context():
        started = time.perf_counter()
        reindex_all()
        reindex_s = time.perf_counter() - started
    mixes = query_mix(app, REQUESTS)
    env = {"DATABASE_URL": os.environ["DATABASE_URL"], "MEILI_URL": app.config["MEILI_URL"],
           "MEILI_MASTER_KEY": app.config["MEILI_MASTER_KEY"], "MEILI_INDEX_PREFIX": app.config["MEILI_INDEX_PREFIX"],
           "REDIS_URL": ""}
    api_calls = [("GET", "/api/v1/structures?" + urlencode(args + [("per_page", "20"), ("facets", "1")]), None)
                 for args in mixes]
    page_calls = [("GET", "/structures?" + urlencode(args), None) for args in mixes] * PAGE_PASSES
    server = Gunicorn(env, free_port())
    try:
        api = KeepAlive(server.url)
        run("échauffement", api, api_calls[:40])
        meili = RawMeili(app.config["MEILI_URL"], {"Authorization": f"Bearer {app.config['MEILI_MASTER_KEY']}"})
        raw_calls = [("POST", path, body) for path, body in raw_meili_requests(app, mixes)]
        run("échauffement", meili, raw_calls[:40])
        raw, raw_by_family = run_by_family("Meilisearch brut", meili, raw_calls)
        api_result, api_by_family = run_by_family("API", api, api_calls)
    finally:
        server.stop()
    html, html_unfrozen = measure_pages(env, page_calls)
    fallback_server = Gunicorn({**env, "MEILI_URL": "http://127.0.0.1:9"}, free_port())
    try:
        fallback = run("SQL (Meilisearch arrêté)", KeepAlive(fallback_server.url), api_calls)
        by_family = fallback_by_family_at_load_2(fallback_server.url, api_calls)
    finally:
        fallback_server.stop()

    load.append(round(os.getloadavg()[0], 1))
    rows = [
        ("Meilisearch brut (référence, même run)", raw, None),
        ("API /api/v1/structures", api_result, min(25.0, 2 * raw["p95"])),
        ("Page HTML /structures", html, 50.0),
        ("Page HTML /structures sans gc.freeze()", html_unfrozen, None),
        ("Repli SQL (Meilisearch arrêté)", fallback, 150.0),
    ]
    print(f"\nRecherche dans l'annuaire — {total} structures, {REQUESTS} requêtes mêlant texte, type, secteur, "
          "« implantée à », « peut intervenir à », rayon, engagements (20 résultats, total et facettes) ; "
          f"la page HTML : {PAGE_PASSES} passages ({len(page_calls)} chargements) sur chacun de deux serveurs "
          "côte à côte, avec et sans gc.freeze()\n")
    print(f"{'mesure':<42} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'cible p95':>10}  verdict")
    for label, figures, target in rows:
        verdict = "" if target is None else ("OK" if figures["p95"] <= target else "AU-DESSUS")
        target_text = "" if target is None else f"{target:.1f}"
        print(f"{label:<42} {figures['p50']:>8.1f} {figures['p95']:>8.1f} {figures['p99']:>8.1f} "
              f"{figures['max']:>8.1f} {target_text:>10}  {verdict}")
    print(f"{'Réindexation complète':<42} {'':>8} {reindex_s * 1000:>8.0f} {'':>8} {'':>8} {30000:>10.0f}  "
          f"{'OK' if reindex_s <= 30 else 'AU-DESSUS'}")
    print(f"\np99 de la page HTML : {html['p99']:.1f} ms avec gc.freeze() dans chaque worker, "
          f"{html_unfrozen['p99']:.1f} ms sans (MARCHE_GC_FREEZE=0), mêmes requêtes, même exécution.")
    print("Référence : la place de marché existante répond en 800–2 000 ms (p95) à 50 000 structures.")
    print(f"Charge de la machine (moyenne sur une minute, {os.cpu_count()} cœurs) : {load[0]} au début, "
          f"{load[1]} à la fin.")
    print("\nMeilisearch brut et API, un client, par famille de requêtes :")
    print(f"{'famille':<46} {'n':>4} {'brut p50':>9} {'brut p95':>9} {'API p50':>8} {'API p95':>8}")
    for family in FAMILIES:
        r, a = raw_by_family[family], api_by_family[family]
        print(f"{family:<46} {r['n']:>4} {r['p50']:>9.1f} {r['p95']:>9.1f} {a['p50']:>8.1f} {a['p95']:>8.1f}")
    print("\nRepli SQL à charge 2 (deux clients simultanés), par famille de requêtes :")
    print(f"{'famille':<46} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'cible p95':>10}  verdict")
    for family, figures in by_family.items():
        print(f"{family:<46} {figures['n']:>4} {figures['p50']:>8.1f} {figures['p95']:>8.1f} {150.0:>10.1f}  "
              f"{'OK' if figures['p95'] <= 150 else 'AU-DESSUS'}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "search.json").write_text(json.dumps({"structures": total, "requests": REQUESTS, "raw_meili": raw,
                                                 "api": api_result, "page_loads": len(page_calls), "html": html,
                                                 "html_without_gc_freeze": html_unfrozen, "sql_fallback": fallback,
                                                 "sql_fallback_load2_by_family": by_family,
                                                 "raw_meili_by_family": raw_by_family, "api_by_family": api_by_family,
                                                 "reindex_s": reindex_s, "load_average": load}, indent=2))


if __name__ == "__main__":
    main()
