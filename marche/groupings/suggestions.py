"""Partners a grouping lacks: for each lot it answers, what the current members (accepted and invited) do not
cover — sectors of the lot, the place of execution, the kinds a reserved lot admits — and the directory's
structures that would fill it, ranked; « mise à disposition » partners (AI, ETTI, GEIQ) for a lot with an
insertion clause; and, for a structure's dashboard, the open tenders it fits only partly where a partner would
complete it.

Who can work at a place is the directory's « covers » rule, read through the structure document type's
`sql_where` (territory_mode "covers") as `tenders.matching` does: no second coverage rule here. Each lot's
candidates are one SQL query (the directory's conditions, the excluded ids, ordered by the score below and
capped), their facts a second one (`matching.FACTS_SQL`).

The score of a partner (README « Répondre en groupement (GME) »), summed over the lots it helps:
- each missing sector it holds: 30 declared, 15 deduced from its activity (matching's sector points); when no
  sector is missing, the lot's sectors it holds count the same (capacity, or the place it brings);
- the place gained: 25 when no member can work at the lot's place (every candidate can);
and once: a claimed profile 15 (it can be invited from the directory), nearness 20 at the place falling to 0 at
100 km (matching's points), from the nearest lot place it helps. Ties: the nearest, then the smallest id.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from ..clauses.spec import ClauseSpec
from ..core.dates import today
from ..core.models import utcnow
from ..extensions import db
from ..geo.services import territory_label
from ..search import document_types
from ..search.query import StructureQuery, resolved
from ..search.structures import haversine_sql
from ..suppliers.models import Structure, StructureKind
from ..tenders import matching
from ..tenders.models import Tender, TenderLot, TenderStatus
from .models import ACTIVE_STATUSES, Grouping, GroupingLot, GroupingMember, MemberStatus

#: matching's points, reused: a missing sector held (declared / deduced), a claimed profile, nearness
DECLARED_SECTOR_POINTS = matching.DECLARED_SECTOR_POINTS
INFERRED_SECTOR_POINTS = matching.INFERRED_SECTOR_POINTS
CLAIMED_POINTS = matching.CLAIMED_POINTS
DISTANCE_POINTS = matching.DISTANCE_POINTS
DISTANCE_SCALE_KM = matching.DISTANCE_SCALE_KM
#: the lot's place, where no member can work, is reached through this partner
PLACE_POINTS = 25
#: the kinds that put their employees at another's disposal (mise à disposition) for the insertion hours
PROVISION_KINDS = (StructureKind.AI, StructureKind.ETTI, StructureKind.GEIQ)
PROVISION_WORDS = {StructureKind.AI: "met à disposition des salariés en insertion",
                   StructureKind.ETTI: "délègue des intérimaires en parcours d'insertion",
                   StructureKind.GEIQ: "met à disposition des salariés en parcours"}
#: candidates read per lot, best first by the SQL order (the same score): the top 10 of a few lots is in there
MIN_READ = 50
#: `completing_tenders`: the open tenders scanned at most, and the partner look-ups at most
MAX_SCANNED_TENDERS = 300
MAX_PARTNER_LOOKUPS = 60

ACTIVE_MEMBER = (MemberStatus.INVITED, MemberStatus.ACCEPTED)


@dataclass(frozen=True)
class LotGap:
    """What the members do not cover in one lot."""

    lot_id: int
    label: str
    #: names of the lot's sectors no member holds (declared or deduced)
    missing_sectors: tuple[str, ...]
    missing_sector_ids: tuple[int, ...]
    #: the place as a person reads it (None: the whole country)
    place: str | None
    #: a member can work at the lot's place (the directory's « covers » rule)
    place_covered: bool
    #: « Lot réservé aux EA et ESAT (L2113-12) : … » (None: not reserved)
    reservation: str | None
    #: the lot has an insertion clause (a member may call on a « mise à disposition » partner)
    insertion: bool

    @property
    def complete(self) -> bool:
        return not self.missing_sectors and self.place_covered

    def as_json(self) -> dict[str, Any]:
        return {"lot_id": self.lot_id, "label": self.label, "missing_sectors": list(self.missing_sectors),
                "place": self.place, "place_covered": self.place_covered, "reservation": self.reservation,
                "insertion": self.insertion, "complete": self.complete}


@dataclass(frozen=True)
class Partner:
    """A structure that would fill a gap (or provide staff), with what it brings, in French."""

    id: int
    name: str
    siret: str | None
    #: what its profile's address reads (the SIRET, else its first FINESS number), as `matching.Candidate`
    ident: str | None
    kinds: tuple[str, ...]
    city: str | None
    #: only a claimed structure can be invited from the directory; the others by e-mail
    claimed: bool
    score: int
    distance_km: float | None
    lot_ids: tuple[int, ...]
    reasons: tuple[str, ...]

    @property
    def invitation(self) -> str:
        return "directory" if self.claimed else "email"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "siret": self.siret, "kinds": list(self.kinds), "city": self.city,
                "claimed": self.claimed, "invitation": self.invitation, "score": self.score,
                "distance_km": self.distance_km, "lot_ids": list(self.lot_ids), "reasons": list(self.reasons),
                "url": f"/structures/{self.ident}" if self.ident else None}


@dataclass(frozen=True)
class Suggestions:
    gaps: list[LotGap]
    partners: list[Partner]
    #: « mise à disposition » partners (AI, ETTI, GEIQ) for the lots with an insertion clause
    provision: list[Partner]

    @property
    def complete(self) -> bool:
        """No gap remains on any lot (partners then only add capacity)."""
        return all(gap.complete for gap in self.gaps)


@dataclass
class _Found:
    """A candidate gathered over the lots: its row, the points and reasons of each lot it helps."""

    row: Any
    points: int = 0
    distance_km: float | None = None
    lot_ids: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def add(self, lot_id: int, points: int, distance: float | None, reasons: Iterable[str]) -> None:
        self.points += points
        self.lot_ids.append(lot_id)
        if distance is not None and (self.distance_km is None or distance < self.distance_km):
            self.distance_km = distance
        self.reasons += [reason for reason in reasons if reason not in self.reasons]


# --- the members' coverage ---------------------------------------------------------------------------------

def _where(query: StructureQuery):
    """The directory's own conditions for the query (published profiles, kinds, sectors, « covers »)."""
    return document_types.for_query(query).sql_where(query, resolved(query), today())


