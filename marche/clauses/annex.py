"""The clause annex of a tender: the French wording of each lot's clauses with its figures filled in, written once
as sections (heading + paragraphs + lists) that give both the copyable text (to paste into the CCAP) and the PDF
(`templates/clauses/annex.html`, through core/documents.py and core/pdf.py).

The PDF's parameters are plain JSON (`annex_params`): the worker can render a stored request later, as the
outbox path of core/documents.py does for large documents.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..core.filters import fr_number
from . import rules
from .calculator import etp, fr_decimal
from .catalogue import ENVIRONMENTAL_WORDING, EligiblePublic, EnvironmentalCondition, FulfilmentMode
from .legal import RESERVATIONS, LotClauses

ANNEX_DOCUMENT = "clauses.annex"
RESERVATION_WORDING = {
    "siae": "aux structures d'insertion par l'activité économique (SIAE) mentionnées à l'article L5132-4 du Code du "
            "travail et aux structures équivalentes",
    "disability": "aux entreprises adaptées, aux établissements et services d'accompagnement par le travail (ESAT) "
                  "et aux structures équivalentes employant au moins 50 % de travailleurs handicapés",
    "both": "conjointement aux SIAE, aux entreprises adaptées, aux ESAT et aux structures équivalentes",
}


@dataclass(frozen=True)
class InsertionTerms:
    """The figures of a lot's insertion clause."""

    hours: Decimal
    modes: tuple[str, ...] = ()
    publics: tuple[str, ...] = ()
    facilitator: str = ""
    penalty_per_hour: Decimal | None = None


@dataclass(frozen=True)
class LotAnnex:
    number: int
    clauses: LotClauses
    insertion: InsertionTerms | None = None
    environmental_conditions: tuple[str, ...] = ()
    environmental_free_text: str = ""
    social_criterion_text: str = "performances en matière d'insertion professionnelle des publics en difficulté"
    environmental_criterion_text: str = "performances en matière de protection de l'environnement"


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    after: tuple[str, ...] = field(default=())


def _weight(value: Decimal) -> str:
    return f"{fr_decimal(value)} %"


def _insertion(terms: InsertionTerms) -> list[Section]:
    hours = Decimal(terms.hours)
    sections = [Section(
        f"Clause sociale d'insertion (article {rules.INSERTION_CLAUSE_ARTICLE} du Code de la commande publique)",
        (f"Le titulaire réserve à l'insertion professionnelle de personnes éloignées de l'emploi au moins "
         f"{fr_number(hours)} heures de travail pendant l'exécution du marché, soit "
         f"{fr_number(etp(hours), 2)} équivalent(s) temps plein (ETP, {fr_number(rules.ETP_HOURS.value)} heures "
         f"par an).",),
    )]
    if terms.publics:
        sections.append(Section("Publics éligibles", ("Sont comptées les heures réalisées par :",),
                                tuple(EligiblePublic(p).label for p in terms.publics),
                                ("L'éligibilité de chaque personne est confirmée par le facilitateur avant le début "
                                 "de la mission.",)))
    if terms.modes:
        sections.append(Section("Modalités de mise en œuvre", ("Le titulaire peut réaliser ces heures par :",),
                                tuple(FulfilmentMode(m).label for m in terms.modes)))
    contact = terms.facilitator.strip() or "le facilitateur désigné par l'acheteur"
    follow_up = [f"Le titulaire prend contact, dès la notification du marché, avec le facilitateur de la clause : "
                 f"{contact}.",
                 "Il transmet chaque mois au facilitateur l'état des heures réalisées, par modalité et par public, "
                 "et remet un bilan à la fin du marché ; aucune donnée nominative n'est demandée."]
    if terms.penalty_per_hour is not None:
        follow_up.append(f"Pour chaque heure d'insertion non réalisée sans justification acceptée par l'acheteur, une "
                         f"pénalité de {fr_number(Decimal(terms.penalty_per_hour), 2)} € HT est appliquée.")
    heading = "Accompagnement et suivi" if terms.penalty_per_hour is None else "Accompagnement, suivi et pénalités"
    sections.append(Section(heading, tuple(follow_up)))
    return sections


