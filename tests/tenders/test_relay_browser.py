"""The relay and funnel pages in Chromium (axe and the CSP guard on each, phone and desktop): the buyer publishes,
the structure unsubscribes from the link of the mail it received, then switches the relay back on from its
profile; the buyer opens the funnel from the tender page, writes to the interested structures and is refused a
second re-notification within the week."""
from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from marche.core.models import utcnow
from marche.extensions import db
from marche.tenders.models import Interest, LotResponse, Tender
from tests.e2e.conftest import (base_url, browser_guard, browser_type_launch_args, check_page,  # noqa: F401
                                live_server)
from tests.e2e.test_journey import flash, log_in, log_out
from tests.tenders.relay_fixtures import build, publish, submitted_tender

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


def both_sizes(page: Page, check_page, name: str) -> None:
    page.set_viewport_size(PHONE)
    check_page(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)
    check_page(page, f"{name}-1280")


def test_unsubscribe_preferences_and_funnel_in_a_browser(page: Page, app, make_user, mailbox, check_page):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        world = build(make_user)
        tender_id = submitted_tender(world, title="Entretien des espaces verts des écoles")
        publish(world, tender_id)
        lot_id = db.session.get(Tender, tender_id).lots[0].id
        response = db.session.execute(select(LotResponse).where(
            LotResponse.lot_id == lot_id, LotResponse.structure_id == world.structures["Atelier A"])).scalar_one()
        response.viewed_at, response.interest, response.interest_at = utcnow(), Interest.INTERESTED, utcnow()
        db.session.commit()
        db.session.remove()
    page.set_viewport_size(DESKTOP)

    # the structure: the link of its mail, a page that confirms, then its preferences page
    link = mailbox.link_to("b@b.example.fr", "/diffusion/desabonnement/")
    page.goto(link.removeprefix(app.config["BASE_URL"]))
    both_sizes(page, check_page, "desabonnement")
    page.get_by_role("button", name="Ne plus recevoir ces e-mails").click()
    expect(flash(page)).to_contain_text("ne recevra plus")
    log_in(page, "b@b.example.fr")
    page.goto("/structures/80000000000001/modifier")
    page.get_by_role("link", name="Diffusion des consultations par e-mail").click()
    checkbox = page.get_by_label("Recevoir par e-mail les consultations qui correspondent à la fiche")
    expect(checkbox).not_to_be_checked()
    both_sizes(page, check_page, "preferences")
    page.locator("label[for='relay_mails']").click()
    page.get_by_role("button", name="Enregistrer").click()
    expect(flash(page)).to_contain_text("Préférence enregistrée")
    expect(checkbox).to_be_checked()
    log_out(page)

    # the buyer: the funnel from the tender page, a message to the interested, a refused second re-notification
    log_in(page, "acheteur@lille.example.fr")
    page.goto(f"/consultations/{tender_id}")
    page.get_by_role("link", name="Suivi des réponses des structures").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivi des réponses")
    both_sizes(page, check_page, "entonnoir")
    page.get_by_label("Message aux structures intéressées").fill("Visite du site mardi à 10 h.")
    page.get_by_role("button", name="Écrire aux structures intéressées").click()
    expect(flash(page)).to_contain_text("Message envoyé à 1 structure(s)")
    for attempt in range(2):
        page.get_by_label("Groupe à relancer").select_option("notified")
        page.get_by_label("Message de relance").fill("Il reste trois semaines pour répondre.")
        page.get_by_role("button", name="Relancer").click()
    expect(page.locator(".fr-error-text", has_text="Prochaine relance possible le")).to_be_visible()
    both_sizes(page, check_page, "relance-refusee")
