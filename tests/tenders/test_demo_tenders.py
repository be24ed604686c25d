"""The demo tenders of `make run`: every state for the demo buyers, created once, clause documents that the
clauses read back, insertion hours sized by the calculator, no blocking legal line past the draft, an award to
a structure of the directory; the public API shows only what is public."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from marche.cli import DATA_DIR
from marche.clauses import legal
from marche.clauses.rules import DEFAULTS_BY_SECTOR_GROUP
from marche.clauses.spec import ClauseSpec
from marche.core.identifiers import is_valid_siret
from marche.demo import COLLECTERIE_SIRET, create_demo, demo_tenders
from marche.extensions import db
from marche.suppliers.importer import import_structures
from marche.suppliers.models import Structure
from marche.tenders.models import LotAward, Tender, TenderStatus


def _create(app, twice: bool = True) -> None:
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        create_demo()
        db.session.commit()
        if twice:
            create_demo()
            db.session.commit()
        db.session.remove()


@pytest.fixture
def demo(app):
    _create(app)
    with app.app_context():
        yield db.session.execute(select(Tender).order_by(Tender.id)).scalars().all()
        db.session.remove()


def test_every_state_for_the_demo_buyers_created_once(demo):
    assert len(demo) == len(demo_tenders())  # the second run added nothing
    assert {t.status for t in demo} == {str(s) for s in TenderStatus}
    buyers = {t.organisation.name for t in demo}
    assert buyers == {"Ville de Lille", "Groupe Démo Industries (RSE)"}
    assert any(len(t.lots) == 2 for t in demo if t.status == "published")


def test_clause_documents_are_read_back_and_hours_come_from_the_calculator(demo):
    sized = 0
    for tender in demo:
        assert tender.amount == sum(lot.amount for lot in tender.lots)
        for lot in tender.lots:
            spec = ClauseSpec.from_json(lot.clauses)
            assert spec.to_json() == lot.clauses  # written through ClauseSpec
            if spec.insertion is not None:
                i = spec.insertion
                expected = (lot.amount * i.labour_share * i.insertion_rate / i.hourly_cost).quantize(
                    Decimal(1), rounding=ROUND_HALF_UP)
                assert i.amount_basis == lot.amount and i.hours == expected and i.hours_override is None
                sized += 1
    assert sized >= 5
    lille = next(t for t in demo if t.title == "Entretien des espaces verts des écoles de Lille")
    defaults = DEFAULTS_BY_SECTOR_GROUP["espaces-verts-exterieurs-2"]
    first = ClauseSpec.from_json(lille.lots[0].clauses).insertion
    assert (first.labour_share, first.insertion_rate, first.hourly_cost) == (
        defaults.labour_share.value, defaults.insertion_rate.value, defaults.hourly_cost.value)
    # 180 000 € × 70 % × 10 % ÷ 28 €/h
    assert first.hours == (Decimal(180_000) * defaults.labour_share.value * defaults.insertion_rate.value
                           / defaults.hourly_cost.value).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def test_public_tenders_past_the_draft_pass_the_legal_check(demo):
    checked = 0
    for tender in demo:
        category = tender.organisation.buyer_category or "private"
        if tender.status == "draft":
            continue
        facts = legal.TenderFacts(category, tender.nature, tender.amount, tender.launch_date,
                                  procedure=tender.procedure)
        result = legal.check(facts, [ClauseSpec.from_json(lot.clauses).lot_clauses(lot.title) for lot in tender.lots])
        assert result.blocking == (), (tender.title, result.blocking)
        checked += category != "private"
    assert checked == 6
    # the largest one reaches the EU threshold: its social consideration is required, and met by each lot
    lille = next(t for t in demo if t.title == "Entretien des espaces verts des écoles de Lille")
    facts = legal.TenderFacts("local_authority", lille.nature, lille.amount, lille.launch_date)
    social = legal.check(facts, [ClauseSpec.from_json(lot.clauses).lot_clauses() for lot in lille.lots]).obligations[0]
    assert social.required and social.status == "satisfied"


def test_awards_without_the_directory_name_la_collecterie_by_siret(demo):
    awards = db.session.execute(select(LotAward)).scalars().all()
    awarded = [a for a in awards if a.awarded]
    assert len(awarded) == 2 and len(awards) == 4  # two lots awarded, two unsuccessful
    assert all(a.holder_siret == COLLECTERIE_SIRET and is_valid_siret(a.holder_siret) for a in awarded)
    for tender in demo:
        lots = {lot.status for lot in tender.lots}
        if tender.status == "awarded":
            assert "awarded" in lots
        elif tender.status == "unsuccessful":
            assert lots == {"unsuccessful"} and tender.outcome_reason


def test_with_the_directory_the_lille_award_goes_to_an_insertion_company_of_the_nord(app):
    with app.app_context():
        import_structures(DATA_DIR / "structures_siae_geiq_ea.csv")
        db.session.commit()
    _create(app, twice=False)
    with app.app_context():
        holders = dict(db.session.execute(select(Tender.title, Structure.department_code)
                                          .join(Tender.lots).join(LotAward).join(Structure)).all())
        assert holders == {"Repas en circuit court pour les centres de loisirs": "59",
                           "Collecte et réemploi du mobilier de bureau du site de Montreuil": "93"}
        assert db.session.scalar(select(func.count()).select_from(LotAward)
                                 .where(LotAward.holder_structure_id.is_(None), LotAward.awarded)) == 0


def test_the_api_shows_only_the_public_demo_tenders(app, client):
    _create(app, twice=False)
    listed = client.get("/api/v1/tenders").get_json()
    with app.app_context():
        published = {t.id for t in db.session.execute(select(Tender).where(Tender.status == "published")).scalars()}
        hidden = [t.id for t in db.session.execute(
            select(Tender).where(Tender.status.in_(["draft", "submitted", "cancelled"]))).scalars()]
    assert {r["id"] for r in listed["results"]} == published and len(published) == 3
    for tender_id in hidden:
        assert client.get(f"/api/v1/tenders/{tender_id}").status_code == 404


def test_the_demo_structure_is_reached_by_the_montreuil_quote_request_it_really_matches(app, client):
    """Issue 20's demo: La Collecterie notified (with its own reasons), interested, a question answered publicly
    (its name not shown), a saved search and a calendar link; created once."""
    from marche.demo import DEMO_QUESTION, REACH_TENDER
    from marche.search import sql_backend
    from marche.tenders import matching
    from marche.tenders.models import (LotResponse, RelayPreference, SavedSearch, TenderNotification,
                                       TenderQuestion)

    with app.app_context():
        import_structures(DATA_DIR / "structures_siae_geiq_ea.csv")
        db.session.commit()
    _create(app)  # twice: nothing doubles
    with app.app_context():
        tender = db.session.scalar(select(Tender).where(Tender.title == REACH_TENDER))
        collecterie = db.session.scalar(select(Structure).where(Structure.siret == COLLECTERIE_SIRET))
        lot = tender.lots[0]
        # the relay would really have found it: the lot's directory query (SQL backend) holds it
        assert collecterie.id in sql_backend.search_ids(matching.lot_query(lot, claimed=True), 20_000)
        notifications = db.session.execute(select(TenderNotification)).scalars().all()
        assert [(n.tender_id, n.structure_id) for n in notifications] == [(tender.id, collecterie.id)]
        assert notifications[0].reasons[str(lot.id)] == matching.reasons_for(collecterie.id, lot) != []
        responses = db.session.execute(select(LotResponse)).scalars().all()
        assert [(r.lot_id, r.interest) for r in responses] == [(lot.id, "interested")]
        assert db.session.scalar(select(func.count()).select_from(TenderQuestion)) == 1
        assert db.session.scalar(select(func.count()).select_from(SavedSearch)) == 1
        assert db.session.get(RelayPreference, collecterie.id).calendar_token
        tender_id, name = tender.id, collecterie.display_name
    page = client.get(f"/consultations/{tender_id}").get_data(as_text=True)
    assert DEMO_QUESTION.replace("'", "&#39;") in page and name not in page.split('id="questions"')[1]
