"""Who can answer a lot: the directory query a lot stands for, and the structures it finds.

A lot is answered by the structures the directory finds with its filters in « peut intervenir à » mode: the
kinds its reservation allows (L2113-12, L2113-13, L2113-14), the tender's sectors (or those its CPV codes
suggest), an intervention area that covers the place of execution, and the environmental commitments the lot
requires, still valid. Asking the directory itself (`search.service`, Meilisearch with its SQL fallback) keeps
the market depth, the relay and the directory's count one and the same figure.

`market_depth(lot)` adds the ranked list (`score_of` says how it is scored), the French reasons each structure
fits (`reasons_for`, reused by the relay), and, when fewer than LOW_DEPTH can answer, the levers that would widen
it, each a modified directory query counted the same way. The count comes from the directory's search; the
ranking reads the matching rows in PostgreSQL with the directory's own SQL conditions (`_matching_facts`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select, text

from ..clauses import legal
from ..core.dates import today
from ..extensions import db
from ..geo.coverage import enclosing_refs
from ..geo.places import centre
from ..geo.services import haversine_km, territory_label
from ..reference.cpv_sectors import suggest_sectors
from ..reference.models import Sector
from ..search import document_types, service as search_service
from ..search.query import StructureQuery, resolved
from ..search.structures import haversine_sql
from ..suppliers.models import SIAE_KINDS, EnvLabel, StructureKind
from .models import TenderLot

DISABILITY_KINDS = {StructureKind.EA, StructureKind.EATT, StructureKind.ESAT}
#: reservation → the kinds that may answer (None: every kind)
RESERVED_KINDS: dict[str | None, frozenset[str] | None] = {
    None: None,
    "siae": frozenset(SIAE_KINDS),
    "disability": frozenset(DISABILITY_KINDS),
    "both": frozenset(SIAE_KINDS | DISABILITY_KINDS),
}
#: the most structures a lot's matching reads (a national lot of a common sector may match thousands)
MAX_MATCHES = 20_000


def lot_place(lot: TenderLot) -> str | None:
    """The lot's place of execution as a directory territory; None for the whole country or no place."""
    place = lot.place_ref or lot.tender.place_ref
    if not place or place.startswith("country:"):
        return None
    return place


def lot_sector_ids(lot: TenderLot) -> tuple[int, ...]:
    """The tender's sectors; when it has none, those its lot's (or else its own) CPV codes suggest."""
    if lot.tender.sectors:
        return tuple(sector.id for sector in lot.tender.sectors)
    codes = lot.cpv_codes or lot.tender.cpv_codes or []
    return tuple(sector.id for sector in suggest_sectors(list(codes)))


def lot_kinds(lot: TenderLot) -> tuple[str, ...]:
    allowed = RESERVED_KINDS.get((lot.clauses or {}).get("reservation"))
    return tuple(sorted(str(kind) for kind in allowed)) if allowed else ()


def lot_query(lot: TenderLot, **overrides) -> StructureQuery:
    """The directory query of the structures that can answer this lot (`overrides` replace its fields: the
    levers of the market depth are such replacements)."""
    return wanted_of(lot).query(**overrides)


def matching_ids(lot: TenderLot, claimed_only: bool = False, limit: int = MAX_MATCHES) -> list[int]:
    """Ids of the structures that can answer the lot, in the directory's order (claimed ones only: those the
    relay may mail)."""
    query = lot_query(lot, claimed=True) if claimed_only else lot_query(lot)
    return search_service.search_all_ids(query, limit)


# --- market depth: who can answer, ranked, and what would widen it ------------------------------------------

#: below this many possible answers the buyer is warned (two offers or fewer: little competition, a real risk
#: that the lot ends « infructueux »)
LOW_DEPTH = 3
#: the ranked list's length
TOP = 20
#: the ranking reads the first matches in the directory's order by distance to the place (all of them for any
#: lot that matches fewer): enough to rank the nearest thousands of a national sector without reading them all
MAX_RANKED = 2_000

#: the score's points (documented in README « Qui peut répondre ? »)
DECLARED_SECTOR_POINTS = 30
INFERRED_SECTOR_POINTS = 15
DISTANCE_POINTS = 20
#: distance at which the distance points fall to 0 (linear from the place)
DISTANCE_SCALE_KM = 100
CLAIMED_POINTS = 15
COMMITMENT_POINTS = 5
MAX_COMMITMENTS_COUNTED = 3
ANSWERED_POINTS = 10
AWARDED_POINTS = 10

