"""Dashboards and bilans (blueprint "insertion_dashboards"): a contract's figures (template global
`contract_figures`, drawn by `insertion/_contract_dashboard.html` on the contract page), its PDF and CSV/XLSX
bilan; « Bilans » of the organisations the user keeps (a facilitator's territory, a buyer), by year, with their
PDF and CSV/XLSX; the exits six months after, recorded by the keeper.

A contract the user may not see, an organisation the user does not keep answer 404.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import DataRequired

from ..accounts.models import Organisation
from ..core.access import can, get_or_404
from ..core.dates import today
from ..core.documents import INLINE_MAX_ROWS, document_response, request_document
from ..core.exports import tabular_response
from ..core.forms import Form, commit_or_report
from ..extensions import db
from . import bilans, indicators
from .access import kept_organisation_ids
from .models import Contract, ExitSituation, HoursDeclaration, Participant, ParticipantExit
from .services import effective_lines

bp = Blueprint("insertion_dashboards", __name__)
#: the years a bilan may be asked for (anything else is a mistyped address: 404)
FIRST_YEAR, LAST_YEAR = 2000, 2100


def contract_figures(contract: Contract) -> indicators.ContractFigures:
    """Template global: the figures the contract page's dashboard partial shows (as `figures`)."""
    return indicators.contract_figures(contract)


def _contract(contract_id: int, action: str = "view") -> Contract:
    return get_or_404(db.session.get(Contract, contract_id), current_user, action)


def _kept_organisations() -> list[Organisation]:
    ids = kept_organisation_ids(current_user)
    if not ids:
        return []
    return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)))


def _organisation() -> Organisation:
    """The organisation named by `?organisation=` (by default the user's only or first kept one): one the user
    keeps, or any for a platform admin; 404 otherwise."""
    raw = request.args.get("organisation", "")
    kept = _kept_organisations()
    if not raw:
        if not kept:
            abort(404)
        return kept[0]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        abort(404)
    organisation = db.session.get(Organisation, int(raw))
    if organisation is None or not (getattr(current_user, "is_platform_admin", False)
                                    or organisation.id in {o.id for o in kept}):
        abort(404)
    return organisation


def _year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(404)
    return year


# --- a contract -------------------------------------------------------------------------------------------

@bp.get("/contrats/<int:contract_id>/bilan.pdf")
@login_required
def contract_pdf(contract_id: int):
    contract = _contract(contract_id)
    return document_response(bilans.CONTRACT_BILAN, bilans.contract_bilan_params(contract),
                             f"bilan-marche-{contract.id}-{today().isoformat()}.pdf")


@bp.get("/contrats/<int:contract_id>/bilan.<any(csv, xlsx):fmt>")
@login_required
def contract_export(contract_id: int, fmt: str):
    contract = _contract(contract_id)
    figures = indicators.contract_figures(contract)
    return tabular_response(fmt, f"bilan-marche-{contract.id}-{today().isoformat()}", bilans.CONTRACT_HEADERS,
                            bilans.contract_rows(figures))


class ExitForm(Form):
    participant_id = HiddenField()
    situation = SelectField("Situation six mois après", choices=ExitSituation.choices(),
                            validators=[DataRequired()])
    observed_on = DateField("Date d'observation", validators=[DataRequired()])


def _contract_participants(contract: Contract) -> list[tuple[Participant, ParticipantExit | None]]:
    """The participants with validated hours on the contract, and their exit when recorded."""
    rows = db.session.execute(
        select(Participant, ParticipantExit)
        .outerjoin(ParticipantExit, (ParticipantExit.participant_id == Participant.id)
                   & (ParticipantExit.contract_id == contract.id))
        .where(Participant.id.in_(select(HoursDeclaration.participant_id).where(
            HoursDeclaration.contract_id == contract.id, effective_lines())))
        .order_by(Participant.code)).all()
    return [(row[0], row[1]) for row in rows]


@bp.route("/contrats/<int:contract_id>/sorties", methods=["GET", "POST"])
@login_required
def exits(contract_id: int):
    """The keeper records each participant's situation six months after the mission."""
    contract = _contract(contract_id)
    if not can(current_user, "keep", contract):
        abort(404)
    participants = _contract_participants(contract)
    form = ExitForm()
    if form.validate_on_submit():
        chosen = next((p for p, _ in participants if str(p.id) == form.participant_id.data), None)
        if chosen is None:
            flash("Participant : choisissez un participant de la liste.", "error")
            return redirect(url_for(".exits", contract_id=contract.id))
        # one form per participant on the page: a refusal is flashed above the table
        done = commit_or_report(lambda: indicators.record_exit(current_user, chosen, contract, form.situation.data,
                                                               form.observed_on.data))
        if done:
            flash(f"Sortie de {chosen.code} enregistrée.", "success")
            return redirect(url_for(".exits", contract_id=contract.id))
    elif request.method == "POST":
        for name, messages in form.errors.items():
            if name == "csrf_token":
                abort(400)
            for message in messages:
                flash(f"{getattr(form, name).label.text} : {message}", "error")
    return render_template("insertion/exits.html", contract=contract, participants=participants, form=form,
                           situations=ExitSituation, today=today())


# --- an organisation's year -----------------------------------------------------------------------------------

@bp.get("/bilans")
@login_required
def index():
    organisations = _kept_organisations()
    if not organisations:
        abort(404)
    years = {o.id: indicators.active_years(o.id) for o in organisations}
    return render_template("insertion/bilans.html", organisations=organisations, years=years,
                           current_year=today().year)


@bp.get("/bilans/<int:year>")
@login_required
def year_page(year: int):
    organisation = _organisation()
    figures = indicators.organisation_year(organisation, _year(year))
    years = indicators.active_years(organisation.id)
    return render_template("insertion/bilan_year.html", organisation=organisation, figures=figures,
                           years=sorted(set(years) | {year}, reverse=True),
                           others=[o for o in _kept_organisations() if o.id != organisation.id])


@bp.get("/bilans/<int:year>.pdf")
@login_required
def year_pdf(year: int):
    """Inline for a year of up to INLINE_MAX_ROWS contracts; past that, queued for the worker."""
    organisation = _organisation()
    params = bilans.year_bilan_params(organisation, _year(year))
    filename = f"bilan-{year}-organisation-{organisation.id}.pdf"
    if len(params["figures"]["contracts"]) <= INLINE_MAX_ROWS:
        return document_response(bilans.YEAR_BILAN, params, filename)
    done = commit_or_report(lambda: request_document(current_user.id, bilans.YEAR_BILAN, params, filename))
    if not done:
        abort(400)
    return redirect(url_for("core.document", document_id=done.value.id))


@bp.get("/bilans/<int:year>.<any(csv, xlsx):fmt>")
@login_required
def year_export(year: int, fmt: str):
    organisation = _organisation()
    figures = indicators.organisation_year(organisation, _year(year))
    return tabular_response(fmt, f"bilan-{year}-organisation-{organisation.id}", bilans.YEAR_HEADERS,
                            bilans.year_rows(figures))
