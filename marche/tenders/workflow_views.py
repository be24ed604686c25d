"""Pages of the tender workflow (blueprint "tender_workflow", under /consultations): the workflow page of a tender
with its panel (moves allowed now, comments, assistance), one POST route per move, the facilitators' queue
« Consultations à valider », and the award page of a lot.

A tender the user may not follow answers 404, as one that does not exist; a move the workflow refuses is flashed
in French and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from ..clauses import legal
from ..clauses.spec import CLAUSE_TYPES, ClauseSpec, ClauseSpecError
from ..core import access
from ..core.errors import DomainError
from ..core.forms import commit_or_report
from ..extensions import db
from ..suppliers.models import Structure
from . import award as awards
from . import workflow
from .models import CommentKind, LotStatus, Tender, TenderLot, TenderStatus
from .workflow_forms import (ActionForm, AssistForm, AwardForm, CancelForm, CommentForm, SendBackForm,
                             UnsuccessfulForm, ValidateForm)

bp = Blueprint("tender_workflow", __name__, url_prefix="/consultations")
#: structures offered on the award page for one search
MAX_HOLDER_RESULTS = 10


def load(tender_id: int, action: str) -> Tender:
    tender = access.get_or_404(db.session.get(Tender, tender_id), current_user, action)
    if workflow.close_if_due(tender):  # the deadline passed before the worker's pass: close it now
        db.session.commit()
    return tender


# --- the panel: what the partial reads ------------------------------------------------------------------

@dataclass
class Panel:
    """What `_workflow_panel.html` shows to the current user for one tender."""

    tender: Tender
    forms: dict[str, Any]
    #: the moves and actions offered now: "submit", "validate", "send_back", "publish", "cancel", "assist",
    #: "comment", "award"
    actions: set[str] = field(default_factory=set)
    #: what still stops a submission or a publication (legal lines with their article)
    problems: list[str] = field(default_factory=list)
    candidates: list[Any] = field(default_factory=list)
    follows: bool = False

    @property
    def comments(self):
        return self.tender.comments

    @property
    def status_label(self) -> str:
        return TenderStatus(self.tender.status).label


def panel_for(tender: Tender, forms: dict[str, Any] | None = None) -> Panel:
    """The panel of the moves this user may make now (template global `workflow_panel`)."""
    user = current_user
    panel = Panel(tender, forms or {})
    panel.follows = access.can(user, "follow_workflow", tender)
    if not panel.follows:
        return panel
    targets = set(workflow.TENDER_STATES.targets(tender))
    status = tender.status
    if TenderStatus.SUBMITTED in targets and access.can(user, "submit", tender):
        panel.actions.add("submit")
    if status == TenderStatus.SUBMITTED and tender.validated_at is None and access.can(user, "validate", tender):
        panel.actions |= {"validate", "send_back"}
    if TenderStatus.PUBLISHED in targets and tender.validated_at is not None and access.can(user, "publish", tender):
        panel.actions.add("publish")
    if TenderStatus.CANCELLED in targets and access.can(user, "cancel", tender):
        panel.actions.add("cancel")
    if status in workflow.ASSIST_STATES and access.can(user, "request_assist", tender):
        panel.actions.add("assist")
        panel.candidates = workflow.assist_candidates(tender)
    if status == TenderStatus.CLOSED and access.can(user, "award", tender):
        panel.actions.add("award")
    if access.can(user, "comment", tender):
        panel.actions.add("comment")
    if panel.actions & {"submit", "publish"}:
        panel.problems = workflow.missing_for_submission(tender)
    defaults = {"submit": ActionForm, "publish": ActionForm, "validate": ValidateForm, "send_back": SendBackForm,
                "cancel": CancelForm, "comment": CommentForm}
    for name, form_class in defaults.items():
        if name in panel.actions and name not in panel.forms:
            panel.forms[name] = form_class(formdata=None)
    if "assist" in panel.actions and "assist" not in panel.forms:
        panel.forms["assist"] = AssistForm(formdata=None, organisation=tender.assisting_organisation_id or 0)
    if "assist" in panel.forms:
        panel.forms["assist"].organisation.choices = [(0, "— Aucun facilitateur —")] + [
            (o.id, o.name) for o in panel.candidates]
    return panel


def _legal_check(tender: Tender):
    """The legal check as stored, for the validator to read; None while the facts are incomplete."""
    if tender.amount is None or tender.launch_date is None:
        return None
    try:
        return workflow.legal_check(tender)
    except DomainError:
        return None


def _show(tender: Tender, forms: dict[str, Any] | None = None, status: int = 200):
    lots = [(lot, *_lot_hours(lot)) for lot in tender.lots]
    return render_template("tenders/workflow_page.html", tender=tender, workflow_forms=forms, lots=lots,
                           check=_legal_check(tender), status_labels=legal.STATUS_LABELS,
                           has_tender_page="tenders.show" in current_app.view_functions), status


def _done(tender: Tender, message: str):
    flash(message, "success")
    if access.can(current_user, "follow_workflow", tender):
        return redirect(url_for("tender_workflow.show", tender_id=tender.id) + "#suivi")
    return redirect(url_for("tender_workflow.queue"))


@bp.get("/<int:tender_id>/suivi")
@login_required
def show(tender_id: int):
    """The tender's workflow on a page of its own (summary, moves, comments, lots to award)."""
    return _show(load(tender_id, "follow_workflow"))


