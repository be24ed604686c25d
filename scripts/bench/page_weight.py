"""Page weight in Chromium: bytes over the wire for a first and a repeat visit of the main pages, beside
the same files uncompressed (the reference, measured in the same run). Targets: first visit ≤ 500 KB,
repeat visit ≤ 50 KB. Writes results/page_weight.json; exits 1 when a target is missed."""
from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

from common import Gunicorn  # noqa: E402  (scripts/bench on sys.path when run as a script)
from playwright.sync_api import sync_playwright

RESULTS = Path(__file__).resolve().parent / "results" / "page_weight.json"
PAGES = ["/", "/structures", "/structures?q=nettoyage&territoire=dep:59"]
FIRST_MAX, REPEAT_MAX = 500_000, 50_000
#: the browser's own Resource Timing: transferSize is what crossed the network (0 from the cache)
TIMINGS_JS = """async () => { await document.fonts.ready;
  return [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
    .map(e => ({name: e.name, transfer: e.transferSize, decoded: e.decodedBodySize})); }"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _visit(page, url: str) -> tuple[int, int]:
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    entries = page.evaluate(TIMINGS_JS)
    return sum(e["transfer"] for e in entries), sum(e["decoded"] for e in entries)


def measure(base_url: str) -> dict[str, dict[str, int]]:
    args = ["--disable-gpu", "--no-first-run"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    figures = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for path in PAGES:
            context = browser.new_context(base_url=base_url)  # an empty cache: a first visit
            page = context.new_page()
            first, uncompressed = _visit(page, path)
            repeat, _ = _visit(page, path)
            figures[path] = {"first": first, "repeat": repeat, "uncompressed": uncompressed}
            context.close()
        browser.close()
    return figures


def main() -> int:
    server = Gunicorn({}, _free_port())
    try:
        figures = measure(server.url)
    finally:
        server.stop()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{'page':45} {'1re visite':>11} {'non compressé':>14} {'visite suivante':>16}")
    failed = False
    for path, f in figures.items():
        ok = f["first"] <= FIRST_MAX and f["repeat"] <= REPEAT_MAX
        failed |= not ok
        print(f"{path:45} {f['first'] / 1000:>8.0f} ko {f['uncompressed'] / 1000:>11.0f} ko "
              f"{f['repeat'] / 1000:>13.1f} ko  {'ok' if ok else 'HORS CIBLE'}")
    print(f"cibles : première visite ≤ {FIRST_MAX // 1000} ko, visite suivante ≤ {REPEAT_MAX // 1000} ko")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
