"""The bilans: a contract's and an organisation's year, in PDF (document kinds of `core.documents`, charts as SVG)
and as CSV/XLSX rows of the same figures (`core.exports.tabular_response`)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from ..accounts.models import Organisation
from ..core.dates import today
from ..extensions import db
from . import charts
from .indicators import (ContractFigures, ContractYear, ExitCount, OrganisationYear, Slice, contract_figures,
                         organisation_year)
from .models import Contract

CONTRACT_BILAN = "insertion.contract_bilan"
YEAR_BILAN = "insertion.year_bilan"


def _number(value: Decimal | None) -> str:
    """A figure for a CSV/XLSX cell: French decimal comma, no thousands separator; empty when unknown."""
    return "" if value is None else str(value).replace(".", ",")


# --- a contract ------------------------------------------------------------------------------------------------

def contract_chart(figures: ContractFigures) -> charts.MonthChart:
    return charts.month_chart(
        [m.label for m in figures.months], [m.validated for m in figures.months],
        [("Cumul validé", charts.GREEN, False, [m.cumulative if m.elapsed or m.validated else None
                                               for m in figures.months]),
         ("Objectif au prorata (cumul)", charts.GREY, False, [m.target_cumulative for m in figures.months]),
         ("Projection linéaire", charts.RED, True, [m.projected_cumulative for m in figures.months])],
        "Heures validées du mois")


def contract_bilan_params(contract: Contract, on: date | None = None) -> dict[str, Any]:
    return {"contract_id": contract.id, "on": (on or today()).isoformat()}


def contract_bilan_document(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """core.documents' builder of CONTRACT_BILAN: the template and its context."""
    contract = db.session.get(Contract, params["contract_id"])
    on = date.fromisoformat(params["on"])
    figures = contract_figures(contract, on)
    return "insertion/pdf/contract_bilan.html", {
        "title": f"Bilan des heures d'insertion — {contract.title}", "issued_on": on, "contract": contract,
        "figures": figures, "chart": contract_chart(figures)}


CONTRACT_HEADERS = ("Mois", "Heures validées", "Heures à valider", "Cumul validé", "Objectif au prorata (cumul)",
                    "Projection (cumul)")


def contract_rows(figures: ContractFigures) -> Iterable[list[str]]:
    for m in figures.months:
        yield [m.label, _number(m.validated), _number(m.pending), _number(m.cumulative),
               _number(m.target_cumulative), _number(m.projected_cumulative)]
    yield ["Total", _number(figures.validated), _number(figures.pending), _number(figures.validated),
           _number(figures.target), _number(figures.projection)]


# --- an organisation's year -----------------------------------------------------------------------------------

def year_chart(figures: OrganisationYear) -> charts.MonthChart:
    cumulative, done, target, total = [], Decimal(0), [], Decimal(0)
    for _, validated, month_target in figures.months:
        done += validated
        total += month_target
        cumulative.append(done)
        target.append(total)
    return charts.month_chart([f"{m.month:02d}" for m, _, _ in figures.months], [v for _, v, _ in figures.months],
                              [("Cumul validé", charts.GREEN, False, cumulative),
                               ("Objectif de l'année au prorata (cumul)", charts.GREY, False, target)],
                              "Heures validées du mois")


def year_snapshot(figures: OrganisationYear) -> dict[str, Any]:
    """The year's figures as JSON: a queued document is rendered by the worker from its stored parameters alone
    (inline without Redis, the worker runs inside the request's commit, where no query can be made), and a bilan
    is the figures of the moment it was asked for."""
    def slices(items) -> list:
        return [[s.key, s.label, str(s.hours), s.participants, None if s.share is None else str(s.share)]
                for s in items]

    return {"organisation_id": figures.organisation_id, "organisation_name": figures.organisation_name,
            "year": figures.year, "declared": str(figures.declared), "validated": str(figures.validated),
            "pending": str(figures.pending), "year_target": str(figures.year_target),
            "participants": figures.participants,
            "months": [[m.isoformat(), str(v), str(t)] for m, v, t in figures.months],
            "contracts": [[c.contract_id, c.title, c.holder_name, c.starts_on.isoformat(), c.ends_on.isoformat(),
                           str(c.target), str(c.year_target), str(c.validated), str(c.pending)]
                          for c in figures.contracts],
            **{key: slices(getattr(figures, key)) for key in ("publics", "modes", "sexes", "ages", "qpv", "zrr")},
            "exits": [[e.key, e.label, e.count, e.sustainable] for e in figures.exits]}