#: the article of each reservation, stated once in clauses.rules
RESERVATION_ARTICLES = legal.RESERVATIONS
RESERVATION_WORDS = {"siae": "aux SIAE", "disability": "aux EA et ESAT", "both": "aux SIAE, EA et ESAT"}


@dataclass(frozen=True)
class Wanted:
    """What a lot asks of a structure, as the ranking and the reasons read it (the lot's fields, or the clause
    builder's values before they are saved, or the API's parameters)."""

    sectors: tuple[int, ...] = ()
    #: the place as a directory territory (None: the whole country)
    place: str | None = None
    reservation: str | None = None
    env: tuple[str, ...] = ()
    #: the kinds asked outright (the API's `kind`); None: those the reservation allows
    asked_kinds: tuple[str, ...] | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        if self.asked_kinds is not None:
            return self.asked_kinds
        allowed = RESERVED_KINDS.get(self.reservation)
        return tuple(sorted(str(kind) for kind in allowed)) if allowed else ()

    def query(self, **overrides) -> StructureQuery:
        """The directory query (as `lot_query`); `overrides` replace its fields."""
        query = StructureQuery(kinds=self.kinds, sectors=self.sectors, territory=self.place, territory_mode="covers",
                               env=self.env, facets=False, literal=True)
        return replace(query, **overrides) if overrides else query


_KEEP: Any = object()


def wanted_of(lot: TenderLot, reservation: Any = _KEEP, env: Any = _KEEP) -> Wanted:
    """What the lot asks; `reservation` and `env` replace the stored ones (the builder's values, unsaved)."""
    stored = (lot.clauses or {}).get("reservation")
    reservation = stored if reservation is _KEEP else (reservation or None)
    if reservation not in RESERVED_KINDS:
        reservation = None
    env = tuple(lot.required_env or ()) if env is _KEEP else tuple(env or ())
    return Wanted(lot_sector_ids(lot), lot_place(lot), reservation, env)


@dataclass(frozen=True)
class Candidate:
    """A structure that can answer, with what the ranking reads of it and the French reasons it fits."""

    id: int
    name: str
    siret: str | None
    #: what its profile's address reads (the SIRET, else its first FINESS number)
    ident: str | None
    kinds: tuple[str, ...]
    city: str | None
    claimed: bool
    score: int
    distance_km: float | None
    reasons: tuple[str, ...]
    #: it holds every sector of the lot
    complete: bool

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "siret": self.siret, "kinds": list(self.kinds), "city": self.city,
                "claimed": self.claimed, "score": self.score, "distance_km": self.distance_km,
                "reasons": list(self.reasons), "url": f"/structures/{self.ident}" if self.ident else None}


@dataclass(frozen=True)
class Lever:
    """A change of the lot that would widen who can answer: its modified directory query and that query's count
    (`base`: the figure it is compared with)."""

    code: str
    label: str
    query: StructureQuery = field(repr=False)
    base: int
    count: int
    note: str = ""

    @property
    def widens(self) -> bool:
        return self.count > self.base

    @property
    def effect(self) -> str:
        return f"passerait de {_structures(self.base)} à {_structures(self.count)}"


@dataclass(frozen=True)
class MarketDepth:
    #: how many structures can answer: the directory's count for the lot's query
    count: int
    ranked: list[Candidate]
    #: among the ranked candidates (every match when `exact_complete`), those holding every sector of the lot
    complete_count: int
    exact_complete: bool
    levers: list[Lever]
    backend: str
    wanted: Wanted

    @property
    def low(self) -> bool:
        return self.count < LOW_DEPTH

    @property
    def warning(self) -> str | None:
        if not self.low:
            return None
        if self.count == 0:
            return ("Aucune structure inclusive de l'annuaire ne peut répondre à ce lot tel qu'il est rédigé : "
                    "il risque d'être infructueux. Les leviers ci-dessous élargiraient le nombre de répondants.")
        return (f"Seules {_structures(self.count)} de l'annuaire peuvent répondre à ce lot : moins de {LOW_DEPTH}, "
                "la concurrence est faible et le lot risque d'être infructueux. Les leviers ci-dessous "
                "élargiraient le nombre de répondants." if self.count > 1 else
                f"Une seule structure de l'annuaire peut répondre à ce lot : moins de {LOW_DEPTH}, la concurrence "
                "est faible et le lot risque d'être infructueux. Les leviers ci-dessous élargiraient le nombre de "
                "répondants.")


