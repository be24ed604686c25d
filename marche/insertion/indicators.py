"""Insertion indicators (DOMAIN.md §3 « Indicators »): per contract, and per organisation (a buyer, or the
facilitator that keeps the contracts of its territory) and calendar year, computed by PostgreSQL in a few
set-based queries; and the exits six months after, recorded by the keeper.

Definitions (the pages and the PDFs say them again under the figures):

- **Validated hours** are the effective lines (`services.effective_lines()`: validated and not replaced by a
  validated correction; `scoped_lines` applies the same rule within the lines it reads). **Pending hours** are
  the lines waiting for a decision, corrections included.
  **Declared hours** (organisation-year) are the latest version of every line that is not rejected: a line
  pending or validated that no pending or validated correction replaces (a pending correction counts instead
  of its original, so nothing is counted twice).
- **ETP** = validated hours ÷ `clauses.rules.ETP_HOURS` (1 607 h), two decimals.
- **Months of a contract**: from the month of its start to the month of its end, both included. **Months
  elapsed** on a day: the months of the contract that are over (strictly before that day's month): the current
  month is not counted, its hours are still being declared.
- **Pro-rata target to date** = target × months elapsed ÷ months of the contract. A contract is **behind** when
  at least one month has elapsed and its validated hours (all months) are below 80 % of that pro-rata target
  (issue 22: « more than 20 % behind its pro-rata target »).
- **Projection** to the end date: linear from the average of the months elapsed: (validated hours of the months
  elapsed ÷ months elapsed) × months of the contract. None before the first month is over.
- **Organisation-year**: the contracts where the organisation is the buyer or the facilitator; lines of the
  year's months. The year's **target** of a contract is pro-rated to the year: target × its months in the year ÷
  its months; **completion** = validated hours of the year ÷ the sum of those targets.
- **Age band** at the line's year (year of the month − birth year): under 26, 26 to 49, 50 and over.
- **Breakdowns** are over validated hours; a participant with several publics counts in each (the public shares
  may add up to more than 100 %); one with none is « non renseigné ».
- **Exits**: those recorded during the year on the organisation's contracts, by situation; the sustainable share
  is CDI, CDD of 6 months or more, and qualifying training (`models.SUSTAINABLE_EXITS`) ÷ all exits recorded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (BigInteger, Date, Integer, Numeric, String, and_, case, cast, func, literal, literal_column,
                        null, or_, select, tuple_, union_all)

from ..accounts.models import Organisation
from ..clauses.catalogue import EligiblePublic, FulfilmentMode
from ..clauses.rules import ETP_HOURS
from ..core import audit
from ..core.access import can
from ..core.dates import today
from ..core.errors import DomainError
from ..extensions import db
from .models import (SUSTAINABLE_EXITS, Contract, DeclarationStatus, ExitSituation, HoursDeclaration, Participant,
                     ParticipantExit, Sex)
from .services import effective_lines, month_label

#: a contract is behind below this share of its pro-rata target
BEHIND_RATIO = Decimal("0.8")
#: age bands at the line's year: (key, label, lowest age included)
AGE_BANDS = (("under_26", "Moins de 26 ans", 0), ("26_49", "26 à 49 ans", 26), ("50_plus", "50 ans et plus", 50))
NOT_SET = "none"
NOT_SET_LABEL = "Non renseigné"
ZERO = Decimal(0)
CENT = Decimal("0.01")


def etp(hours: Decimal) -> Decimal:
    """Full-time equivalents of `hours`: hours ÷ 1 607 (`clauses.rules.ETP_HOURS`), two decimals."""
    return (Decimal(hours) / ETP_HOURS.value).quantize(CENT, ROUND_HALF_UP)


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """`part` ÷ `whole` in percent, one decimal; None when `whole` is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def month_index(month: date) -> int:
    return month.year * 12 + month.month - 1


def add_months(month: date, count: int) -> date:
    index = month_index(month) + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> int:
    """Months from `first` to `last`, both included (0 when last is before first)."""
    return max(0, month_index(last) - month_index(first) + 1)


