"""Partners a grouping lacks (`groupings.suggestions`): the gaps of each lot, the structures that fill them, ranked,
the « mise à disposition » list and the dashboard's tenders a partner would complete. Hand-built structures around
Lille and Roubaix first, then the real imported directory. Every expectation is computed here from the test's own
coordinates, areas, kinds and sectors (the distance with tests/search/directory.py's haversine), never read from
the code under test."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import text

from marche.core.models import utcnow
from marche.extensions import db
from marche.groupings import services, suggestions
from marche.groupings.models import Grouping, GroupingLot, GroupingMember, MemberStatus
from marche.reference.models import Sector
from marche.suppliers.models import Structure
from marche.suppliers.services import refresh_derived
from marche.tenders.models import Tender, TenderStatus
from tests.search.directory import build_directory, haversine, snapshot
from tests.search.test_search import covers
from tests.tenders.answers_world import _SIRETS, owned_structure
from tests.tenders.factories import complete_clauses, make_tender, no_environment_clauses

from .world import formed, gme, structure, user  # noqa: F401  (the fixture)

LILLE, ROUBAIX, ARRAS = "59350", "59512", "62041"
#: written here again, not read from marche: the kinds each reservation admits
SIAE = {"EI", "AI", "ACI", "ETTI", "EITI"}
DISABILITY = {"EA", "EATT", "ESAT"}
#: the score as the module's docstring states it, written again
DECLARED, INFERRED, CLAIMED, NEAR, SCALE, PLACE = 30, 15, 15, 20, 100, 25


def commune(code: str) -> dict:
    return dict(db.session.execute(text("SELECT code, name, department_code, region_code, latitude, longitude "
                                        "FROM commune WHERE code = :code"), {"code": code}).mappings().one())


def sectors_of_reference(count: int, offset: int = 0) -> list[SimpleNamespace]:
    """Sectors as plain values (id, name): they outlive the sessions `formed` closes."""
    return [SimpleNamespace(id=row.id, name=row.name) for row in db.session.execute(
        db.select(Sector.id, Sector.name).order_by(Sector.id).offset(offset).limit(count))]


def sector_pair() -> tuple[SimpleNamespace, SimpleNamespace]:
    first, second = sectors_of_reference(2)
    return first, second


def place_at(code: str, name: str, kinds: tuple[str, ...], sectors=(), *, radius: int | None = 30,
             refs: tuple[str, ...] = (), owner: int | None = None) -> int:
    """A published profile based at the commune's centre, with a radius area (or territories `refs`)."""
    town = commune(code)
    row = Structure(siret=next(_SIRETS), name=name, kinds=list(kinds), city=town["name"], commune_code=code,
                    department_code=town["department_code"], region_code=town["region_code"],
                    latitude=town["latitude"], longitude=town["longitude"], source="test",
                    area_kind="territories" if refs else "radius", area_radius_km=None if refs else radius,
                    area_refs=list(refs), owner_organisation_id=owner,
                    claimed_at=utcnow() if owner else None, publication="published")
    row.sectors = [db.session.get(Sector, getattr(sector, "id", sector)) for sector in sectors]
    db.session.add(row)
    refresh_derived(row)
    db.session.commit()
    return row.id


def give_sectors(structure_id: int, sectors) -> None:
    row = db.session.get(Structure, structure_id)
    row.sectors = [db.session.get(Sector, sector.id) for sector in sectors]
    db.session.commit()


def set_area(structure_id: int, refs: list[str]) -> None:
    row = db.session.get(Structure, structure_id)
    row.area_kind, row.area_refs = "territories", refs
    refresh_derived(row)
    db.session.commit()


def tender_sectors(tender_id: int, sectors) -> None:
    tender = db.session.get(Tender, tender_id)
    tender.sectors = [db.session.get(Sector, sector.id) for sector in sectors]
    db.session.commit()


def expected_score(row_id: int, held_points: int, place_points: int = 0, point: dict | None = None) -> int:
    row = db.session.get(Structure, row_id)
    point = point or commune(LILLE)
    distance = haversine(point["latitude"], point["longitude"], row.latitude, row.longitude)
    return (held_points + place_points + (CLAIMED if row.owner_organisation_id else 0)
            + round(NEAR * max(0.0, 1 - round(distance, 1) / SCALE)))


def suggest_for(grouping_id: int, top: int = 10):
    return suggestions.suggest(db.session.get(Grouping, grouping_id), top=top)