def _structures(count: int) -> str:
    return f"{count:,}".replace(",", "\u202f") + (" structure" if count <= 1 else " structures")


def count_of(query: StructureQuery) -> int:
    """The directory's count for a query (Meilisearch's exact `totalHits`, or the SQL fallback's count)."""
    return search_service.search(replace(query, page=1, per_page=1, facets=False)).count


def market_depth(lot: TenderLot, *, reservation: Any = _KEEP, env: Any = _KEEP, top: int = TOP) -> MarketDepth:
    """Who can answer the lot (with the builder's unsaved `reservation` and `env` when given), ranked, and the
    levers when fewer than LOW_DEPTH can."""
    return depth_of(wanted_of(lot, reservation, env), top=top, levers=True)


def depth_of(wanted: Wanted, *, top: int = TOP, levers: bool = True) -> MarketDepth:
    query = wanted.query()
    result = search_service.search(replace(query, page=1, per_page=1))
    ranked, complete, exact = rank(wanted, result.count, top)
    depth = MarketDepth(result.count, ranked, complete, exact, [], result.backend, wanted)
    if levers and depth.low:
        depth = replace(depth, levers=levers_of(wanted, depth))
    return depth


# --- the ranking ----------------------------------------------------------------------------------------------

#: what the ranking and the reasons read of each structure (`{source}`: the rows, aliased `m`, holding an `id`)
FACTS_SQL = """
SELECT s.id, s.name, s.brand, s.siret, s.finess_numbers, s.kinds, s.city, s.department_code, s.latitude, s.longitude,
       s.area_kind, s.area_radius_km, s.area_refs, s.owner_organisation_id IS NOT NULL AS claimed,
       ARRAY(SELECT ss.sector_id FROM structure_sector ss WHERE ss.structure_id = s.id
             AND ss.sector_id = ANY(CAST(:sectors AS int[])) AND NOT ss.inferred ORDER BY ss.sector_id) AS declared,
       ARRAY(SELECT ss.sector_id FROM structure_sector ss WHERE ss.structure_id = s.id
             AND ss.sector_id = ANY(CAST(:sectors AS int[])) AND ss.inferred ORDER BY ss.sector_id) AS inferred,
       ARRAY(SELECT DISTINCT e.label FROM env_commitment e WHERE e.structure_id = s.id
             AND (e.expires_on IS NULL OR e.expires_on >= :today)) AS env,
       EXISTS (SELECT 1 FROM lot_response r WHERE r.structure_id = s.id AND r.answered_at IS NOT NULL) AS answered,
       EXISTS (SELECT 1 FROM lot_award a WHERE a.holder_structure_id = s.id AND a.awarded) AS awarded
FROM {source} JOIN structure s ON s.id = m.id
"""


def _facts(ids: list[int], sectors: tuple[int, ...]) -> list[Any]:
    if not ids:
        return []
    sql = FACTS_SQL.format(source="unnest(CAST(:ids AS int[])) AS m(id)")
    return list(db.session.execute(text(sql), {"ids": ids, "sectors": list(sectors), "today": today()}))


def _matching_facts(query: StructureQuery, point: tuple[float, float] | None, limit: int) -> list[Any]:
    """The facts of the query's first `limit` matches, nearest to `point` first, read in PostgreSQL with the
    directory's own SQL conditions (`DocumentType.sql_where`, the fallback's translation, tested equal to the
    Meilisearch filters): asking Meilisearch for 2 000 ids costs about 0.1 ms each, and the rows are read here
    anyway."""
    document_type = document_types.for_query(query)
    where = document_type.sql_where(query, resolved(query), today())
    if where is None:
        return []
    params = {**where.params, "sectors": list(query.sectors), "today": today(), "cap": limit}
    order = "s.id"
    if point is not None:
        params.update(origin_lat=point[0], origin_lng=point[1])
        order = f"{haversine_sql('origin_lat', 'origin_lng')} NULLS LAST, s.id"
    # a plan for these values, not a generic one (skewed array columns), as the SQL backend asks
    db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    source = f"(SELECT s.id FROM structure s WHERE {where.sql} ORDER BY {order} LIMIT :cap) AS m"
    return list(db.session.execute(text(FACTS_SQL.format(source=source)), params))


def _place_point(place: str | None) -> tuple[float, float] | None:
    return centre(place) if place else None


def _distance(point: tuple[float, float] | None, row: Any) -> float | None:
    if point is None or row.latitude is None or row.longitude is None:
        return None
    return round(haversine_km(point[0], point[1], row.latitude, row.longitude), 1)