def from_snapshot(data: dict[str, Any]) -> OrganisationYear:
    def slices(items) -> list[Slice]:
        return [Slice(key, label, Decimal(hours), participants, None if share is None else Decimal(share))
                for key, label, hours, participants, share in items]

    return OrganisationYear(
        organisation_id=data["organisation_id"], organisation_name=data["organisation_name"], year=data["year"],
        declared=Decimal(data["declared"]), validated=Decimal(data["validated"]), pending=Decimal(data["pending"]),
        year_target=Decimal(data["year_target"]), participants=data["participants"],
        months=[(date.fromisoformat(m), Decimal(v), Decimal(t)) for m, v, t in data["months"]],
        contracts=[ContractYear(contract_id=c[0], title=c[1], holder_name=c[2], starts_on=date.fromisoformat(c[3]),
                                ends_on=date.fromisoformat(c[4]), target=Decimal(c[5]), year_target=Decimal(c[6]),
                                validated=Decimal(c[7]), pending=Decimal(c[8])) for c in data["contracts"]],
        **{key: slices(data[key]) for key in ("publics", "modes", "sexes", "ages", "qpv", "zrr")},
        exits=[ExitCount(key, label, count, sustainable) for key, label, count, sustainable in data["exits"]])


def year_bilan_params(organisation: Organisation, year: int, issued_on: date | None = None) -> dict[str, Any]:
    return {"figures": year_snapshot(organisation_year(organisation, year)),
            "issued_on": (issued_on or today()).isoformat()}


def year_bilan_document(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """core.documents' builder of YEAR_BILAN: from the stored figures, no query."""
    figures = from_snapshot(params["figures"])
    breakdown_charts = [(title, charts.hbar_chart([(s.label.split(" (")[0], s.hours) for s in slices]))
                        for key, title, slices in figures.breakdowns() if key in ("publics", "modes", "ages")]
    return "insertion/pdf/year_bilan.html", {
        "title": f"Bilan {figures.year} des clauses d'insertion — {figures.organisation_name}",
        "issued_on": date.fromisoformat(params["issued_on"]), "figures": figures, "chart": year_chart(figures),
        "breakdown_charts": breakdown_charts}


YEAR_HEADERS = ("Rubrique", "Libellé", "Objectif de l'année (h)", "Heures validées", "Heures à valider",
                "Participants", "Part des heures validées (%)", "Nombre")


def year_rows(figures: OrganisationYear) -> Iterable[list[Any]]:
    """The figures of the year page, one row each: totals, months, contracts, breakdowns, exits."""
    yield ["Total", f"Année {figures.year}", _number(figures.year_target), _number(figures.validated),
           _number(figures.pending), figures.participants, _number(figures.completion), ""]
    yield ["Total", "Heures déclarées (hors rejets)", "", _number(figures.declared), "", "", "", ""]
    yield ["Total", "ETP (heures validées ÷ 1 607)", "", _number(figures.etp), "", "", "", ""]
    for month, validated, target in figures.months:
        yield ["Mois", f"{month.month:02d}/{month.year}", _number(target), _number(validated), "", "", "", ""]
    for c in figures.contracts:
        yield ["Marché", f"{c.title} ({c.holder_name})", _number(c.year_target), _number(c.validated),
               _number(c.pending), "", _number(c.completion), ""]
    for _, title, slices in figures.breakdowns():
        for s in slices:
            yield [title, s.label, "", _number(s.hours), "", s.participants, _number(s.share), ""]
    for e in figures.exits:
        yield ["Sorties à 6 mois", e.label, "", "", "", "", "", e.count]
    yield ["Sorties à 6 mois", "Part des sorties durables (CDI, CDD de 6 mois ou plus, formation)", "", "", "", "",
           _number(figures.sustainable_share), figures.exits_sustainable]