# --- hand-built structures around Lille and Roubaix ---------------------------------------------------------

def test_a_missing_sector_is_filled_by_those_that_hold_it_and_can_work_at_the_place(app_ctx, gme):
    espaces, nettoyage = sector_pair()
    tender_sectors(gme["tender"], [espaces, nettoyage])
    give_sectors(gme["aci_s"], [espaces])
    roubaix = place_at(ROUBAIX, "Propreté de Roubaix", ("EI",), [nettoyage])
    lille = place_at(LILLE, "Nettoyage lillois", ("ACI",), [nettoyage], owner=gme["company_org"])
    arras = place_at(ARRAS, "Propreté d'Arras", ("EI",), [nettoyage], radius=10)  # 10 km around Arras: not Lille
    same = place_at(ROUBAIX, "Espaces verts de Roubaix", ("EI",), [espaces])  # holds no missing sector
    give_sectors(gme["stranger_s"], [nettoyage])  # in Lille, but already answering lot 1 in its own grouping
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        tender = db.session.get(Tender, gme["tender"])
        services.start(user(gme["stranger"]), tender, structure(gme["stranger_s"]), [tender.lots[0].id], "conjoint")
        db.session.commit()
    grouping_id = formed(gme, lots=(0,))
    db.session.remove()

    result = suggest_for(grouping_id)
    (gap,) = result.gaps
    assert gap.missing_sectors == (nettoyage.name,) and gap.place_covered and not gap.complete
    assert not result.complete
    assert [p.id for p in result.partners] == sorted(
        [roubaix, lille], key=lambda i: (-expected_score(i, DECLARED), i))
    assert not {arras, same, gme["stranger_s"]} & {p.id for p in result.partners}
    by_id = {p.id: p for p in result.partners}
    for partner_id in (roubaix, lille):
        assert by_id[partner_id].score == expected_score(partner_id, DECLARED)
        assert f"Secteur {nettoyage.name} manquant : le groupement ne le couvre pas" in by_id[partner_id].reasons
        assert by_id[partner_id].lot_ids == (db.session.get(Tender, gme["tender"]).lots[0].id,)
    town = commune(ROUBAIX)
    lille_town = commune(LILLE)
    far = round(haversine(lille_town["latitude"], lille_town["longitude"], town["latitude"], town["longitude"]), 1)
    assert by_id[roubaix].distance_km == far
    assert any(r.startswith("Peut intervenir à Lille") and "rayon de 30 km" in r for r in by_id[roubaix].reasons)
    assert by_id[lille].claimed and by_id[lille].invitation == "directory"
    assert not by_id[roubaix].claimed and by_id[roubaix].invitation == "email"
    assert by_id[roubaix].as_json()["url"] == f"/structures/{db.session.get(Structure, roubaix).siret}"


def test_a_sector_held_by_an_invited_member_is_covered_and_declined_or_removed_structures_are_never_suggested(
        app_ctx, gme):
    espaces, nettoyage = sector_pair()
    tender_sectors(gme["tender"], [espaces, nettoyage])
    give_sectors(gme["aci_s"], [espaces])
    give_sectors(gme["stranger_s"], [nettoyage])  # claimed, Lille, holds the missing sector: it will decline
    other = place_at(LILLE, "Nettoyage invité puis retiré", ("EI",), [nettoyage], owner=gme["company_org"])
    kept = place_at(ROUBAIX, "Propreté de Roubaix", ("EI",), [nettoyage])
    grouping_id = formed(gme, lots=(0,))
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        grouping = db.session.get(Grouping, grouping_id)
        declined = services.invite_structure(user(gme["aci"]), grouping, structure(gme["stranger_s"]), "Nettoyage")
        services.answer_invitation(user(gme["stranger"]), declined, False, reason="Pas disponible")
        removed = services.invite_structure(user(gme["aci"]), grouping, structure(other), "Nettoyage")
        services.remove_member(user(gme["aci"]), grouping, removed)
        db.session.commit()
        statuses = {m.structure_id: m.status for m in grouping.members}
    assert statuses[gme["stranger_s"]] == MemberStatus.DECLINED and statuses[other] == MemberStatus.REMOVED
    result = suggest_for(grouping_id)
    assert [p.id for p in result.partners] == [kept]

    # the Roubaix structure invited (pending): its sector counts as held, nothing is missing any more
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        grouping = db.session.get(Grouping, grouping_id)
        db.session.get(Structure, kept).owner_organisation_id = gme["company_org"]
        db.session.flush()
        services.invite_structure(user(gme["aci"]), grouping, structure(kept), "Nettoyage")
        db.session.commit()
    result = suggest_for(grouping_id)
    assert result.gaps[0].missing_sectors == () and result.complete
    assert result.partners == []  # the only others of these sectors declined, were removed or are members


