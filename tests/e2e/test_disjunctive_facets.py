"""Browser: facet counts are disjunctive within a group. Ticking ACI still shows how many EI would match
the other filters; the expected numbers are counted here from the rows, not read from the product."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import text

from marche.extensions import db
from tests.e2e.test_directory import directory  # noqa: F401  (the fixture)


def shown_count(page: Page, kind: str) -> int:
    label = page.locator(f"label[for='f-kind-{kind}']")
    return int(re.search(r"\((\d+)\)", label.inner_text()).group(1))


def located_in_59(app, kind: str) -> int:
    with app.app_context():
        return db.session.execute(text(
            "SELECT count(*) FROM structure WHERE department_code = '59' AND publication = 'published' "
            "AND :kind = ANY(kinds)"), {"kind": kind}).scalar_one()


def test_ticking_a_kind_keeps_the_counts_of_the_other_kinds(page: Page, app, directory, check_page):  # noqa: F811
    expected = {kind: located_in_59(app, kind) for kind in ("ACI", "EI", "ESAT")}
    assert expected["ACI"] > 0 and expected["EI"] > 0  # the real lists hold both in the Nord
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/structures?territory=dep:59&territory_mode=located")
    assert {kind: shown_count(page, kind) for kind in expected} == expected

    page.locator("label[for='f-kind-ACI']").click()
    page.get_by_role("button", name="Rechercher", exact=True).click()
    expect(page).to_have_url(re.compile(r"kind=ACI"))
    # the kind group ignores its own filter: every count is the one before ticking
    assert {kind: shown_count(page, kind) for kind in expected} == expected
    total = int(re.sub(r"\D", "", page.get_by_role("status").filter(has_text="structure").inner_text()))
    assert total == expected["ACI"]
    check_page(page, "facettes-disjonctives")
