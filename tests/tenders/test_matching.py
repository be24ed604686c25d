"""Who can answer a lot, on the real imported directory: reserved lots find only the kinds they allow, "covers"
finds structures based elsewhere whose area reaches the place and leaves out one based there whose area does not,
required commitments count only while valid; the levers' figures are the counts of their modified queries; the
SQL fallback gives the same depth. Expected sets are computed here from the rows (tests/search/directory.py's
snapshot and its own haversine), never from the search code."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from marche import create_app
from marche.accounts.models import Organisation
from marche.extensions import db
from marche.reference.models import Sector
from marche.search import document_types, indexer, sql_backend
from marche.search.query import StructureQuery
from marche.suppliers.models import Structure
from marche.suppliers.services import refresh_derived
from marche.tenders import matching
from marche.tenders.models import LotAward, LotResponse, Tender, TenderLot
from tests.conftest import truncate_tables
from tests.search.directory import TODAY, build_directory, snapshot
from tests.search.test_search import covers

from .factories import complete_clauses, make_tender

#: written here again, not read from marche: the kinds each reservation lets answer
SIAE = {"EI", "AI", "ACI", "ETTI", "EITI"}
DISABILITY = {"EA", "EATT", "ESAT"}
ALLOWED = {None: None, "siae": SIAE, "disability": DISABILITY, "both": SIAE | DISABILITY}
LILLE = "59350"


@pytest.fixture(autouse=True)
def _clean_tables():
    """Overrides the root fixture: this module's tests share one imported directory."""
    yield


@pytest.fixture(scope="module")
def snap(app):
    with app.app_context():
        build_directory()
        assert indexer.reindex_all() == db.session.execute(text("SELECT count(*) FROM structure")).scalar()
        organisation = Organisation(name="Ville de Test", kind="public_buyer", siret="21590350100017",
                                    buyer_category="local_authority")
        db.session.add(organisation)
        db.session.commit()
        data = snapshot()
        data.organisation_id = organisation.id
        db.session.remove()
    yield data
    truncate_tables(app)


def new_lot(snap, *, sectors, place=f"commune:{LILLE}", reservation=None, env=()):
    clauses = complete_clauses()
    if reservation:
        clauses["reservation"] = reservation
    tender = db.session.get(Tender, make_tender(snap.organisation_id, place_ref=place, lots=[clauses]))
    tender.sectors = [db.session.get(Sector, sector) for sector in sectors]
    if not sectors:  # no sector at all: none suggested by a CPV code either
        tender.cpv_codes = []
    tender.lots[0].required_env = list(env)
    db.session.commit()
    return tender.lots[0]


def expected(snap, *, sectors, commune=None, territory=None, kinds=None, env=()) -> set[int]:
    """The structures that can answer, from the rows: kind, one of the sectors, area covering the place, one of
    the commitments still valid (the snapshot keeps only those)."""
    found = set()
    for i, row in snap.rows.items():
        if kinds is not None and not set(row["kinds"]) & kinds:
            continue
        if sectors and not snap.sectors[i] & set(sectors):
            continue
        if env and not snap.env_current[i] & set(env):
            continue
        if commune and not covers(snap, row, commune):
            continue
        if territory:
            kind, code = territory.split(":")
            if code not in row["area_departments" if kind == "dep" else "area_regions"]:
                continue
        found.add(i)
    return found


def common_sector(snap) -> int:
    """The sector the most structures hold (the enrichment gives each one of the first twelve)."""
    counts = {sector: sum(sector in held for held in snap.sectors.values()) for sector in snap.sector_ids[:12]}
    return max(counts, key=counts.get)


@pytest.mark.parametrize("reservation", [None, "siae", "disability", "both"])
def test_a_reserved_lot_is_answered_only_by_the_kinds_it_allows(snap, app_ctx, reservation):
    sector = common_sector(snap)
    lot = new_lot(snap, sectors=[sector], reservation=reservation, place="dep:59")
    wanted = expected(snap, sectors=[sector], territory="dep:59", kinds=ALLOWED[reservation])
    depth = matching.market_depth(lot)
    assert depth.count == len(wanted) > 0
    assert set(matching.matching_ids(lot)) == wanted
    assert {c.id for c in depth.ranked} <= wanted
    if reservation:
        assert all(set(c.kinds) & ALLOWED[reservation] for c in depth.ranked)
        others = expected(snap, sectors=[sector], territory="dep:59") - wanted
        assert others, "the directory has structures of the other kinds there: the reservation leaves them out"