@dataclass(frozen=True)
class Scoped:
    """Some lines (a contract's, an organisation's year), read once, each with its flags `effective` and `latest`
    computed inside them: a correction always carries its original's contract and month (`services.correct`), so
    the lines that replace one are in the same scope and no query reads beyond it. The flags come from two hash
    joins: a correlated NOT EXISTS (or NOT IN) in an aggregate's FILTER runs once per line, over the whole table
    or the whole scope, which a million lines make quadratic."""

    lines: Any

    @property
    def effective(self):
        return self.lines.c.effective

    @property
    def latest(self):
        return self.lines.c.latest

    @property
    def submitted(self):
        return self.lines.c.status == DeclarationStatus.SUBMITTED


def scoped_lines(*where) -> Scoped:
    """The lines matching `where` as a CTE with two flags: `effective`, a line that counts (validated, no
    validated correction: `services.effective_lines()`), and `latest`, a line's latest version (not rejected, no
    pending or validated correction: a pending correction counts instead of its original)."""
    base = (select(HoursDeclaration.id, HoursDeclaration.contract_id, HoursDeclaration.participant_id,
                   HoursDeclaration.month, HoursDeclaration.mode, HoursDeclaration.hours, HoursDeclaration.status,
                   HoursDeclaration.corrects_id).where(*where).cte("scoped"))
    replaced = (select(base.c.corrects_id).where(base.c.corrects_id.is_not(None),
                                                 base.c.status == DeclarationStatus.VALIDATED)
                .distinct().subquery("replaced"))
    superseded = (select(base.c.corrects_id).where(base.c.corrects_id.is_not(None),
                                                   base.c.status != DeclarationStatus.REJECTED)
                  .distinct().subquery("superseded"))
    flagged = (select(base, and_(base.c.status == DeclarationStatus.VALIDATED,
                                 replaced.c.corrects_id.is_(None)).label("effective"),
                      and_(base.c.status != DeclarationStatus.REJECTED,
                           superseded.c.corrects_id.is_(None)).label("latest"))
               .select_from(base.outerjoin(replaced, replaced.c.corrects_id == base.c.id)
                            .outerjoin(superseded, superseded.c.corrects_id == base.c.id))
               .cte("lines"))
    return Scoped(flagged)


def _hours(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


# --- one contract ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MonthFigures:
    month: date
    validated: Decimal
    pending: Decimal
    cumulative: Decimal
    #: the pro-rata target cumulated to the end of this month (target × months up to it ÷ months)
    target_cumulative: Decimal
    #: the projected cumulative hours, for the months after those elapsed (None before)
    projected_cumulative: Decimal | None
    elapsed: bool

    @property
    def label(self) -> str:
        return month_label(self.month)


@dataclass(frozen=True)
class ContractFigures:
    contract_id: int
    title: str
    on: date
    target: Decimal
    validated: Decimal
    pending: Decimal
    participants: int
    months_total: int
    months_elapsed: int
    pro_rata_target: Decimal
    projection: Decimal | None
    months: tuple[MonthFigures, ...]

    @property
    def completion(self) -> Decimal | None:
        return ratio(self.validated, self.target)

    @property
    def etp(self) -> Decimal:
        return etp(self.validated)

    @property
    def behind(self) -> bool:
        return self.months_elapsed > 0 and self.validated < BEHIND_RATIO * self.pro_rata_target

    @property
    def pro_rata_completion(self) -> Decimal | None:
        """Validated hours ÷ the pro-rata target, in percent."""
        return ratio(self.validated, self.pro_rata_target)

    @property
    def projection_completion(self) -> Decimal | None:
        return ratio(self.projection, self.target) if self.projection is not None else None

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.target - self.validated)

    def chart(self) -> dict[str, Any]:
        """The Chart.js data of the page: months, validated bars, cumulative, pro-rata and projected lines."""
        return {"labels": [m.label for m in self.months],
                "validated": [float(m.validated) for m in self.months],
                "cumulative": [float(m.cumulative) if m.elapsed or m.validated else None for m in self.months],
                "target": [float(m.target_cumulative) for m in self.months],
                "projected": [float(m.projected_cumulative) if m.projected_cumulative is not None else None
                              for m in self.months]}