def score_of(wanted: Wanted, row: Any, distance_km: float | None) -> int:
    """Sector fit (each of the lot's sectors held: declared 30, deduced 15), nearness (20 at the place, 0 from
    100 km), a claimed profile (15: it reads the portal), valid commitments (5 each, 3 counted), past answers
    on the portal (10 for a quote or an offer, 10 for a lot won)."""
    points = DECLARED_SECTOR_POINTS * len(row.declared) + INFERRED_SECTOR_POINTS * len(row.inferred)
    if distance_km is not None:
        points += round(DISTANCE_POINTS * max(0.0, 1 - distance_km / DISTANCE_SCALE_KM))
    points += CLAIMED_POINTS if row.claimed else 0
    points += COMMITMENT_POINTS * min(len(row.env), MAX_COMMITMENTS_COUNTED)
    points += ANSWERED_POINTS if row.answered else 0
    points += AWARDED_POINTS if row.awarded else 0
    return points


def rank(wanted: Wanted, count: int, top: int = TOP) -> tuple[list[Candidate], int, bool]:
    """The `top` best of the lot's first MAX_RANKED matches (nearest first) among `count`, and how many of those
    hold every sector of the lot (exact when they are all the matches)."""
    if count <= 0:
        return [], 0, True
    point = _place_point(wanted.place)
    rows = _matching_facts(wanted.query(), point, MAX_RANKED)
    scored = []
    complete = 0
    for row in rows:
        distance = _distance(point, row)
        holds_all = bool(wanted.sectors) and len(row.declared) + len(row.inferred) == len(wanted.sectors)
        complete += holds_all
        scored.append((score_of(wanted, row, distance), distance, row, holds_all))
    scored.sort(key=lambda item: (-item[0], item[1] if item[1] is not None else float("inf"), item[2].id))
    sector_names = _sector_names(wanted.sectors)
    ranked = [Candidate(row.id, row.brand or row.name, row.siret, row.siret or next(iter(row.finess_numbers or []), None),
                        tuple(row.kinds or ()), row.city, row.claimed,
                        score, distance, tuple(_reasons(wanted, row, distance, sector_names)), holds_all)
              for score, distance, row, holds_all in scored[:top]]
    return ranked, complete, count <= MAX_RANKED and len(rows) == count


def _sector_names(ids: tuple[int, ...]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(Sector.id, Sector.name).where(Sector.id.in_(ids))).all())


def _area_words(row: Any) -> str:
    if row.area_kind == "country":
        return "intervient dans toute la France"
    if row.area_kind == "territories":
        return "intervient sur " + ", ".join(territory_label(ref) for ref in (row.area_refs or [])[:5])
    return f"intervient dans un rayon de {row.area_radius_km} km autour de son implantation"


def _reasons(wanted: Wanted, row: Any, distance_km: float | None, sector_names: dict[int, str]) -> list[str]:
    """Why this structure fits the lot, in French: shown to the buyer, stored with the relay's notification."""
    reasons = []
    declared = [sector_names.get(sector, str(sector)) for sector in row.declared]
    inferred = [sector_names.get(sector, str(sector)) for sector in row.inferred]
    if declared:
        reasons.append(("Secteur déclaré : " if len(declared) == 1 else "Secteurs déclarés : ") + ", ".join(declared))
    if inferred:
        reasons.append(("Secteur déduit de son activité : " if len(inferred) == 1
                        else "Secteurs déduits de son activité : ") + ", ".join(inferred))
    if wanted.sectors and len(row.declared) + len(row.inferred) == len(wanted.sectors) > 1:
        reasons.append("Couvre tous les secteurs du lot")
    if wanted.place:
        where = territory_label(wanted.place)
        distance = "" if distance_km is None else (
            f", à {str(distance_km).replace('.', ',')} km" + (" du lieu" if wanted.place.startswith("commune:")
                                                               else " du centre du territoire"))
        reasons.append(f"Peut intervenir à {where} : {_area_words(row)}{distance}")
    if wanted.reservation:
        labels = [StructureKind(kind).label for kind in row.kinds or () if kind in wanted.kinds]
        if labels:
            reasons.append(f"{', '.join(labels)} : peut répondre au lot réservé {RESERVATION_WORDS[wanted.reservation]}"
                           f" ({RESERVATION_ARTICLES[wanted.reservation]})")
    held = sorted(row.env or ())
    required = [EnvLabel(label).label for label in held if label in wanted.env]
    others = [EnvLabel(label).label for label in held if label not in wanted.env and label in EnvLabel._value2member_map_]
    if required:
        reasons.append("Engagement exigé en cours de validité : " + ", ".join(required))
    if others:
        reasons.append("Engagements environnementaux en cours de validité : " + ", ".join(others))
    if row.claimed:
        reasons.append("Fiche revendiquée : la structure tient son profil à jour et reçoit les consultations")
    if row.awarded:
        reasons.append("A déjà remporté un lot d'une consultation publiée sur le portail")
    elif row.answered:
        reasons.append("A déjà répondu à une consultation publiée sur le portail")
    return reasons