def _move(tender_id: int, action: str, form_class, operation, message: str, form_key: str | None = None):
    """One move: access (404), CSRF, the service, one commit; a refusal is shown beside its field (400) or flashed."""
    tender = load(tender_id, action)
    form = form_class()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _show(tender, {form_key or action: form}, 400)
    done = commit_or_report(lambda: operation(tender, form), form)
    if done:
        return _done(tender, message)
    if done.error is not None and done.error.field and hasattr(form, done.error.field):
        return _show(tender, {form_key or action: form}, 400)
    return redirect(url_for("tender_workflow.show", tender_id=tender.id) + "#suivi")


@bp.post("/<int:tender_id>/soumettre")
@login_required
def submit(tender_id: int):
    return _move(tender_id, "submit", ActionForm, lambda t, f: workflow.submit(current_user, t),
                 "Consultation envoyée pour validation : un facilitateur de votre territoire ou la plateforme "
                 "va la relire.")


@bp.post("/<int:tender_id>/valider")
@login_required
def validate(tender_id: int):
    return _move(tender_id, "validate", ValidateForm,
                 lambda t, f: workflow.validate(current_user, t, f.note.data),
                 "Consultation validée : l'acheteur peut maintenant la publier.")


@bp.post("/<int:tender_id>/renvoyer")
@login_required
def send_back(tender_id: int):
    return _move(tender_id, "validate", SendBackForm,
                 lambda t, f: workflow.send_back(current_user, t, f.comment.data),
                 "Consultation renvoyée à l'acheteur avec votre commentaire.", "send_back")


@bp.post("/<int:tender_id>/publier")
@login_required
def publish(tender_id: int):
    return _move(tender_id, "publish", ActionForm, lambda t, f: workflow.publish(current_user, t),
                 "Consultation publiée.")


@bp.post("/<int:tender_id>/annuler")
@login_required
def cancel(tender_id: int):
    return _move(tender_id, "cancel", CancelForm, lambda t, f: workflow.cancel(current_user, t, f.reason.data),
                 "Consultation annulée (déclarée sans suite).")


@bp.post("/<int:tender_id>/commentaires")
@login_required
def comment(tender_id: int):
    return _move(tender_id, "comment", CommentForm, lambda t, f: workflow.add_comment(current_user, t, f.body.data),
                 "Commentaire ajouté.")


@bp.post("/<int:tender_id>/assistance")
@login_required
def assist(tender_id: int):
    def operation(tender: Tender, form: AssistForm):
        organisation = workflow.request_assist(current_user, tender, form.organisation.data or None)
        flash(f"Assistance demandée à {organisation.name} : ce facilitateur peut lire et commenter la consultation."
              if organisation else "Demande d'assistance retirée.", "info")

    tender = load(tender_id, "request_assist")
    form = AssistForm()
    form.organisation.choices = [(0, "—")]
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        form.organisation.errors = ["Choisissez un facilitateur dans la liste."]
        return _show(tender, {"assist": form}, 400)
    done = commit_or_report(lambda: operation(tender, form), form)
    if done:
        return redirect(url_for("tender_workflow.show", tender_id=tender.id) + "#suivi")
    return _show(tender, {"assist": form}, 400)


