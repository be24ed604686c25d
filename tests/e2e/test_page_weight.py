"""What a visitor downloads: a first visit ≤ 500 KB, a repeat visit ≤ 50 KB (static files compressed,
versioned and cached a year). The figures come from the browser's own Resource Timing."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

FIRST_VISIT_MAX = 500_000
REPEAT_VISIT_MAX = 50_000

#: bytes over the wire for the document and every resource (0 for what came from the browser's cache)
TRANSFERRED_JS = """async () => {
  await document.fonts.ready;
  const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
  return entries.map(e => ({name: e.name, size: e.transferSize}));
}"""


def transferred(page: Page, path: str) -> list[dict]:
    page.goto(path)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # fonts and icons the stylesheets ask for once the page is laid out
    return page.evaluate(TRANSFERRED_JS)


@pytest.mark.parametrize("path", ["/", "/structures"])
def test_first_and_repeat_visit_weights(page: Page, live_server, path):
    first = transferred(page, path)
    first_total = sum(entry["size"] for entry in first)
    assert any("dsfr.min.css" in entry["name"] for entry in first)
    assert 0 < first_total <= FIRST_VISIT_MAX, sorted(first, key=lambda e: -e["size"])[:8]

    repeat = transferred(page, path)
    repeat_total = sum(entry["size"] for entry in repeat)
    static = [entry for entry in repeat if "/static/" in entry["name"]]
    assert static and all(entry["size"] == 0 for entry in static), static  # all from the cache, unasked
    assert repeat_total <= REPEAT_VISIT_MAX, repeat
    print(f"\n{path} : première visite {first_total / 1000:.0f} ko, visite suivante {repeat_total / 1000:.1f} ko")