def reasons_for(structure: Any, lot: TenderLot) -> list[str]:
    """Why `structure` (a Structure or its id) fits `lot`, in French (the relay stores them in
    `TenderNotification.reasons`); the same sentences as the buyer's ranked list."""
    structure_id = structure if isinstance(structure, int) else structure.id
    return reasons_by_structure(lot, [structure_id]).get(structure_id, [])


def reasons_by_structure(lot: TenderLot, structure_ids: list[int]) -> dict[int, list[str]]:
    """`reasons_for` of many structures in one query (the relay's batches)."""
    wanted = wanted_of(lot)
    point, names = _place_point(wanted.place), _sector_names(wanted.sectors)
    return {row.id: _reasons(wanted, row, _distance(point, row), names)
            for row in _facts(list(structure_ids), wanted.sectors)}


# --- the levers -----------------------------------------------------------------------------------------------

def _place_steps(place: str | None) -> list[tuple[str, str | None]]:
    """The place widened step by step: (its reference, the label) up to the whole country."""
    if not place:
        return []
    steps: list[tuple[str, str | None]] = []
    for ref in enclosing_refs(place)[1:]:
        kind = ref.split(":")[0]
        if kind == "country":
            steps.append(("à toute la France", None))
        else:
            word = "au département" if kind == "dep" else "à la région"
            steps.append((f"{word} {territory_label(ref)}", ref))
    return steps


def gme_query(wanted: Wanted) -> StructureQuery:
    """The possible members of a GME (groupement momentané d'entreprises): the structures of the kinds the
    reservation allows that hold at least one of the lot's sectors and can work in the place's department (the
    place itself when it is a department or wider), without the required commitments asked of each (one member
    brings them). It counts members, not groups: the group itself is formed later."""
    place = wanted.place
    if place and place.startswith("commune:"):
        place = enclosing_refs(place)[1]
    return wanted.query(env=(), territory=place)


def levers_of(wanted: Wanted, depth: MarketDepth) -> list[Lever]:
    """Each lever is a modified directory query, counted as the lot's own count is."""
    base = depth.count
    levers: list[Lever] = []

    def add(code: str, label: str, query: StructureQuery, lever_base: int = base, note: str = "") -> None:
        levers.append(Lever(code, label, query, lever_base, count_of(query), note))

    for label in wanted.env:
        rest = tuple(other for other in wanted.env if other != label)
        add(f"env:{label}", f"Ne plus exiger l'engagement « {EnvLabel(label).label} »", wanted.query(env=rest),
            note="" if not rest else "Le lot accepte l'un des engagements exigés : en retirer un en laisse moins.")
    if len(wanted.env) > 1:
        add("env:all", "Ne plus exiger d'engagement environnemental", wanted.query(env=()))
    for words, ref in _place_steps(wanted.place):
        add(f"place:{ref or 'country'}", f"Élargir le lieu d'exécution {words}", wanted.query(territory=ref))
    if len(wanted.sectors) > 1:
        names = _sector_names(wanted.sectors)
        for sector in wanted.sectors:
            add(f"sector:{sector}", f"Scinder le lot : un lot « {names.get(sector, sector)} » seul",
                wanted.query(sectors=(sector,)), depth.complete_count,
                note="Comparé aux structures qui couvrent aujourd'hui tous les secteurs du lot.")
    if wanted.reservation in ("siae", "disability"):
        add("reservation:both", f"Réserver le lot aux SIAE, EA et ESAT ensemble ({RESERVATION_ARTICLES['both']})",
            wanted.query(kinds=Wanted(reservation="both").kinds))
    add("gme", "Autoriser une réponse en groupement (GME)", gme_query(wanted),
        note="Membres possibles : types permis par la réservation, au moins un secteur du lot, intervenant dans "
             "le département du lieu, sans exiger de chacun les engagements (un membre les apporte).")
    return levers
