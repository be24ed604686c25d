"""tenders.queries: which tenders anyone may read, and each filter of the public list on both sides of its edge,
against answers computed here from the rows the test wrote."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marche.accounts.models import Organisation
from marche.clauses.spec import CLAUSE_TYPES, ClauseSpec, Criterion
from marche.core.dates import PARIS
from marche.extensions import db
from marche.geo.models import Commune, Department
from marche.reference.models import Sector
from marche.tenders import queries
from marche.tenders.models import Tender, TenderLot, TenderStatus
from marche.tenders.queries import TenderFilters, cpv_prefix, public_tender, search_published

from .public_tenders import NOW, add_tender, clauses, insertion

ALL_PUBLIC = tuple(str(s) for s in queries.PUBLIC_STATUSES)


@pytest.fixture
def buyer(app_ctx):
    organisation = Organisation(name="Ville de Lille", kind="public_buyer", siret="21590350100017",
                                buyer_category="local_authority")
    db.session.add(organisation)
    db.session.commit()
    return organisation.id


def found(now: datetime | None = None, **filters) -> list[int]:
    filters.setdefault("per_page", 100)
    return [view.tender.id for view in search_published(TenderFilters(**filters), now).results]


def test_only_tenders_past_publication_are_read(buyer):
    ids = {status: add_tender(buyer, f"Consultation {status}", status=status) for status in TenderStatus}
    public = {ids[s] for s in ALL_PUBLIC}
    assert set(found(statuses=tuple(TenderStatus))) == public  # a draft asked for by its status is not listed
    assert found() == [ids[TenderStatus.PUBLISHED]]
    for status, tender_id in ids.items():
        assert (public_tender(tender_id) is not None) == (status in ALL_PUBLIC), status
    assert public_tender(987654) is None


def test_a_published_tender_past_its_deadline_reads_as_closed(buyer):
    now = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)
    second = timedelta(seconds=1)
    open_ = add_tender(buyer, "Encore ouverte", deadline=now + second)
    expired = add_tender(buyer, "Date passée", deadline=now)
    no_deadline = add_tender(buyer, "Sans date limite", deadline=None)
    closed = add_tender(buyer, "Clôturée", status="closed", deadline=now - timedelta(days=3))
    assert set(found(now)) == {open_, no_deadline}
    assert set(found(now, statuses=("closed",))) == {expired, closed}
    statuses = {view.tender.id: view.status for view in
                search_published(TenderFilters(statuses=ALL_PUBLIC, per_page=100), now).results}
    assert statuses == {open_: "published", no_deadline: "published", expired: "closed", closed: "closed"}


def test_text_is_matched_word_by_word_without_accents_in_tender_and_lots(buyer):
    parks = add_tender(buyer, "Élagage des arbres", object="Parcs et jardins de la ville")
    cleaning = add_tender(buyer, "Propreté", lots=[{"title": "Écoles"}, {"title": "Gymnases",
                                                                        "description": "Vitrerie ÉLEVÉE"}])
    percent = add_tender(buyer, "Remise de 100 % sur l'œuvre")
    assert found(words=queries.words_of("elagage")) == [parks]
    assert found(words=queries.words_of("ÉLAGAGE jardins")) == [parks]
    assert found(words=queries.words_of("élagage gymnases")) == []  # every word, in one tender
    assert found(words=queries.words_of("vitrerie elevee")) == [cleaning]
    assert found(words=queries.words_of("oeuvre")) == [percent]
    assert queries.words_of("%% _") == ()  # words are letters and digits: no LIKE wildcard reaches the SQL
    assert found(words=queries.words_of("100 %")) == [percent]  # « % » alone is too short to be a word
    assert queries.words_of("l'entretien d'été, l'été") == ("entretien", "ete")


def test_cpv_prefixes_read_the_hierarchy():
    assert [cpv_prefix(c) for c in ("45000000-7", "45210000", "4521", "90911200-8", "40000000-2")] == \
        ["45", "4521", "4521", "909112", "40"]


def test_cpv_of_the_tender_or_of_a_lot(buyer):
    works = add_tender(buyer, "Travaux", cpv_codes=["45261000-4"])
    lot_only = add_tender(buyer, "Nettoyage", cpv_codes=["90910000-9"], lots=[{"cpv_codes": ["45453000-7"]}])
    green = add_tender(buyer, "Espaces verts", cpv_codes=["77310000-6"])
    assert set(found(cpv_prefixes=("45",))) == {works, lot_only}
    assert found(cpv_prefixes=("4526",)) == [works]
    assert set(found(cpv_prefixes=("4526", "7731"))) == {works, green}
    assert found(cpv_prefixes=("5",)) == []  # a prefix of the first digits only, not inside a code


def test_sectors_and_kinds(buyer):
    green = db.session.execute(select(Sector).where(Sector.slug == "creation-et-entretien-des-espaces-verts")
                               ).scalar_one()
    tagged = add_tender(buyer, "Espaces verts", kind="quote_request")
    tender = db.session.get(Tender, tagged)
    tender.sectors.append(green)
    db.session.commit()
    other = add_tender(buyer, "Autre")
    assert found(sector_ids=(green.id,)) == [tagged]
    assert found(kinds=("quote_request",)) == [tagged]
    assert found(kinds=("call_for_tenders",)) == [other]


TERRITORIES = ["commune:59350", "dep:59", "reg:32", "dep:62", "commune:69123", "dep:69", "reg:84", "commune:69381"]


def _containing(ref: str) -> set[str]:
    """Every reference containing a place, read here from the commune and department tables."""
    kind, code = ref.split(":")
    if kind == "commune":
        row = db.session.get(Commune, code)
        parents = {f"commune:{row.parent_code}"} if row.parent_code else set()
        return {ref, f"dep:{row.department_code}", f"reg:{row.region_code}", "country:FR"} | parents
    if kind == "dep":
        return {ref, f"reg:{db.session.get(Department, code).region_code}", "country:FR"}
    return {ref, "country:FR"}


def test_territory_within_and_intersects(buyer):
    places = {"lille": "commune:59350", "nord": "dep:59", "hdf": "reg:32", "arras": "commune:62041",
              "lyon1": "commune:69381", "lyon": "commune:69123", "rhone": "dep:69"}
    ids = {name: add_tender(buyer, name, place_ref=ref) for name, ref in places.items()}
    # a tender placed in Lille with one lot in Arras: found by either place
    mixed = add_tender(buyer, "mixte", place_ref="commune:59350", lots=[{}, {"place_ref": "commune:62041"}])
    placed = {**{ids[name]: [ref] for name, ref in places.items()}, mixed: ["commune:59350", "commune:62041"]}
    for territory in TERRITORIES:
        within = {t for t, refs in placed.items() if any(territory in _containing(ref) for ref in refs)}
        assert set(found(territory=territory)) == within, territory
        # intersects: also the places that contain the territory (a tender on the whole Nord for Lille)
        around = _containing(territory)
        intersects = within | {t for t, refs in placed.items() if set(refs) & around}
        assert set(found(territory=territory, territory_mode="intersects")) == intersects, territory
    assert ids["lyon1"] in found(territory="commune:69123")  # an arrondissement lies within its commune
    assert ids["nord"] not in found(territory="commune:59350")
    assert ids["nord"] in found(territory="commune:59350", territory_mode="intersects")


def test_reservations(buyer):
    ids = {kind: add_tender(buyer, f"réservé {kind}", lots=[{}, {"clauses": clauses(reservation=kind)}])
           for kind in ("siae", "disability", "both")}
    add_tender(buyer, "ouvert à tous", lots=[{"clauses": clauses(insertion=insertion())}])
    assert set(found(reserved="siae")) == {ids["siae"], ids["both"]}
    assert set(found(reserved="disability")) == {ids["disability"], ids["both"]}
    assert found(reserved="both") == [ids["both"]]
    assert set(found(reserved="any")) == set(ids.values())


SPECS = st.builds(
    ClauseSpec,
    insertion=st.one_of(st.none(), st.just(insertion())),
    reservation=st.sampled_from([None, "siae", "disability", "both"]),
    insertion_object=st.booleans(),
    social_criterion=st.sampled_from([None, Criterion(Decimal(10))]),
    environmental_conditions=st.sampled_from([(), ("reuse",), ("reuse", "packaging")]),
    environmental_criterion=st.sampled_from([None, Criterion(Decimal(20))]),
)


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(SPECS, min_size=1, max_size=5))
def test_clause_types_in_sql_are_those_of_the_spec(buyer, specs):
    db.session.execute(TenderLot.__table__.delete())
    db.session.execute(Tender.__table__.delete())
    ids = [add_tender(buyer, f"t{n}", lots=[{"clauses": spec.to_json()}]) for n, spec in enumerate(specs)]
    for code in CLAUSE_TYPES:
        expected = {tender_id for tender_id, spec in zip(ids, specs) if code in spec.clause_types()}
        assert set(found(clause_types=(code,))) == expected, code
    pair = ("insertion", "reserved")
    expected = {t for t, spec in zip(ids, specs) if set(pair) & set(spec.clause_types())}
    assert set(found(clause_types=pair)) == expected  # a repeated clause type: any of them


def test_lot_summary_gives_clause_types_and_hours(buyer):
    tender_id = add_tender(buyer, "Deux lots", lots=[
        {"amount": Decimal(400000), "clauses": clauses(insertion=insertion(), environmental_conditions=("reuse",))},
        {"clauses": clauses(insertion=insertion(override="120"), reservation="siae")},
        {}])
    view = public_tender(tender_id)
    first, second, third = view.lots
    assert first.clause_types == ("insertion", "environmental_condition")
    assert first.insertion_hours == Decimal(333)  # 400 000 × 0.5 × 0.05 ÷ 30 = 333.3
    assert first.insertion_etp == Decimal("0.21")  # 333 ÷ 1 607 = 0.2072
    assert second.clause_types == ("insertion", "reserved") and second.insertion_hours == Decimal(120)
    assert third.clause_types == () and third.insertion_hours is None


def test_deadline_after_is_a_paris_day(buyer):
    day = date(2027, 1, 15)
    midnight = datetime.combine(day, time(0), tzinfo=PARIS)  # 23:00 UTC the day before, in winter
    on_the_day = add_tender(buyer, "À minuit", deadline=midnight)
    day_before = add_tender(buyer, "La veille", deadline=midnight - timedelta(seconds=1))
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert found(now, deadline_after=day) == [on_the_day]
    assert set(found(now, deadline_after=day - timedelta(days=1))) == {on_the_day, day_before}


def test_order_and_pages(buyer):
    later = add_tender(buyer, "Plus tard", deadline=NOW + timedelta(days=30))
    soon = add_tender(buyer, "Bientôt", deadline=NOW + timedelta(days=2))
    none = add_tender(buyer, "Sans date", deadline=None)
    assert found() == [soon, later, none]
    page = search_published(TenderFilters(per_page=2, page=2))
    assert (page.count, [v.tender.id for v in page.results]) == (3, [none])
    assert search_published(TenderFilters(per_page=2, page=3)).results == []
    assert found(sort="recent") == [none, soon, later]  # same publication instant: the last created first