def _covering(structure_ids: list[int], place: str | None) -> set[int]:
    """Those of the structures that can work at the place (published ones: the directory's rule)."""
    if not structure_ids:
        return set()
    where = _where(StructureQuery(territory=place, territory_mode="covers", facets=False, literal=True))
    if where is None:
        return set()
    sql = f"SELECT s.id FROM structure s WHERE {where.sql} AND s.id = ANY(CAST(:member_ids AS int[]))"
    return set(db.session.scalars(text(sql), {**where.params, "member_ids": list(structure_ids)}))


def _sectors_held(structure_ids: list[int]) -> dict[int, set[int]]:
    held: dict[int, set[int]] = {structure_id: set() for structure_id in structure_ids}
    if structure_ids:
        for structure_id, sector_id in db.session.execute(text(
                "SELECT structure_id, sector_id FROM structure_sector "
                "WHERE structure_id = ANY(CAST(:ids AS int[]))"), {"ids": list(structure_ids)}):
            held[structure_id].add(sector_id)
    return held


def _reservation_words(lot: TenderLot) -> str | None:
    reservation = (lot.clauses or {}).get("reservation")
    if reservation not in matching.RESERVATION_WORDS:
        return None
    kinds = ", ".join(matching.lot_kinds(lot))
    return (f"Lot réservé {matching.RESERVATION_WORDS[reservation]} ({matching.RESERVATION_ARTICLES[reservation]}) : "
            f"seuls ces types peuvent le rejoindre ({kinds})")


def _has_insertion(lot: TenderLot) -> bool:
    return ClauseSpec.from_json(lot.clauses or {}).insertion is not None