def test_nothing_missing_suggests_capacity_with_a_reason_saying_so(app_ctx, gme):
    espaces, _ = sector_pair()
    tender_sectors(gme["tender"], [espaces])
    give_sectors(gme["aci_s"], [espaces])
    more = place_at(ROUBAIX, "Espaces verts de Roubaix", ("EI",), [espaces])
    place_at(ROUBAIX, "Autre métier", ("EI",), [])  # no sector of the lot: adds no capacity
    grouping_id = formed(gme, lots=(0,))
    result = suggest_for(grouping_id)
    assert result.complete and [p.id for p in result.partners] == [more]
    assert any(r.startswith("Renforce la capacité du lot 1") for r in result.partners[0].reasons)
    assert result.partners[0].score == expected_score(more, DECLARED)


def test_a_place_no_member_covers_is_a_gap_filled_by_those_that_reach_it(app_ctx, gme):
    espaces, _ = sector_pair()
    tender_sectors(gme["tender"], [espaces])
    for member in ("aci_s", "ea_s"):
        give_sectors(gme[member], [espaces])
        set_area(gme[member], ["dep:62"])  # based in Lille, working in the Pas-de-Calais only
    near = place_at(ROUBAIX, "Espaces verts de Roubaix", ("EI",), [espaces])
    department = place_at(ARRAS, "Espaces verts du Nord", ("ACI",), [espaces], refs=("dep:59",))
    place_at(ARRAS, "Espaces verts d'Arras", ("EI",), [espaces], radius=10)
    grouping_id = formed(gme, lots=(0,))
    result = suggest_for(grouping_id)
    (gap,) = result.gaps
    assert not gap.place_covered and gap.missing_sectors == () and not result.complete
    assert gap.place.startswith("Lille")
    assert [p.id for p in result.partners] == sorted(
        [near, department], key=lambda i: (-expected_score(i, DECLARED, PLACE), i))
    by_id = {p.id: p for p in result.partners}
    assert by_id[near].score == expected_score(near, DECLARED, PLACE)
    assert any(r.startswith("Couvre Lille") and "aucun membre" in r for r in by_id[near].reasons)
    assert any(r.startswith("Peut intervenir à Lille") and "intervient sur Nord (59)" in r
               for r in by_id[department].reasons)


def test_a_lot_reserved_to_ea_and_esat_never_suggests_an_ei(app_ctx, gme):
    espaces, nettoyage = sector_pair()
    disability = dict(complete_clauses(), reservation="disability")
    tender_id = make_tender(gme["buyer_org"], status=TenderStatus.PUBLISHED, lots=[disability], title="Propreté")
    tender_sectors(tender_id, [espaces, nettoyage])
    give_sectors(gme["ea_s"], [espaces])
    ei = place_at(LILLE, "Propreté EI", ("EI",), [nettoyage], owner=gme["company_org"])
    esat = place_at(ROUBAIX, "ESAT de Roubaix", ("ESAT",), [nettoyage])
    both = place_at(ROUBAIX, "EA et EI", ("EA", "EI"), [nettoyage])
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        tender = db.session.get(Tender, tender_id)
        grouping = services.start(user(gme["ea"]), tender, structure(gme["ea_s"]), [tender.lots[0].id], "conjoint")
        db.session.commit()
        grouping_id = grouping.id
    result = suggest_for(grouping_id)
    ids = [p.id for p in result.partners]
    assert ei not in ids and set(ids) == {esat, both}
    assert all(set(p.kinds) & DISABILITY for p in result.partners)
    by_id = {p.id: p for p in result.partners}
    assert "ESAT : lot réservé L2113-12" in by_id[esat].reasons and "EA : lot réservé L2113-12" in by_id[both].reasons
    assert result.gaps[0].reservation.startswith("Lot réservé aux EA et ESAT (L2113-12)")