def contract_figures(contract: Contract, on: date | None = None) -> ContractFigures:
    """The figures of one contract on day `on` (today in Paris by default): one query for its months."""
    on = on or today()
    first, last = contract.first_month, contract.last_month
    months_total = months_between(first, last)
    months_elapsed = min(months_total, months_between(first, add_months(on.replace(day=1), -1)))
    scoped = scoped_lines(HoursDeclaration.contract_id == contract.id)
    lines = scoped.lines.c
    rows = db.session.execute(
        select(lines.month, func.sum(lines.hours).filter(scoped.effective),
               func.sum(lines.hours).filter(scoped.submitted),
               func.count(lines.participant_id.distinct()).filter(scoped.effective), func.grouping(lines.month))
        .group_by(func.grouping_sets(tuple_(lines.month), tuple_()))).all()
    by_month = {row[0]: (_hours(row[1]), _hours(row[2])) for row in rows if row[4] == 0}
    total = next((row for row in rows if row[4] == 1), None)
    validated = _hours(total[1]) if total else ZERO
    pending = _hours(total[2]) if total else ZERO
    participants = int(total[3]) if total else 0
    target = Decimal(contract.hours_target)
    elapsed_validated = sum((v for m, (v, _) in by_month.items()
                             if month_index(first) <= month_index(m) < month_index(first) + months_elapsed), ZERO)
    rate = elapsed_validated / months_elapsed if months_elapsed else None
    projection = (rate * months_total).quantize(CENT, ROUND_HALF_UP) if rate is not None else None
    months, cumulative = [], ZERO
    for n in range(months_total):
        month = add_months(first, n)
        month_validated, month_pending = by_month.get(month, (ZERO, ZERO))
        cumulative += month_validated
        projected = None
        if rate is not None and n >= months_elapsed - 1:
            projected = (elapsed_validated + rate * (n + 1 - months_elapsed)).quantize(CENT, ROUND_HALF_UP)
        months.append(MonthFigures(month=month, validated=month_validated, pending=month_pending,
                                   cumulative=cumulative,
                                   target_cumulative=(target * (n + 1) / months_total).quantize(CENT, ROUND_HALF_UP),
                                   projected_cumulative=projected, elapsed=n < months_elapsed))
    return ContractFigures(contract_id=contract.id, title=contract.title, on=on, target=target, validated=validated,
                           pending=pending, participants=participants, months_total=months_total,
                           months_elapsed=months_elapsed,
                           pro_rata_target=(target * months_elapsed / months_total).quantize(CENT, ROUND_HALF_UP)
                           if months_total else ZERO,
                           projection=projection, months=tuple(months))


# --- one organisation and year -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Slice:
    """One line of a breakdown: validated hours and participants of a category."""

    key: str
    label: str
    hours: Decimal
    participants: int
    share: Decimal | None = None


@dataclass(frozen=True)
class ContractYear:
    contract_id: int
    title: str
    holder_name: str
    starts_on: date
    ends_on: date
    target: Decimal
    #: the target pro-rated to the year: target × months of the contract in the year ÷ months of the contract
    year_target: Decimal
    validated: Decimal
    pending: Decimal

    @property
    def completion(self) -> Decimal | None:
        return ratio(self.validated, self.year_target)


@dataclass(frozen=True)
class ExitCount:
    key: str
    label: str
    count: int
    sustainable: bool