def _lot_label(lot: TenderLot) -> str:
    return f"Lot {lot.position} « {lot.title} »" if lot.tender.allotted else f"« {lot.tender.title} »"


def _lot_words(lot: TenderLot) -> str:
    """« du lot 2 » (« du marché » when the tender is not allotted)."""
    return f"du lot {lot.position}" if lot.tender.allotted else "du marché"


def gap_of(lot: TenderLot, member_ids: list[int], held: set[int]) -> LotGap:
    """What the members (`member_ids`, holding the sectors `held` between them) leave uncovered in the lot."""
    sectors = matching.lot_sector_ids(lot)
    missing = tuple(sector for sector in sectors if sector not in held)
    names = matching._sector_names(missing)
    place = matching.lot_place(lot)
    covered = bool(member_ids) and (place is None or bool(_covering(member_ids, place)))
    return LotGap(lot.id, _lot_label(lot), tuple(names.get(sector, str(sector)) for sector in missing), missing,
                  territory_label(place) if place else None, covered, _reservation_words(lot), _has_insertion(lot))


# --- the candidates of one lot ------------------------------------------------------------------------------

def _score_sql(point: tuple[float, float] | None, with_sectors: bool) -> str:
    """The score's SQL twin (the per-lot part: sectors held among `:target`, claimed, nearness), used only to
    choose which rows are read; the score itself is computed in Python from those rows (`_sector_points`,
    `_once_points`)."""
    sectors = ("coalesce((SELECT sum(CASE WHEN ss.inferred THEN :inferred_points ELSE :declared_points END) "
               "FROM structure_sector ss WHERE ss.structure_id = s.id "
               "AND ss.sector_id = ANY(CAST(:target AS int[]))), 0)") if with_sectors else "0"
    claimed = "CASE WHEN s.owner_organisation_id IS NOT NULL THEN :claimed_points ELSE 0 END"
    nearness = (f"coalesce(:distance_points * greatest(0, 1 - {haversine_sql('origin_lat', 'origin_lng')} "
                f"/ :distance_scale), 0)" if point else "0")
    return f"({sectors} + {claimed} + {nearness})"


def _candidate_rows(query: StructureQuery, target: tuple[int, ...], excluded: Iterable[int],
                    point: tuple[float, float] | None, cap: int, *, all_sectors: bool = False) -> list[Any]:
    """The facts (`matching.FACTS_SQL`, its sector arrays restricted to `target`) of the query's best `cap`
    structures by the score's SQL twin, leaving out `excluded`; `all_sectors`: each must hold every sector of
    `target`."""
    where = _where(query)
    if where is None:
        return []
    params = {**where.params, "target": list(target), "sectors": list(target), "excluded": sorted(excluded),
              "today": today(), "cap": cap, "declared_points": DECLARED_SECTOR_POINTS,
              "inferred_points": INFERRED_SECTOR_POINTS, "claimed_points": CLAIMED_POINTS,
              "distance_points": DISTANCE_POINTS, "distance_scale": float(DISTANCE_SCALE_KM)}
    score = _score_sql(point, bool(target))
    order = f"{score} DESC, s.id"
    if point is not None:
        params.update(origin_lat=point[0], origin_lng=point[1])
        order = f"{score} DESC, {haversine_sql('origin_lat', 'origin_lng')} NULLS LAST, s.id"
    conditions = f"{where.sql} AND s.id <> ALL(CAST(:excluded AS int[]))"
    if all_sectors and target:
        conditions += (" AND (SELECT count(DISTINCT ss.sector_id) FROM structure_sector ss WHERE ss.structure_id = "
                       "s.id AND ss.sector_id = ANY(CAST(:target AS int[]))) = :target_count")
        params["target_count"] = len(set(target))
    # a plan for these values, not a generic one (skewed array columns), as matching asks
    db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    source = f"(SELECT s.id FROM structure s WHERE {conditions} ORDER BY {order} LIMIT :cap) AS m"
    return list(db.session.execute(text(matching.FACTS_SQL.format(source=source)), params))


