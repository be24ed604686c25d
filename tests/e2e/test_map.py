"""The results map in Chromium (issue 18 item 6): points loaded from /structures/carte.json, the view
zoomed to the results, popups with name (as text), kind, commune and a link to the profile, and not one
request to another host (no tile server by default). Desktop and phone, axe clean."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from marche.cli import DATA_DIR
from marche.extensions import db
from marche.suppliers.models import Structure
from marche.suppliers.services import notify_changed, refresh_derived

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_SIRET = "99001234100006"


@pytest.fixture
def directory(app):
    """The real structures, plus one EA whose name is an HTML payload, indexed through the outbox."""
    from marche.search.indexer import wait_for_pending
    from marche.suppliers.importer import import_esat, import_structures

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        import_structures(DATA_DIR / "structures_siae_geiq_ea.csv")
        import_esat(DATA_DIR / "esat_finess.csv")
        structure = Structure(siret=HOSTILE_SIRET, siren=HOSTILE_SIRET[:9], name=HOSTILE, kinds=["EA"], city="Roubaix",
                              commune_code="59512", department_code="59", region_code="32", latitude=50.6942,
                              longitude=3.1746, source="test", area_kind="radius", area_radius_km=30, area_refs=[])
        db.session.add(structure)
        refresh_derived(structure)
        db.session.flush()
        notify_changed([structure.id])
        db.session.commit()
        wait_for_pending()
        placed = db.session.scalar(db.select(db.func.count()).select_from(Structure)
                                   .where(Structure.latitude.is_not(None)))
        db.session.remove()
    return placed


def foreign_requests(page: Page, live_server: str) -> list[str]:
    """Every URL the page asks for, other than the live server's own."""
    own = urlsplit(live_server).netloc
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url)
            if urlsplit(request.url).scheme in {"http", "https", "ws", "wss"} and urlsplit(request.url).netloc != own
            else None)
    return seen


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_the_map_loads_its_points_zooms_to_them_and_opens_safe_popups(page: Page, directory, live_server, check_page,
                                                                       width, height):
    page.set_viewport_size({"width": width, "height": height})
    foreign = foreign_requests(page, live_server)

    # the whole of France: every placed structure, from the JSON endpoint, none inline in the page
    with page.expect_response(lambda r: "/structures/carte.json" in r.url) as answer:
        page.goto("/structures?vue=carte")
    assert answer.value.status == 200
    body = answer.value.json()
    assert body["count"] == len(body["points"]) == directory
    results_map = page.locator("[data-results-map]")
    expect(results_map).to_have_attribute("data-points-loaded", str(directory), timeout=20_000)
    grouped = f"{directory:,}".replace(",", r"\s")  # 5 301, written with a narrow no-break space
    expect(page.locator("#carte-statut")).to_have_text(re.compile(rf"^{grouped} structures placées sur la carte\.$"))
    france_zoom = float(results_map.get_attribute("data-zoom"))
    page.locator(".marker-cluster").first.wait_for()
    check_page(page, f"carte-france-{width}px")

    # the Nord's structures only: the view closes in on them
    page.goto("/structures?vue=carte&territory=dep:59&territory_mode=located")
    expect(results_map).to_have_attribute("data-points-loaded", re.compile(r"^[1-9][0-9]*$"),
                                          timeout=20_000)
    assert float(results_map.get_attribute("data-zoom")) >= france_zoom + 2
    check_page(page, f"carte-nord-{width}px")

    # one result: its popup shows the name as text, its kind, its commune and a link to its profile
    page.goto(f"/structures?vue=carte&q={HOSTILE_SIRET}")
    expect(results_map).to_have_attribute("data-points-loaded", "1", timeout=20_000)
    marker = results_map.locator(".leaflet-marker-icon").first
    marker.click()
    popup = page.locator(".leaflet-popup-content")
    link = popup.get_by_role("link", name=HOSTILE, exact=True)
    expect(link).to_be_visible()
    expect(popup).to_contain_text("EA — Entreprise adaptée")
    expect(popup).to_contain_text("Roubaix")
    assert popup.locator("img, svg, [onerror]").count() == 0
    assert page.locator("img[src='x']").count() == 0
    check_page(page, f"carte-popup-{width}px")
    link.click()
    expect(page).to_have_url(f"{live_server}/structures/{HOSTILE_SIRET}")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE)

    assert foreign == [], foreign  # no tile server, no CDN: nothing leaves for another host
