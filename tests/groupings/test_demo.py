"""Issue 21's demo: La Collecterie answers the Montreuil quote request (reserved to SIAE) in a confirmed solidaire
grouping with another insertion structure of the 93 taken from the real directory, whose account the demo creates;
created once; the private buyer sees it on the tender page."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from marche.cli import DATA_DIR
from marche.demo import COLLECTERIE_SIRET, GME_MESSAGE, GME_PARTNER_EMAIL, PRIVATE_BUYER_EMAIL, REACH_TENDER, \
    DEMO_PASSWORD, create_demo
from marche.extensions import db
from marche.groupings import services
from marche.groupings.models import Grouping, GroupingStatus
from marche.suppliers.importer import import_structures
from marche.suppliers.models import SIAE_KINDS
from tests.conftest import login, page_text


def test_the_demo_grouping_is_real_confirmed_and_made_once(app):
    with app.app_context():
        import_structures(DATA_DIR / "structures_siae_geiq_ea.csv")
        db.session.commit()
    logins = []
    for _ in range(2):
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            logins.append(create_demo())
            db.session.commit()
            db.session.remove()
    assert logins[0] == logins[1]
    assert {"role": "Structure partenaire (groupement)", "email": GME_PARTNER_EMAIL,
            "password": DEMO_PASSWORD} in logins[0]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Grouping)) == 1
        grouping = db.session.scalar(select(Grouping))
        assert (grouping.tender.title, grouping.status, grouping.decp_type) == (
            REACH_TENDER, GroupingStatus.CONFIRMED, "Solidaire")
        lead, partner = sorted(grouping.accepted_members, key=lambda m: m.id != grouping.mandataire_id)
        assert lead.structure.siret == COLLECTERIE_SIRET
        # the partner is a real SIAE of Seine-Saint-Denis, admitted by the lot's reservation, now claimed
        assert partner.structure.department_code == "93" and set(partner.structure.kinds) & SIAE_KINDS
        assert partner.structure.owner_organisation_id == partner.organisation_id
        assert services.confirm_problems(grouping) == []
        assert {gl.id: total for gl, total in zip(grouping.lots, services.lot_totals(grouping).values())} == {
            gl.id: Decimal("100.00") for gl in grouping.lots}
        assert [m.body for m in grouping.messages] == [GME_MESSAGE]
        tender_id, partner_name = grouping.tender_id, partner.display_name
    client = app.test_client()
    login(client, PRIVATE_BUYER_EMAIL, DEMO_PASSWORD)
    text = page_text(client.get(f"/consultations/{tender_id}"))
    assert "Groupements qui ont répondu" in text and partner_name in text