@dataclass
class OrganisationYear:
    organisation_id: int
    organisation_name: str
    year: int
    declared: Decimal = ZERO
    validated: Decimal = ZERO
    pending: Decimal = ZERO
    year_target: Decimal = ZERO
    participants: int = 0
    months: list[tuple[date, Decimal, Decimal]] = field(default_factory=list)
    contracts: list[ContractYear] = field(default_factory=list)
    publics: list[Slice] = field(default_factory=list)
    modes: list[Slice] = field(default_factory=list)
    sexes: list[Slice] = field(default_factory=list)
    ages: list[Slice] = field(default_factory=list)
    qpv: list[Slice] = field(default_factory=list)
    zrr: list[Slice] = field(default_factory=list)
    exits: list[ExitCount] = field(default_factory=list)

    @property
    def completion(self) -> Decimal | None:
        return ratio(self.validated, self.year_target)

    @property
    def etp(self) -> Decimal:
        return etp(self.validated)

    @property
    def exits_total(self) -> int:
        return sum(e.count for e in self.exits)

    @property
    def exits_sustainable(self) -> int:
        return sum(e.count for e in self.exits if e.sustainable)

    @property
    def sustainable_share(self) -> Decimal | None:
        return ratio(Decimal(self.exits_sustainable), Decimal(self.exits_total))

    def breakdowns(self) -> list[tuple[str, str, list[Slice]]]:
        """(key, French title, slices) of every breakdown, in the order the pages show them."""
        return [("publics", "Publics", self.publics), ("modes", "Modes de réalisation", self.modes),
                ("sexes", "Sexe", self.sexes), ("ages", "Tranche d'âge", self.ages),
                ("qpv", "Résidence en QPV", self.qpv), ("zrr", "Résidence en ZRR", self.zrr)]

    def chart(self) -> dict[str, Any]:
        return {"labels": [month_label(m) for m, _, _ in self.months],
                "validated": [float(v) for _, v, _ in self.months],
                "target": [float(t) for _, _, t in self.months],
                "breakdowns": {key: {"labels": [s.label.split(" (")[0] for s in slices],
                                     "hours": [float(s.hours) for s in slices]}
                               for key, _, slices in self.breakdowns()}}


def is_behind(session, contract: Contract, day: date) -> bool:
    """The reminders' rule (`reminders.send_behind`): the contract's figures on `day` say it is behind."""
    return contract_figures(contract, day).behind


def organisation_scope(organisation_id: int):
    """The contracts of an organisation: those it buys, and those it keeps as the facilitator."""
    return or_(Contract.buyer_organisation_id == organisation_id,
               Contract.facilitator_organisation_id == organisation_id)


def _age_band(year: int, birth_year):
    age = year - birth_year
    return case((age < AGE_BANDS[1][2], AGE_BANDS[0][0]), (age < AGE_BANDS[2][2], AGE_BANDS[1][0]),
                else_=AGE_BANDS[2][0])


def _slices(found: dict[str, tuple[Decimal, int]], labels: list[tuple[str, str]], total: Decimal,
            keep_empty: bool = True) -> list[Slice]:
    known = [key for key, _ in labels]
    labels = labels + [(key, NOT_SET_LABEL if key == NOT_SET else key) for key in found if key not in known]
    return [Slice(key, label, found.get(key, (ZERO, 0))[0], found.get(key, (ZERO, 0))[1],
                  ratio(found.get(key, (ZERO, 0))[0], total))
            for key, label in labels if keep_empty or key in found]


YEAR_COLUMNS = ("kind", "contract_id", "month", "key", "validated", "pending", "declared", "participants")


def _year_row(kind: str, contract_id=None, month=None, key=None, validated=None, pending=None, declared=None,
              participants=None) -> list:
    """The columns of one part of `_year_sums`, each labelled, NULL where the part has none."""
    values = (literal(kind), contract_id, month, cast(key, String) if key is not None else None, validated, pending,
              declared, participants)
    types = (String, Integer, Date, String, Numeric, Numeric, Numeric, BigInteger)
    return [(value if value is not None else cast(null(), type_)).label(name)
            for value, type_, name in zip(values, types, YEAR_COLUMNS)]