def _sector_points(row: Any) -> int:
    return DECLARED_SECTOR_POINTS * len(row.declared) + INFERRED_SECTOR_POINTS * len(row.inferred)


def _once_points(claimed: bool, distance_km: float | None) -> int:
    points = CLAIMED_POINTS if claimed else 0
    if distance_km is not None:
        points += round(DISTANCE_POINTS * max(0.0, 1 - distance_km / DISTANCE_SCALE_KM))
    return points


def _place_reasons(place: str | None, row: Any, distance: float | None, gained: bool) -> list[str]:
    if not place:
        return ["Intervient dans toute la France, comme le lot le demande"] if gained else []
    where = territory_label(place)
    kind = place.split(":")[0]
    reasons = []
    if gained:
        whom = {"dep": f"le département {where}", "reg": f"la région {where}"}.get(kind, where)
        reasons.append(f"Couvre {whom} : aucun membre du groupement ne peut y intervenir")
    far = "" if distance is None else (f", à {str(distance).replace('.', ',')} km"
                                       + (" du lieu" if kind == "commune" else " du centre du territoire"))
    reasons.append(f"Peut intervenir à {where} : {matching._area_words(row)}{far}")
    return reasons


def _lot_candidates(lot: TenderLot, gap: LotGap, lot_sectors: tuple[int, ...], excluded: set[int],
                    cap: int) -> list[tuple[Any, int, float | None, list[str]]]:
    """(row, the lot's points, distance, reasons) of the lot's best candidates."""
    wanted = matching.wanted_of(lot)
    if gap.missing_sector_ids:
        target, mode = gap.missing_sector_ids, "missing"
    else:
        target, mode = lot_sectors, ("place" if not gap.place_covered else "capacity")
    point = matching._place_point(wanted.place)
    rows = _candidate_rows(wanted.query(env=(), sectors=target), target, excluded, point, cap)
    names = matching._sector_names(target)
    found = []
    for row in rows:
        distance = matching._distance(point, row)
        points = _sector_points(row) + (0 if gap.place_covered else PLACE_POINTS)
        reasons: list[str] = []
        if mode == "missing":
            for sector in row.declared:
                reasons.append(f"Secteur {names.get(sector, sector)} manquant : le groupement ne le couvre pas")
            for sector in row.inferred:
                reasons.append(f"Secteur {names.get(sector, sector)} manquant : le groupement ne le couvre pas "
                               f"(secteur déduit de son activité)")
        reasons += _place_reasons(wanted.place, row, distance, not gap.place_covered)
        if mode == "capacity":
            held = ", ".join(names.get(sector, str(sector)) for sector in (*row.declared, *row.inferred))
            reasons.append(f"Renforce la capacité {_lot_words(lot)} : mêmes secteurs que le groupement"
                           + (f" ({held})" if held else "") + ", et peut intervenir sur le lieu d'exécution")
        if wanted.reservation:
            kinds = [kind for kind in row.kinds or () if kind in wanted.kinds]
            reasons.append(f"{', '.join(kinds)} : lot réservé {matching.RESERVATION_ARTICLES[wanted.reservation]}")
        found.append((row, points, distance, reasons))
    return found


def _partner(found: _Found, reasons_after: list[str]) -> Partner:
    row = found.row
    return Partner(row.id, row.brand or row.name, row.siret, row.siret or next(iter(row.finess_numbers or []), None),
                   tuple(row.kinds or ()), row.city, row.claimed,
                   found.points + _once_points(row.claimed, found.distance_km), found.distance_km,
                   tuple(found.lot_ids), tuple(found.reasons + reasons_after))


def _claim_reason(claimed: bool) -> str:
    return ("Fiche revendiquée : elle peut être invitée depuis l'annuaire" if claimed else
            "Fiche non revendiquée : elle peut être invitée par e-mail")


def _ranked(partners: list[Partner], top: int) -> list[Partner]:
    partners.sort(key=lambda p: (-p.score, p.distance_km if p.distance_km is not None else float("inf"), p.id))
    return partners[:top]