def test_mise_a_disposition_lists_ai_etti_geiq_that_reach_the_place_for_a_lot_with_an_insertion_clause(
        app_ctx, gme):
    geiq = place_at(ROUBAIX, "GEIQ Propreté", ("GEIQ",), [])
    ai = place_at(LILLE, "AI lilloise", ("AI",), [], owner=gme["company_org"])
    place_at(ARRAS, "ETTI d'Arras", ("ETTI",), [], radius=10)  # cannot work in Lille
    place_at(ROUBAIX, "EI de Roubaix", ("EI",), [])  # not a kind that puts staff at disposal
    grouping_id = formed(gme, lots=(0, 1))
    result = suggest_for(grouping_id)
    lots = [lot.id for lot in db.session.get(Tender, gme["tender"]).lots]
    assert all(gap.insertion for gap in result.gaps)
    assert [p.id for p in result.provision] == sorted([geiq, ai], key=lambda i: (-expected_score(i, 0), i))
    by_id = {p.id: p for p in result.provision}
    assert by_id[geiq].lot_ids == tuple(lots)
    assert ("GEIQ : met à disposition des salariés en parcours pour les heures d'insertion du lot 1"
            in by_id[geiq].reasons)
    assert "AI : met à disposition des salariés en insertion pour les heures d'insertion du lot 2" in by_id[ai].reasons

    # a lot without an insertion clause asks for no one
    tender = db.session.get(Tender, gme["tender"])
    for lot in tender.lots:
        lot.clauses = {k: v for k, v in lot.clauses.items() if k != "insertion"}
    db.session.commit()
    assert suggest_for(grouping_id).provision == []


def test_the_ranking_puts_more_missing_sectors_first_then_claimed_then_nearer(app_ctx, gme):
    first, second = sector_pair()
    (third,) = sectors_of_reference(1, offset=2)
    tender_sectors(gme["tender"], [first, second, third])
    give_sectors(gme["aci_s"], [first])
    two = place_at(ARRAS, "Deux secteurs, loin", ("EI",), [second, third], refs=("dep:59",))
    claimed = place_at(ARRAS, "Un secteur, revendiquée, loin", ("EI",), [second], refs=("dep:59",),
                       owner=gme["company_org"])
    near = place_at(LILLE, "Un secteur, à Lille", ("EI",), [third])
    roubaix = place_at(ROUBAIX, "Un secteur, à Roubaix", ("EI",), [second])
    grouping_id = formed(gme, lots=(0,))
    result = suggest_for(grouping_id, top=3)
    points = {two: 2 * DECLARED, claimed: DECLARED, near: DECLARED, roubaix: DECLARED}
    distance = {i: haversine(commune(LILLE)["latitude"], commune(LILLE)["longitude"],
                             db.session.get(Structure, i).latitude, db.session.get(Structure, i).longitude)
                for i in points}
    wanted = sorted(points, key=lambda i: (-expected_score(i, points[i]), distance[i], i))
    assert [p.id for p in result.partners] == wanted[:3]
    assert [p.score for p in result.partners] == [expected_score(i, points[i]) for i in wanted[:3]]
    assert result.partners[0].id == two  # two missing sectors outweigh a claim and nearness


def test_completing_tenders_finds_lots_a_structure_fits_partly_that_a_partner_completes(app_ctx, gme):
    espaces, nettoyage = sector_pair()
    tender_sectors(gme["tender"], [espaces, nettoyage])
    give_sectors(gme["aci_s"], [espaces])
    partner = place_at(ROUBAIX, "Propreté de Roubaix", ("EI",), [nettoyage])
    # closed: the deadline has passed
    closed = make_tender(gme["buyer_org"], status=TenderStatus.PUBLISHED, title="Fermée",
                         answers_deadline=utcnow() - timedelta(days=1))
    tender_sectors(closed, [espaces, nettoyage])
    # no partner holds this one's second sector
    (third,) = sectors_of_reference(1, offset=2)
    lonely = make_tender(gme["buyer_org"], status=TenderStatus.PUBLISHED, title="Sans partenaire",
                         lots=[no_environment_clauses()])
    tender_sectors(lonely, [espaces, third])
    # fully fitting: nothing to complete
    whole = make_tender(gme["buyer_org"], status=TenderStatus.PUBLISHED, title="Déjà complète")
    tender_sectors(whole, [espaces])
    whole_lot = db.session.get(Tender, whole).lots[0].id

    found = suggestions.completing_tenders([gme["aci_s"]])
    lots = db.session.get(Tender, gme["tender"]).lots
    assert [(f.tender.id, f.lot.id) for f in found] == [(gme["tender"], lots[0].id), (gme["tender"], lots[1].id)]
    assert all(f.partner_id == partner and f.partner_name == "Propreté de Roubaix" for f in found)
    assert all(f.missing == (f"Secteur {nettoyage.name}",) and f.structure.id == gme["aci_s"] for f in found)
    assert suggestions.completing_tenders([gme["aci_s"]], limit=1) == found[:1]

    # it can no longer reach Lille: the partner brings the place too (and, for the tender it fully fits by its
    # sectors, a structure of that sector working in Lille)
    helper = place_at(LILLE, "Espaces verts lillois", ("EI",), [espaces])
    set_area(gme["aci_s"], ["dep:62"])
    found = suggestions.completing_tenders([gme["aci_s"]])
    assert [f.tender.id for f in found] == [gme["tender"], gme["tender"], whole]
    assert all(f.missing[-1].startswith("Intervention à Lille") for f in found)
    assert [f.missing[:-1] for f in found] == [(f"Secteur {nettoyage.name}",)] * 2 + [()]
    assert [f.partner_id for f in found] == [partner, partner, helper]

    # once it answers lot 1 in a grouping, that lot is no longer offered
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        tender = db.session.get(Tender, gme["tender"])
        services.start(user(gme["aci"]), tender, structure(gme["aci_s"]), [tender.lots[0].id], "conjoint")
        db.session.commit()
    assert [f.lot.id for f in suggestions.completing_tenders([gme["aci_s"]])] == [lots[1].id, whole_lot]