def _year_sums(scoped: Scoped, year: int):
    """One statement, rows of YEAR_COLUMNS: the year's hours by contract and by month; then, over the validated
    hours summed by participant and mode, the breakdowns by mode, sex, age band, QPV and ZRR, the total of
    participants, and the publics (a participant with several counts in each)."""
    lines = scoped.lines.c

    def sums() -> dict:
        return {"validated": func.sum(lines.hours).filter(scoped.effective),
                "pending": func.sum(lines.hours).filter(scoped.submitted)}

    parts = [select(*_year_row("contract", contract_id=lines.contract_id, **sums())).group_by(lines.contract_id),
             select(*_year_row("month", month=lines.month, declared=func.sum(lines.hours).filter(scoped.latest),
                               **sums())).group_by(lines.month)]
    per_mode = (select(lines.participant_id, lines.mode, func.sum(lines.hours).label("hours"))
                .where(scoped.effective).group_by(lines.participant_id, lines.mode).cte("per_mode"))
    people = per_mode.join(Participant, Participant.id == per_mode.c.participant_id)
    keys = {"mode": per_mode.c.mode, "sex": Participant.sex, "age": _age_band(year, Participant.birth_year),
            "qpv": case((Participant.qpv, "yes"), else_="no"), "zrr": case((Participant.zrr, "yes"), else_="no")}
    for kind, key in keys.items():
        parts.append(select(*_year_row(kind, key=key, validated=func.sum(per_mode.c.hours),
                                       participants=func.count(per_mode.c.participant_id.distinct())))
                     .select_from(people).group_by(key))
    parts.append(select(*_year_row("total", validated=func.sum(per_mode.c.hours),
                                   participants=func.count(per_mode.c.participant_id.distinct())))
                 .select_from(people))
    per_person = (select(per_mode.c.participant_id, func.sum(per_mode.c.hours).label("hours"))
                  .group_by(per_mode.c.participant_id).subquery())
    public = func.unnest(func.coalesce(func.nullif(Participant.publics, literal_column("'{}'::varchar[]")),
                                       literal_column(f"'{{{NOT_SET}}}'::varchar[]"))).label("public")
    per_public = (select(public, per_person.c.hours)
                  .join_from(per_person, Participant, Participant.id == per_person.c.participant_id).subquery())
    parts.append(select(*_year_row("public", key=per_public.c.public, validated=func.sum(per_public.c.hours),
                                   participants=func.count())).group_by(per_public.c.public))
    return union_all(*parts)


def organisation_year(organisation: Organisation, year: int) -> OrganisationYear:
    """The figures of an organisation's contracts for a calendar year, in three queries: the contracts, every sum
    of the year's lines (`_year_sums`, which reads them once), the exits."""
    start, end = date(year, 1, 1), date(year, 12, 1)
    figures = OrganisationYear(organisation.id, organisation.name, year)
    scope = organisation_scope(organisation.id)
    contract_ids = select(Contract.id).where(scope).scalar_subquery()
    contracts = db.session.execute(
        select(Contract.id, Contract.title, Contract.holder_name, Contract.starts_on, Contract.ends_on,
               Contract.hours_target)
        .where(scope, Contract.starts_on <= date(year, 12, 31), Contract.ends_on >= start)
        .order_by(Contract.starts_on, Contract.id)).all()

    # every sum of the year in one statement, so that the organisation's lines of the year are read once. A line's
    # month is a month of its contract (`services.check_month`): the year's lines are those of the contracts active
    # in the year, named by their ids, which lets the planner read them through the index on (contract, month)
    # (with a subquery it estimates a scan of the year's lines of every contract to be cheaper: 4 to 6 times
    # slower at 1 000 000 lines)
    active_ids = [c.id for c in contracts]
    rows = db.session.execute(_year_sums(scoped_lines(HoursDeclaration.contract_id.in_(active_ids),
                                                      HoursDeclaration.month.between(start, end)), year)).all()
    by_kind: dict[str, list] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    by_contract = {r.contract_id: (_hours(r.validated), _hours(r.pending)) for r in by_kind.get("contract", [])}
    by_month = {r.month: (_hours(r.validated), _hours(r.pending), _hours(r.declared))
                for r in by_kind.get("month", [])}
    month_targets = {add_months(start, n): ZERO for n in range(12)}
    for c in contracts:
        total_months = months_between(c.starts_on.replace(day=1), c.ends_on.replace(day=1))
        first = max(c.starts_on.replace(day=1), start)
        last = min(c.ends_on.replace(day=1), end)
        in_year_months = months_between(first, last)
        per_month = Decimal(c.hours_target) / total_months
        for n in range(in_year_months):
            month_targets[add_months(first, n)] += per_month
        validated, pending = by_contract.get(c.id, (ZERO, ZERO))
        figures.contracts.append(ContractYear(
            contract_id=c.id, title=c.title, holder_name=c.holder_name, starts_on=c.starts_on, ends_on=c.ends_on,
            target=Decimal(c.hours_target),
            year_target=(per_month * in_year_months).quantize(CENT, ROUND_HALF_UP),
            validated=validated, pending=pending))
    figures.year_target = sum((c.year_target for c in figures.contracts), ZERO)
    figures.months = [(m, by_month.get(m, (ZERO,))[0], t.quantize(CENT, ROUND_HALF_UP))
                      for m, t in month_targets.items()]
    figures.validated = sum((v for v, _, _ in by_month.values()), ZERO)
    figures.pending = sum((p for _, p, _ in by_month.values()), ZERO)
    figures.declared = sum((d for _, _, d in by_month.values()), ZERO)
    figures.participants = sum(int(r.participants) for r in by_kind.get("total", []))

    def found(kind: str) -> dict[str, tuple[Decimal, int]]:
        return {str(r.key): (_hours(r.validated), int(r.participants)) for r in by_kind.get(kind, [])}

    total = figures.validated
    yes_no = [("yes", "Oui"), ("no", "Non")]
    figures.modes = _slices(found("mode"), FulfilmentMode.choices(), total, keep_empty=False)
    figures.sexes = _slices(found("sex"), Sex.choices(), total)
    figures.ages = _slices(found("age"), [(key, label) for key, label, _ in AGE_BANDS], total)
    figures.qpv = _slices(found("qpv"), yes_no, total)
    figures.zrr = _slices(found("zrr"), yes_no, total)
    figures.publics = _slices(found("public"), EligiblePublic.choices(), total, keep_empty=False)

    # exits recorded during the year on the organisation's contracts
    rows = db.session.execute(
        select(ParticipantExit.situation, func.count())
        .where(ParticipantExit.contract_id.in_(contract_ids),
               ParticipantExit.observed_on.between(start, date(year, 12, 31)))
        .group_by(ParticipantExit.situation)).all()
    counts = {r[0]: int(r[1]) for r in rows}
    figures.exits = [ExitCount(s.value, s.label, counts.get(s.value, 0), s in SUSTAINABLE_EXITS)
                     for s in ExitSituation]
    return figures