def lot_sections(lot: LotAnnex) -> list[Section]:
    """The wording of one lot's clauses, in the order of the CCAP."""
    clauses, sections = lot.clauses, []
    if clauses.reservation:
        sections.append(Section(f"Marché réservé (article {RESERVATIONS[clauses.reservation]} du Code de la "
                                f"commande publique)",
                                (f"Le présent lot est réservé {RESERVATION_WORDING[clauses.reservation]}.",)))
    if clauses.insertion_object:
        sections.append(Section(f"Marché d'insertion et de qualification professionnelle (article "
                                f"{rules.INSERTION_OBJECT_ARTICLE} du Code de la commande publique)",
                                ("L'objet même du présent lot est l'insertion et la qualification professionnelles "
                                 "de personnes rencontrant des difficultés sociales ou professionnelles "
                                 "particulières, la prestation en étant le support.",)))
    if clauses.insertion_clause and lot.insertion is not None:
        sections += _insertion(lot.insertion)
    if clauses.social_criterion_weight:
        sections.append(Section(f"Critère d'attribution social (article {rules.SOCIAL_CRITERION_ARTICLE})",
                                (f"Les offres sont notées pour {_weight(clauses.social_criterion_weight)} sur le "
                                 f"critère : {lot.social_criterion_text}.",)))
    if clauses.environmental_condition:
        wording = [ENVIRONMENTAL_WORDING[EnvironmentalCondition(code)] for code in lot.environmental_conditions
                   if code != EnvironmentalCondition.FREE_TEXT]
        if lot.environmental_free_text.strip():
            wording.append(lot.environmental_free_text.strip())
        sections.append(Section(f"Condition d'exécution environnementale (article "
                                f"{rules.ENVIRONMENTAL_EXECUTION_CONDITION.article})",
                                ("Pendant l'exécution du marché :",), tuple(wording)))
    if clauses.environmental_criterion_weight and clauses.environmental_criterion_is_cost:
        sections.append(Section(f"Critère d'attribution environnemental (articles "
                                f"{rules.ENVIRONMENTAL_AWARD_CRITERION.article}, {rules.LIFE_CYCLE_COST_ARTICLE})",
                                (f"Les offres sont notées pour {_weight(clauses.environmental_criterion_weight)} sur "
                                 f"leur coût global, déterminé selon une approche fondée sur le coût du cycle de vie "
                                 f"et incluant les caractéristiques environnementales de l'offre : "
                                 f"{lot.environmental_criterion_text}.",)))
    elif clauses.environmental_criterion_weight:
        sections.append(Section(f"Critère d'attribution environnemental (articles "
                                f"{rules.ENVIRONMENTAL_AWARD_CRITERION.article})",
                                (f"Les offres sont notées pour {_weight(clauses.environmental_criterion_weight)} sur "
                                 f"le critère : {lot.environmental_criterion_text}.",)))
    known = {o.code: o for o in rules.OBLIGATIONS}
    for waiver in clauses.waivers:
        obligation = known[waiver.obligation]
        sections.append(Section(f"{obligation.label} non retenue (article {obligation.article})",
                                (f"Exception invoquée : {dict(obligation.exceptions)[waiver.exception]}. "
                                 f"Motif : {waiver.reason.strip()}",)))
    if not sections:
        sections.append(Section("Aucune clause sociale ou environnementale", ()))
    return sections


def lot_heading(lot: LotAnnex) -> str:
    return f"Lot {lot.number} — {lot.clauses.title}" if lot.clauses.title else f"Lot {lot.number}"


def annex_text(title: str, lots: list[LotAnnex]) -> str:
    """The annex as plain text, to copy into the CCAP."""
    lines = ["Annexe au CCAP — clauses sociales et environnementales", title, ""]
    for lot in lots:
        lines += [lot_heading(lot).upper(), ""]
        for section in lot_sections(lot):
            lines.append(section.heading)
            lines += list(section.paragraphs)
            lines += [f"– {item}" for item in section.items]
            lines += list(section.after)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- the PDF: JSON parameters (storable for the worker) → template and context ---------------------

def annex_params(title: str, buyer: str, lots: list[LotAnnex], issued_on: date) -> dict[str, Any]:
    """What the PDF shows, fixed when it is asked (the worker renders exactly that)."""
    return {"title": title, "buyer": buyer, "issued_on": issued_on.isoformat(),
            "lots": [{"heading": lot_heading(lot),
                      "sections": [{"heading": s.heading, "paragraphs": list(s.paragraphs), "items": list(s.items),
                                    "after": list(s.after)} for s in lot_sections(lot)]} for lot in lots]}


def annex_document(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """core.documents' builder for ANNEX_DOCUMENT."""
    return "clauses/annex.html", {"title": "Annexe au CCAP — clauses sociales et environnementales",
                                  "tender_title": params["title"], "buyer": params["buyer"],
                                  "issued_on": date.fromisoformat(params["issued_on"]), "lots": params["lots"]}