def _provision(lots: list[TenderLot], excluded: set[int], top: int) -> list[Partner]:
    """AI, ETTI and GEIQ that can work at the place of each lot with an insertion clause (any sector)."""
    gathered: dict[int, _Found] = {}
    for lot in lots:
        if not _has_insertion(lot):
            continue
        place = matching.lot_place(lot)
        point = matching._place_point(place)
        query = StructureQuery(kinds=tuple(str(kind) for kind in PROVISION_KINDS), territory=place,
                               territory_mode="covers", facets=False, literal=True)
        for row in _candidate_rows(query, (), excluded, point, top):
            distance = matching._distance(point, row)
            words = [f"{kind} : {PROVISION_WORDS[StructureKind(kind)]} pour les heures d'insertion {_lot_words(lot)}"
                     for kind in row.kinds or () if kind in PROVISION_KINDS]
            gathered.setdefault(row.id, _Found(row)).add(lot.id, 0, distance,
                                                         words + _place_reasons(place, row, distance, False))
    return _ranked([_partner(found, [_claim_reason(found.row.claimed)]) for found in gathered.values()], top)


def _busy(grouping: Grouping) -> set[int]:
    """Structures already members of another active grouping on one of this grouping's lots: they could not accept
    an invitation (a structure answers a lot once, `services._require_single`)."""
    lot_ids = [grouping_lot.lot_id for grouping_lot in grouping.lots]
    if not lot_ids:
        return set()
    return set(db.session.scalars(
        select(GroupingMember.structure_id).join(Grouping, Grouping.id == GroupingMember.grouping_id)
        .join(GroupingLot, GroupingLot.grouping_id == Grouping.id)
        .where(GroupingMember.status == MemberStatus.ACCEPTED, GroupingMember.structure_id.is_not(None),
               Grouping.status.in_(ACTIVE_STATUSES), Grouping.id != grouping.id, GroupingLot.lot_id.in_(lot_ids))))


def suggest(grouping: Grouping, top: int = 10) -> Suggestions:
    """What the grouping's current members (accepted and invited) leave uncovered in each of its lots, the
    `top` structures that would fill it (ranked as the module says), and the « mise à disposition » partners.
    Current members, structures that declined or were removed, and those already answering one of its lots in
    another active grouping are never suggested."""
    members = [m.structure_id for m in grouping.members if m.status in ACTIVE_MEMBER and m.structure_id]
    excluded = {m.structure_id for m in grouping.members if m.structure_id is not None} | _busy(grouping)
    held_by = _sectors_held(members)
    held = set().union(*held_by.values()) if held_by else set()
    lots = [grouping_lot.lot for grouping_lot in grouping.lots]
    cap = max(MIN_READ, top * 5)
    gaps, gathered = [], {}
    for lot in lots:
        gap = gap_of(lot, members, held)
        gaps.append(gap)
        for row, points, distance, reasons in _lot_candidates(lot, gap, matching.lot_sector_ids(lot), excluded, cap):
            gathered.setdefault(row.id, _Found(row)).add(lot.id, points, distance, reasons)
    partners = _ranked([_partner(found, [_claim_reason(found.row.claimed)]) for found in gathered.values()], top)
    return Suggestions(gaps, partners, _provision(lots, excluded, top))


# --- the structure's dashboard: tenders a partner would complete ---------------------------------------------

@dataclass(frozen=True)
class CompletingTender:
    """An open tender's lot that `structure` fits only partly, and the best partner that would complete it."""

    tender: Tender
    lot: TenderLot
    structure: Structure
    #: what the structure lacks, in French (« Secteur Nettoyage », « Intervention à Roubaix (59512) »)
    missing: tuple[str, ...]
    partner_id: int
    partner_name: str