def active_years(organisation_id: int) -> list[int]:
    """The calendar years some contract of the organisation covers, the latest first (the year selector)."""
    bounds = db.session.execute(select(func.min(Contract.starts_on), func.max(Contract.ends_on))
                                .where(organisation_scope(organisation_id))).one()
    if bounds[0] is None:
        return []
    last = min(bounds[1].year, today().year)
    return list(range(max(last, bounds[0].year), bounds[0].year - 1, -1))


# --- exits six months after ---------------------------------------------------------------------------------------

def record_exit(actor, participant: Participant, contract: Contract, situation: str, observed_on: date | None) -> \
        ParticipantExit:
    """The keeper records where a participant stands after its mission on a contract (once per participant and
    contract; recording again replaces the situation)."""
    if not can(actor, "keep", contract):
        raise DomainError("Seul le facilitateur ou l'acheteur qui suit ce marché enregistre les sorties.")
    if participant.keeper_organisation_id != contract.keeper_organisation_id:
        raise DomainError("Participant inconnu dans les dossiers de ce marché.", "participant")
    if situation not in {s.value for s in ExitSituation}:
        raise DomainError("Situation : choisissez une situation de la liste.", "situation")
    if not isinstance(observed_on, date):
        raise DomainError("Date d'observation : date attendue (JJ/MM/AAAA).", "observed_on")
    if observed_on > today():
        raise DomainError("Date d'observation : elle ne peut être dans le futur.", "observed_on")
    has_hours = db.session.scalar(select(HoursDeclaration.id).where(
        HoursDeclaration.contract_id == contract.id, HoursDeclaration.participant_id == participant.id,
        effective_lines()).limit(1))
    if has_hours is None:
        raise DomainError(f"{participant.code} n'a pas d'heures validées sur ce marché.", "participant")
    row = db.session.get(ParticipantExit, (participant.id, contract.id))
    if row is None:
        row = ParticipantExit(participant_id=participant.id, contract_id=contract.id)
        db.session.add(row)
    row.situation, row.observed_on, row.recorded_by_id = situation, observed_on, getattr(actor, "id", None)
    db.session.flush()
    audit.record(actor, "participant.exit_recorded", contract, participant=participant.code, situation=situation,
                 observed_on=observed_on.isoformat())
    return row