# --- the facilitators' queue ----------------------------------------------------------------------------

@bp.get("/a-valider")
@login_required
def queue():
    if not access.can(current_user, "tender_queue"):
        abort(404)
    return render_template("tenders/queue.html", queue=workflow.queue_for(current_user),
                           state_label=lambda status: TenderStatus(status).label)


# --- the award of a lot -------------------------------------------------------------------------------

def _lot(tender: Tender, lot_id: int) -> TenderLot:
    lot = db.session.get(TenderLot, lot_id)
    if lot is None or lot.tender_id != tender.id:
        abort(404)
    return lot


def _holders(q: str) -> list[Structure]:
    """Published directory structures whose name or SIRET starts with what the buyer typed."""
    q = q.strip()[:100]
    if len(q) < 2:
        return []
    digits = q.replace(" ", "")
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions = [Structure.name.ilike(pattern), Structure.brand.ilike(pattern)]
    if digits.isascii() and digits.isdigit():
        conditions.append(Structure.siret.startswith(digits))
    found = db.session.execute(select(Structure).where(or_(*conditions), Structure.siret.is_not(None))
                               .order_by(Structure.name, Structure.id).limit(MAX_HOLDER_RESULTS * 3)).scalars()
    return [s for s in found if s.is_published][:MAX_HOLDER_RESULTS]


def _lot_hours(lot: TenderLot):
    try:
        spec = ClauseSpec.from_json(lot.clauses)
    except ClauseSpecError:
        return None, []
    return spec.insertion, [CLAUSE_TYPES[code] for code in spec.clause_types()]


@bp.route("/<int:tender_id>/lots/<int:lot_id>/attribution", methods=["GET", "POST"])
@login_required
def award(tender_id: int, lot_id: int):
    tender = load(tender_id, "award")
    lot = _lot(tender, lot_id)
    award_form, unsuccessful_form = AwardForm(prefix="attribution"), UnsuccessfulForm(prefix="infructueux")
    status = 200
    if request.method == "POST":
        outcome = request.form.get("outcome")
        form = award_form if outcome == "awarded" else unsuccessful_form
        if outcome not in {"awarded", "unsuccessful"}:
            abort(400)
        if form.validate_on_submit():
            if outcome == "awarded":
                data = awards.AwardData(award_form.structure_id.data, award_form.siret.data,
                                        award_form.holder_name.data, award_form.amount.data,
                                        award_form.awarded_on.data, award_form.offers_count.data,
                                        award_form.grouping_id.data)
                done = commit_or_report(lambda: awards.award_lot(current_user, tender, lot, data), form)
            else:
                done = commit_or_report(lambda: awards.mark_unsuccessful(
                    current_user, tender, lot, unsuccessful_form.reason.data, unsuccessful_form.offers_count.data),
                    form)
            if done:
                flash(f"Lot {lot.position} attribué à {done.value.holder_name}." if outcome == "awarded"
                      else f"Lot {lot.position} déclaré infructueux.", "success")
                if tender.status != TenderStatus.CLOSED:
                    flash(f"Tous les lots sont décidés : la consultation est « {TenderStatus(tender.status).label} ».",
                          "info")
                return redirect(url_for("tender_workflow.show", tender_id=tender.id) + "#lots")
        elif "csrf_token" in form.errors:
            abort(400)
        status = 400
    q = request.args.get("q", "")
    insertion, clause_types = _lot_hours(lot)
    return render_template("tenders/award.html", tender=tender, lot=lot, award_form=award_form,
                           unsuccessful_form=unsuccessful_form, q=q, holders=_holders(q), insertion=insertion,
                           clause_types=clause_types, open=lot.status == LotStatus.OPEN,
                           comment_kinds=CommentKind), status