# --- the real imported directory --------------------------------------------------------------------------------

def test_on_the_real_directory_partners_are_those_the_rows_say_fill_the_gap(app_ctx):
    build_directory()
    snap = snapshot()
    counts = {s: sum(s in held for held in snap.sectors.values()) for s in snap.sector_ids[:12]}
    held_sector, missing_sector = sorted(counts, key=lambda s: (-counts[s], s))[:2]
    inferred = {(sid, sector) for sid, sector in db.session.execute(text(
        "SELECT structure_id, sector_id FROM structure_sector WHERE inferred"))}
    lille = snap.communes[LILLE]
    organisation = db.session.scalar(text("SELECT id FROM organisation LIMIT 1"))
    published = set(db.session.scalars(text("SELECT id FROM structure WHERE publication = 'published'")))

    for reservation, admitted in ((None, None), ("disability", DISABILITY)):
        clauses = dict(complete_clauses(), **({"reservation": reservation} if reservation else {}))
        tender_id = make_tender(organisation, status=TenderStatus.PUBLISHED, lots=[clauses])
        tender_sectors(tender_id, [db.session.get(Sector, held_sector), db.session.get(Sector, missing_sector)])
        tender = db.session.get(Tender, tender_id)
        # the member: a structure of an admitted kind holding the first sector but not the second, covering Lille
        member = min(i for i, row in snap.rows.items() if held_sector in snap.sectors[i]
                     and missing_sector not in snap.sectors[i] and covers(snap, row, LILLE)
                     and (admitted is None or set(row["kinds"]) & admitted))
        grouping = Grouping(tender=tender, kind="conjoint", status="forming")
        grouping.lots = [GroupingLot(lot=tender.lots[0])]
        grouping.members = [GroupingMember(structure_id=member, status=MemberStatus.ACCEPTED)]
        db.session.add(grouping)
        db.session.commit()

        wanted = {i for i, row in snap.rows.items() if missing_sector in snap.sectors[i] and i != member
                  and i in published
                  and covers(snap, row, LILLE) and (admitted is None or set(row["kinds"]) & admitted)}
        assert wanted, "the real directory has structures that fill the gap"

        def score(i):
            row = snap.rows[i]
            points = INFERRED if (i, missing_sector) in inferred else DECLARED
            if row["latitude"] is not None:
                km = round(haversine(lille["latitude"], lille["longitude"], row["latitude"], row["longitude"]), 1)
                points += round(NEAR * max(0.0, 1 - km / SCALE))
            return points + (CLAIMED if row["claimed"] else 0)

        result = suggestions.suggest(grouping, top=10)
        assert result.gaps[0].missing_sectors == (db.session.get(Sector, missing_sector).name,)
        assert result.gaps[0].place_covered
        found = [p.id for p in result.partners]
        assert set(found) <= wanted and len(found) == min(10, len(wanted))
        assert [p.score for p in result.partners] == sorted((score(i) for i in wanted), reverse=True)[:10]
        assert all(p.score == score(p.id) for p in result.partners)
        if admitted:
            assert not any("EI" in snap.rows[i]["kinds"] and not set(snap.rows[i]["kinds"]) & admitted
                           for i in found)