def _open_tenders(sector_ids: set[int], now: datetime) -> list[Tender]:
    """Open published tenders (answers deadline to come) asking one of these sectors, or none (their CPV codes
    then suggest them), the nearest deadline first, at most MAX_SCANNED_TENDERS."""
    if not sector_ids:
        return []
    has_sector = ("EXISTS (SELECT 1 FROM tender_sector ts WHERE ts.tender_id = t.id "
                  "AND ts.sector_id = ANY(CAST(:sectors AS int[])))")
    no_sector = "NOT EXISTS (SELECT 1 FROM tender_sector ts WHERE ts.tender_id = t.id)"
    ids = list(db.session.scalars(text(
        f"SELECT t.id FROM tender t WHERE t.status = :published AND t.answers_deadline > :now "
        f"AND ({has_sector} OR {no_sector}) ORDER BY t.answers_deadline, t.id LIMIT :cap"),
        {"published": str(TenderStatus.PUBLISHED), "now": now, "sectors": sorted(sector_ids),
         "cap": MAX_SCANNED_TENDERS}))
    if not ids:
        return []
    tenders = db.session.scalars(select(Tender).where(Tender.id.in_(ids))
                                 .options(selectinload(Tender.lots), selectinload(Tender.sectors))).all()
    order = {tender_id: position for position, tender_id in enumerate(ids)}
    return sorted(tenders, key=lambda tender: order[tender.id])


def completing_tenders(structures: Iterable[Structure | int], limit: int = 10,
                       now: datetime | None = None) -> list[CompletingTender]:
    """Open tenders where one of these structures fits a lot only partly (some of the lot's sectors but not all,
    or a sector but not the place) and a partner of the directory (an admitted kind, able to work at the place,
    holding every sector the structure lacks) would complete it; the nearest deadline first, at most `limit`. A lot
    the structure already answers in an active grouping (invited or member) is left out."""
    ids = [item if isinstance(item, int) else item.id for item in structures]
    mine = {s.id: s for s in db.session.scalars(select(Structure).where(Structure.id.in_(ids)))} if ids else {}
    held = _sectors_held(list(mine))
    now = now or utcnow()
    # (lot, structure) pairs already answered together: that structure has its grouping for the lot
    engaged = set(db.session.execute(
        select(GroupingLot.lot_id, GroupingMember.structure_id)
        .join(Grouping, Grouping.id == GroupingLot.grouping_id)
        .join(GroupingMember, GroupingMember.grouping_id == Grouping.id)
        .where(GroupingMember.structure_id.in_(list(mine)), GroupingMember.status.in_(ACTIVE_MEMBER),
               Grouping.status.in_(ACTIVE_STATUSES))).all()) if mine else set()
    covering: dict[str | None, set[int]] = {}
    results: list[CompletingTender] = []
    lookups = 0
    for tender in _open_tenders(set().union(*held.values()) if held else set(), now):
        for lot in tender.lots:
            lot_sectors = matching.lot_sector_ids(lot)
            allowed = matching.RESERVED_KINDS.get((lot.clauses or {}).get("reservation"))
            place = matching.lot_place(lot)
            for structure_id, structure in mine.items():
                holds = held[structure_id] & set(lot_sectors)
                if not holds or (lot.id, structure_id) in engaged or (
                        allowed is not None and not set(structure.kinds or ()) & set(allowed)):
                    continue
                if place not in covering:
                    covering[place] = set(mine) if place is None else _covering(list(mine), place)
                lacks = tuple(sector for sector in lot_sectors if sector not in holds)
                reaches = structure_id in covering[place]
                if not lacks and reaches:
                    continue
                if lookups >= MAX_PARTNER_LOOKUPS:
                    return results
                lookups += 1
                wanted = matching.wanted_of(lot)
                target = lacks or lot_sectors
                rows = _candidate_rows(wanted.query(env=(), sectors=target), target, {structure_id},
                                       matching._place_point(place), 1, all_sectors=bool(lacks))
                if not rows:
                    continue
                names = matching._sector_names(lacks)
                missing = tuple(f"Secteur {names.get(sector, sector)}" for sector in lacks)
                if not reaches:
                    missing += (f"Intervention à {territory_label(place)}" if place else "Intervention en France",)
                results.append(CompletingTender(tender, lot, structure, missing, rows[0].id,
                                                rows[0].brand or rows[0].name))
                if len(results) >= limit:
                    return results
    return results
