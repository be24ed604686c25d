"""Issue 22's demo: the demo facilitator follows La Collecterie's contract in Lille with five participants and eight
months of hours in every state; the awarded demo lots with an insertion clause became contracts; made once."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from marche.demo import INSERTION_DEMO_TITLE, create_demo
from marche.extensions import db
from marche.insertion import services
from marche.insertion.models import Contract, DeclarationStatus, HoursDeclaration, MonthLock, ParticipantExit
from marche.tenders.models import LotStatus, TenderLot
from tests.conftest import login, page_text


def test_the_insertion_demo_is_made_once_and_shows_every_state(app):
    for _ in range(2):
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            create_demo()
            db.session.commit()
            db.session.remove()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contract).where(
            Contract.title == INSERTION_DEMO_TITLE)) == 1
        contract = db.session.scalar(select(Contract).where(Contract.title == INSERTION_DEMO_TITLE))
        lines = db.session.scalars(select(HoursDeclaration).where(HoursDeclaration.contract_id == contract.id)).all()
        by_status = {status: [d for d in lines if d.status == status] for status in DeclarationStatus}
        this_month = datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/Paris")).date().replace(day=1)
        index = this_month.year * 12 + this_month.month - 2
        last_month = this_month.replace(year=index // 12, month=index % 12 + 1)
        # 2 + 3 + 4 + 5 × 5 lines over eight months, and one correction
        assert len(lines) == 2 + 3 + 4 + 5 * 5 + 1
        assert {d.month for d in by_status[DeclarationStatus.SUBMITTED]} == {last_month}
        assert len(by_status[DeclarationStatus.SUBMITTED]) == 5
        assert len(by_status[DeclarationStatus.REJECTED]) == 1 and by_status[DeclarationStatus.REJECTED][0]\
            .rejection_reason
        correction = next(d for d in lines if d.corrects_id)
        assert correction.status == DeclarationStatus.VALIDATED and correction.hours == correction.corrects.hours - 12
        assert db.session.scalar(select(func.count()).select_from(MonthLock).where(
            MonthLock.contract_id == contract.id)) == 3
        assert contract.holder_organisation is not None and contract.facilitator_organisation is not None
        # every awarded demo lot with an insertion clause is followed
        awarded = db.session.scalars(select(TenderLot).where(TenderLot.status == LotStatus.AWARDED)).all()
        with_clause = [lot for lot in awarded if (lot.clauses or {}).get("insertion")]
        assert with_clause and all(db.session.scalar(select(Contract.id).where(Contract.lot_id == lot.id))
                                   for lot in with_clause)
        contract_id = contract.id
        exits = db.session.scalars(select(ParticipantExit).where(ParticipantExit.contract_id == contract.id)).all()
        assert sorted(e.situation for e in exits) == ["cdi", "training"]
        assert services.month_label(last_month) in {services.month_label(d.month) for d in lines}
    client = app.test_client()
    login(client, "facilitateur@demo.marche.local", "Demo-marche-2026")
    page = page_text(client.get(f"/contrats/{contract_id}"))
    assert INSERTION_DEMO_TITLE in page and "remplacée par une correction" in page and "à valider" in page
