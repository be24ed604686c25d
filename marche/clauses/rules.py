"""Every legal figure of the clauses, once: value, article, source text and the dates it applies between.

Law and configurable defaults are kept apart: `Figure` is a figure of a text (a décret, a delegated
regulation), `Default` a starting value the buyer edits per lot (no legal force). Sources: DOMAIN.md §1 and §3,
re-checked against the texts. Buyer categories are plain strings here (the values of
`accounts.models.BuyerCategory`, plus `private`): clauses imports no other domain, a test keeps the lists equal.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True)
class Figure:
    """A figure fixed by a text, in force from `applies_from` (included) to `applies_until` (included, or open)."""

    value: Decimal
    article: str
    source: str
    applies_from: date
    applies_until: date | None = None

    def in_force(self, day: date) -> bool:
        return self.applies_from <= day and (self.applies_until is None or day <= self.applies_until)


@dataclass(frozen=True)
class Obligation:
    """A duty that starts on a date (compared with the consultation's launch date)."""

    code: str
    label: str
    article: str
    source: str
    applies_from: date
    #: the legal exceptions a buyer may record to waive it (code → French label); empty: no waiver possible
    exceptions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Default:
    """A configurable starting value (not law): the buyer edits it per lot; `source` says where it comes from."""

    value: Decimal
    source: str


class Nature(StrEnum):
    WORKS = "works"
    SUPPLIES = "supplies"
    SERVICES = "services"


NATURE_LABELS = {Nature.WORKS: "travaux", Nature.SUPPLIES: "fournitures", Nature.SERVICES: "services"}

# --- buyers ------------------------------------------------------------------------------------
#: the values of accounts.models.BuyerCategory (public buyers), as plain strings
PUBLIC_BUYER_CATEGORIES = ("state", "local_authority", "public_health", "contracting_entity", "social_landlord",
                           "other")
PRIVATE = "private"
BUYER_CATEGORIES = (*PUBLIC_BUYER_CATEGORIES, PRIVATE)
#: the autorités publiques centrales (State, its administrative public bodies, UGAP, Caisse des dépôts)
CENTRAL_AUTHORITIES = ("state",)
CONTRACTING_ENTITIES = ("contracting_entity",)

# --- EU thresholds, 1 January 2026 → 31 December 2027 (excl. VAT) ------------------------------
EU_FROM, EU_UNTIL = date(2026, 1, 1), date(2027, 12, 31)
EU_SOURCE = "Règlements délégués (UE) 2025/2150, 2025/2151 et 2025/2152 ; avis relatif aux seuils de procédure"


def _eu(value: int, article: str) -> Figure:
    return Figure(Decimal(value), article, EU_SOURCE, EU_FROM, EU_UNTIL)


EU_SUPPLIES_SERVICES_CENTRAL = _eu(140_000, "Annexe 2 du CCP (autorités publiques centrales)")
EU_SUPPLIES_SERVICES_OTHER = _eu(216_000, "Annexe 2 du CCP (autres pouvoirs adjudicateurs)")
EU_SUPPLIES_SERVICES_ENTITIES = _eu(432_000, "Annexe 2 du CCP (entités adjudicatrices)")
EU_DEFENCE_SUPPLIES_SERVICES = _eu(432_000, "Annexe 2 du CCP (marchés de défense ou de sécurité)")
EU_WORKS = _eu(5_404_000, "Annexe 2 du CCP (travaux)")
EU_SPECIFIC_SERVICES = _eu(750_000, "Annexe 2 du CCP (services sociaux et autres services spécifiques)")
EU_SPECIFIC_SERVICES_ENTITIES = _eu(1_000_000, "Annexe 2 du CCP (services sociaux et spécifiques, "
                                               "entités adjudicatrices)")

# --- French procedure thresholds (décret 2025-1386) --------------------------------------------
#: DOMAIN dates only the 60 000 € figure (1 April 2026); the two others are given the same date, the décret's
FR_FROM = date(2026, 4, 1)
FR_SOURCE = "Décret n° 2025-1386"
NO_COMPETITION_SUPPLIES_SERVICES = Figure(Decimal(60_000), "R2122-8", FR_SOURCE, FR_FROM)
NO_COMPETITION_WORKS = Figure(Decimal(100_000), "R2122-8", FR_SOURCE, FR_FROM)
PUBLICITY = Figure(Decimal(90_000), "R2131-12", FR_SOURCE, FR_FROM)

# --- the three obligations of 2026 (loi Climat et Résilience, art. 35) -------------------------
SOCIAL_CONSIDERATION = Obligation(
    "social_consideration", "Considération sociale obligatoire", "L2112-2-1",
    "Loi n° 2021-1104 du 22 août 2021 (Climat et Résilience), art. 35", date(2026, 8, 22),
    exceptions=(("no_link", "Pas de lien suffisant avec l'objet du marché"),
                ("restricts_competition", "Restreindrait la concurrence"),
                ("execution_difficult", "Rendrait l'exécution techniquement ou économiquement difficile")))
ENVIRONMENTAL_AWARD_CRITERION = Obligation(
    "environmental_award_criterion", "Critère d'attribution environnemental", "L2152-7, R2152-7",
    "Décret n° 2022-767 du 2 mai 2022", date(2026, 8, 21))
ENVIRONMENTAL_EXECUTION_CONDITION = Obligation(
    "environmental_execution_condition", "Condition d'exécution environnementale", "L2112-2",
    "Loi n° 2021-1104 du 22 août 2021 (Climat et Résilience), art. 35", date(2026, 8, 22))
OBLIGATIONS = (SOCIAL_CONSIDERATION, ENVIRONMENTAL_AWARD_CRITERION, ENVIRONMENTAL_EXECUTION_CONDITION)

#: one full-time equivalent: the French statutory annual working time
ETP_HOURS = Figure(Decimal(1607), "L3121-41 du Code du travail (1 607 heures par an)",
                   "Code du travail ; loi n° 2004-626 du 30 juin 2004 (journée de solidarité)", date(2004, 7, 1))

# --- reservations and the insertion-object market ----------------------------------------------
RESERVED_SIAE_ARTICLE = "L2113-13"
RESERVED_DISABILITY_ARTICLE = "L2113-12"
RESERVED_BOTH_ARTICLE = "L2113-14"
INSERTION_OBJECT_ARTICLE = "R2123-1 3°"
INSERTION_CLAUSE_ARTICLE = "L2112-2"
SOCIAL_CRITERION_ARTICLE = "R2152-7"
#: a single award criterion may only be the cost, computed by a global approach that includes the offer's
#: environmental characteristics (price alone no longer, from the décret 2022-767's date: ENVIRONMENTAL_AWARD_CRITERION)
SINGLE_CRITERION_ARTICLE = "R2152-7 1°"
LIFE_CYCLE_COST_ARTICLE = "R2152-9"


def eu_threshold(buyer_category: str, nature: str, day: date, *, defence: bool = False,
                 specific_services: bool = False) -> Figure:
    """The EU threshold for a buyer, a nature and a launch date. Past 31 December 2027 no newer figure is known
    here: the 2026-2027 one is answered (the caller says so)."""
    if nature == Nature.WORKS:
        return EU_WORKS
    entity = buyer_category in CONTRACTING_ENTITIES
    if specific_services and nature == Nature.SERVICES:
        return EU_SPECIFIC_SERVICES_ENTITIES if entity else EU_SPECIFIC_SERVICES
    if entity:
        return EU_SUPPLIES_SERVICES_ENTITIES
    if defence:
        return EU_DEFENCE_SUPPLIES_SERVICES
    if buyer_category in CENTRAL_AUTHORITIES:
        return EU_SUPPLIES_SERVICES_CENTRAL
    return EU_SUPPLIES_SERVICES_OTHER


def no_competition_threshold(nature: str) -> Figure:
    return NO_COMPETITION_WORKS if nature == Nature.WORKS else NO_COMPETITION_SUPPLIES_SERVICES


# --- configurable defaults of the hours calculator (not law) -----------------------------------
PORTAL_CHOICE = "Choix du portail (valeur de départ modifiable, sans valeur légale)"
DOMAIN_EXAMPLE = "Exemple de référence des facilitateurs : 1 000 000 € × 50 % × 5 % ÷ 30 €/h ≈ 833 h"
ANRU_WORKS = "Charte nationale d'insertion ANRU 2014-2024 : 5 % des heures de travaux et d'ingénierie"
ANRU_MANAGEMENT = ("Charte ANRU 2014-2024 : 10 % des heures de gestion urbaine de proximité ; usage jusqu'à 20 % "
                   "en propreté, espaces verts et déchets")


@dataclass(frozen=True)
class CalculatorDefaults:
    labour_share: Default
    insertion_rate: Default
    hourly_cost: Default


DEFAULTS_BY_NATURE = {
    Nature.WORKS: CalculatorDefaults(Default(Decimal("0.50"), DOMAIN_EXAMPLE),
                                     Default(Decimal("0.05"), ANRU_WORKS),
                                     Default(Decimal("30"), DOMAIN_EXAMPLE)),
    Nature.SERVICES: CalculatorDefaults(Default(Decimal("0.50"), DOMAIN_EXAMPLE),
                                        Default(Decimal("0.05"), DOMAIN_EXAMPLE),
                                        Default(Decimal("30"), DOMAIN_EXAMPLE)),
    Nature.SUPPLIES: CalculatorDefaults(Default(Decimal("0.20"), PORTAL_CHOICE),
                                        Default(Decimal("0.05"), DOMAIN_EXAMPLE),
                                        Default(Decimal("30"), DOMAIN_EXAMPLE)),
}
#: labour-intensive sector families (group slugs of data/secteurs_lemarche.csv): a higher insertion rate
_LABOUR_INTENSIVE = CalculatorDefaults(Default(Decimal("0.70"), PORTAL_CHOICE),
                                       Default(Decimal("0.10"), ANRU_MANAGEMENT),
                                       Default(Decimal("28"), PORTAL_CHOICE))
DEFAULTS_BY_SECTOR_GROUP = {
    "espaces-verts-exterieurs-2": _LABOUR_INTENSIVE,
    "hygiene-et-proprete-64": _LABOUR_INTENSIVE,
    "collecte-traitement-des-dechets": _LABOUR_INTENSIVE,
    "batiments-et-travaux-publics-65": DEFAULTS_BY_NATURE[Nature.WORKS],
}


def calculator_defaults(nature: str, sector_group: str | None = None) -> CalculatorDefaults:
    """The sector family's defaults when it has some, else the nature's."""
    if sector_group in DEFAULTS_BY_SECTOR_GROUP:
        return DEFAULTS_BY_SECTOR_GROUP[sector_group]
    return DEFAULTS_BY_NATURE[Nature(nature)]