def test_covers_finds_structures_based_elsewhere_and_not_one_based_there_whose_area_misses_it(snap, app_ctx):
    sector = common_sector(snap)
    lille = snap.communes[LILLE]
    # a structure based in Lille whose area is somewhere else: its intervention area is Pas-de-Calais only
    based_here = next(i for i, row in sorted(snap.rows.items())
                      if row["commune_code"] == LILLE and sector in snap.sectors[i])
    structure = db.session.get(Structure, based_here)
    before = (structure.area_kind, list(structure.area_refs or []), structure.area_radius_km)
    structure.area_kind, structure.area_refs = "territories", ["dep:62"]
    refresh_derived(structure)
    db.session.commit()
    indexer.index_ids(document_types.get("structures"), db.session, [based_here], wait=True)
    try:
        snap.rows[based_here].update(area_kind="territories", area_refs=["dep:62"])
        lot = new_lot(snap, sectors=[sector])
        wanted = expected(snap, sectors=[sector], commune=LILLE)
        found = set(matching.matching_ids(lot))
        assert found == wanted and matching.market_depth(lot).count == len(wanted)
        assert based_here not in found
        elsewhere = {i for i in found if snap.rows[i]["commune_code"] != LILLE}
        assert elsewhere and any(snap.rows[i]["department_code"] != lille["department_code"] for i in elsewhere)
    finally:
        structure = db.session.get(Structure, based_here)
        structure.area_kind, structure.area_refs, structure.area_radius_km = before
        refresh_derived(structure)
        db.session.commit()
        indexer.index_ids(document_types.get("structures"), db.session, [based_here], wait=True)
        snap.rows[based_here].update(area_kind=before[0], area_refs=before[1])


def test_required_commitments_count_only_while_valid(snap, app_ctx):
    sector = common_sector(snap)
    lot = new_lot(snap, sectors=[sector], place="reg:32", env=["iso14001"])
    wanted = expected(snap, sectors=[sector], territory="reg:32", env=["iso14001"])
    depth = matching.market_depth(lot)
    assert depth.count == len(wanted) > 0 and set(matching.matching_ids(lot)) == wanted
    assert all("Engagement exigé en cours de validité : ISO 14001" in c.reasons for c in depth.ranked)
    # EMAS: the directory's EMAS commitments all expired yesterday — they exist, they count nowhere
    holders = set(db.session.execute(text("SELECT structure_id FROM env_commitment WHERE label = 'emas'")).scalars())
    assert holders and all(snap.rows[i] for i in holders)
    expired_lot = new_lot(snap, sectors=[], place=None, env=["emas"])
    assert matching.market_depth(expired_lot).count == len(expected(snap, sectors=[], env=["emas"])) == 0


def test_an_expired_commitment_stops_counting_the_day_after_it_expires(snap, app_ctx):
    """Both sides of the boundary: valid through its last day, gone the day after."""
    holder = min(i for i, row in snap.rows.items() if not snap.env_current[i])
    structure = db.session.get(Structure, holder)
    from marche.suppliers.models import EnvCommitment

    commitment = EnvCommitment(label="rge", expires_on=TODAY)
    structure.env_commitments.append(commitment)
    db.session.commit()
    indexer.index_ids(document_types.get("structures"), db.session, [holder], wait=True)
    lot = new_lot(snap, sectors=[], place=None, env=["rge"])
    try:
        assert set(matching.matching_ids(lot)) == {holder}
        commitment.expires_on = TODAY - timedelta(days=1)
        db.session.commit()
        indexer.index_ids(document_types.get("structures"), db.session, [holder], wait=True)
        assert matching.market_depth(lot).count == 0
    finally:
        db.session.delete(commitment)
        db.session.commit()
        indexer.index_ids(document_types.get("structures"), db.session, [holder], wait=True)


def thin_lot(snap):
    """A lot (sectors, reservation, commitment, commune) that 1 or 2 structures can answer while at least 3 could
    across the country, found from the rows."""
    for reservation in ("siae", "disability"):
        for env in ("iso14001", "b_corp"):
            for first in snap.sector_ids[:12]:
                sectors = [first, snap.sector_ids[(snap.sector_ids.index(first) + 1) % 12]]
                able = [i for i in expected(snap, sectors=sectors, kinds=ALLOWED[reservation], env=[env])]
                if len(able) < 3 or sum(snap.rows[i]["area_kind"] == "country" for i in able) > 0:
                    continue
                for i in able:
                    code = snap.rows[i]["commune_code"]
                    if code and snap.communes[code]["latitude"] is not None and \
                            sum(covers(snap, snap.rows[j], code) for j in able) < 3:
                        return sectors, reservation, env, code
    raise AssertionError("no thin lot in the directory")


def test_a_thin_lot_is_warned_with_each_lever_counted_as_its_modified_query(snap, app_ctx):
    sectors, reservation, env, code = thin_lot(snap)
    kinds = ALLOWED[reservation]
    other = DISABILITY if reservation == "siae" else SIAE
    commune = snap.communes[code]
    lot = new_lot(snap, sectors=sectors, place=f"commune:{code}", reservation=reservation, env=[env])
    depth = matching.market_depth(lot)
    base = expected(snap, sectors=sectors, commune=code, kinds=kinds, env=[env])
    assert depth.count == len(base) < 3 and depth.warning and "risque d'être infructueux" in depth.warning
    levers = {lever.code: lever for lever in depth.levers}
    dep, reg = commune["department_code"], commune["region_code"]
    assert levers[f"env:{env}"].count == len(expected(snap, sectors=sectors, commune=code, kinds=kinds))
    assert levers[f"place:dep:{dep}"].count == len(expected(snap, sectors=sectors, territory=f"dep:{dep}",
                                                            kinds=kinds, env=[env]))
    assert levers[f"place:reg:{reg}"].count == len(expected(snap, sectors=sectors, territory=f"reg:{reg}",
                                                            kinds=kinds, env=[env]))
    assert levers["place:country"].count == len(expected(snap, sectors=sectors, kinds=kinds, env=[env])) >= 3
    complete = {i for i in base if set(sectors) <= snap.sectors[i]}
    for sector in sectors:
        lever = levers[f"sector:{sector}"]
        assert lever.base == len(complete) == depth.complete_count
        assert lever.count == len(expected(snap, sectors=[sector], commune=code, kinds=kinds, env=[env]))
    assert levers["reservation:both"].count == len(expected(snap, sectors=sectors, commune=code,
                                                            kinds=kinds | other, env=[env]))
    assert levers["gme"].count == len(expected(snap, sectors=sectors, territory=f"dep:{dep}", kinds=kinds))
    assert all(lever.base == depth.count for code_, lever in levers.items() if not code_.startswith("sector:"))
    assert levers["place:country"].widens and f"passerait de {depth.count} structure" in levers["place:country"].effect


def test_a_deep_lot_has_no_warning_and_no_levers(snap, app_ctx):
    lot = new_lot(snap, sectors=[common_sector(snap)], place=None)
    depth = matching.market_depth(lot)
    assert depth.count >= 3 and depth.warning is None and depth.levers == []
    assert len(depth.ranked) == matching.TOP


def test_the_count_is_the_exact_count_of_the_sql_backend_beyond_a_thousand(snap, app_ctx):
    lot = new_lot(snap, sectors=[], place=None)  # every structure: past Meilisearch's default 1 000 hits
    query = matching.lot_query(lot)
    exact = sql_backend.search(query).count
    assert exact == len(snap.rows) > 1000
    assert matching.market_depth(lot).count == exact


def test_the_ranking_reads_sector_fit_claims_commitments_and_past_answers(snap, app_ctx):
    sector = common_sector(snap)
    lot = new_lot(snap, sectors=[sector], place="dep:59")
    depth = matching.market_depth(lot, top=10_000)
    scores = [c.score for c in depth.ranked]
    assert scores == sorted(scores, reverse=True)
    claimed = next(c for c in depth.ranked if c.claimed)
    assert any("Fiche revendiquée" in reason for reason in claimed.reasons)
    # a lot won on the portal adds its points and its reason
    plain = next(c for c in depth.ranked if not c.claimed)
    other = new_lot(snap, sectors=[sector])
    db.session.add(LotAward(lot_id=other.id, awarded=True, holder_structure_id=plain.id, holder_siret="75187049400026",
                            holder_name=plain.name, amount=1000, awarded_on=TODAY))
    db.session.add(LotResponse(lot_id=other.id, structure_id=plain.id, answered_at=db.func.now()))
    db.session.commit()
    after = next(c for c in matching.market_depth(lot, top=10_000).ranked if c.id == plain.id)
    assert after.score == plain.score + matching.ANSWERED_POINTS + matching.AWARDED_POINTS
    assert "A déjà remporté un lot d'une consultation publiée sur le portail" in after.reasons
    assert matching.reasons_for(plain.id, lot) == list(after.reasons)
    assert matching.reasons_for(db.session.get(Structure, plain.id), lot) == list(after.reasons)
    best = matching.market_depth(lot).ranked
    assert matching.reasons_by_structure(lot, [c.id for c in best]) == {c.id: list(c.reasons) for c in best}


def test_meilisearch_down_gives_the_same_depth_from_sql(snap, app, app_config):
    sectors = snap.sector_ids[:2]
    with app.app_context():
        lot_id = new_lot(snap, sectors=sectors, place="dep:59", reservation="siae").id
        up = matching.market_depth(db.session.get(TenderLot, lot_id))
        assert up.backend == "meilisearch"
        db.session.remove()
    down = create_app({**app_config, "MEILI_URL": "http://127.0.0.1:1"})
    with down.app_context():
        answer = matching.market_depth(db.session.get(TenderLot, lot_id))
        assert answer.backend == "sql"
        assert answer.count == up.count
        assert [c.id for c in answer.ranked] == [c.id for c in up.ranked]
        assert [c.reasons for c in answer.ranked] == [c.reasons for c in up.ranked]
        db.session.remove()
