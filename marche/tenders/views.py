"""Drafting pages (blueprint "tenders", under /consultations): « Mes consultations », a new tender (blank, from a
directory search or a duplicate), the tender page, its lots, each lot's clause builder with its live legal
checklist, the clause annex (text and PDF) and the attachments. Services in `tenders.drafting`."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from ..clauses import legal
from ..clauses.annex import ANNEX_DOCUMENT
from ..clauses.calculator import euros
from ..clauses.spec import CLAUSE_TYPES
from ..core import documents
from ..core.access import can
from ..core.errors import DomainError
from ..core.forms import commit_or_report
from ..extensions import db
from ..geo.services import territory_label
from ..reference.services import sectors_by_group
from . import answers_views, drafting, workflow
from .forms import AttachmentForm, ClauseForm, EmptyForm, LotForm, TenderForm
from .loading import lot_or_404, tender_or_404
from .models import Nature, Tender, TenderKind, TenderAttachment, TenderLot, TenderStatus

bp = Blueprint("tenders", __name__, url_prefix="/consultations")
PER_PAGE = 50
#: past this many lots the annex PDF is rendered by the worker (a 10-lot annex renders inline in about a second)
INLINE_ANNEX_LOTS = 20


_tender, _lot = tender_or_404, lot_or_404


def _sector_groups():
    return sectors_by_group()


@bp.app_template_global("territory_label")
def _territory_label(ref: str | None) -> str:
    return territory_label(ref) if ref else "—"


@bp.app_template_filter("euros")
def _euros(value) -> str:
    return "—" if value is None else f"{euros(value)} HT"


# --- « Mes consultations » ------------------------------------------------------------------------------

@bp.get("/mes-consultations")
@login_required
def mine():
    organisations = drafting.buyer_organisations(current_user)
    if not organisations:
        abort(404)
    ids = [o.id for o in organisations]
    status = request.args.get("statut") or None
    if status not in (None, *TenderStatus._value2member_map_):
        status = None
    # the lots and their award in two queries for the whole page (what is left to do reads them); the
    # organisation is already in the session (the user's own)
    query = drafting.my_tenders_query(ids, status).options(selectinload(Tender.lots).selectinload(TenderLot.award))
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    return render_template("tenders/mine.html", page=page, counts=drafting.status_counts(ids), status=status,
                           statuses=TenderStatus, to_do=drafting.to_do, form=EmptyForm(),
                           page_link=lambda n: url_for("tenders.mine", page=n, statut=status))


# --- a tender ------------------------------------------------------------------------------------------------

@bp.route("/nouvelle", methods=["GET", "POST"])
@login_required
def new():
    organisations = drafting.buyer_organisations(current_user)
    if not organisations or not can(current_user, "draft_tender"):
        abort(404)
    initial = drafting.initial_from_search(request.args) if request.method == "GET" else {}
    form = TenderForm(sector_groups=_sector_groups(), data=initial or None)
    if form.validate_on_submit():
        done = commit_or_report(lambda: drafting.create_tender(current_user, organisations[0], form.to_input()), form)
        if done:
            flash("Consultation créée (brouillon). Décrivez maintenant ses lots et leurs clauses.", "success")
            return redirect(url_for("tenders.show", tender_id=done.value.id))
    return render_template("tenders/form.html", form=form, tender=None,
                           from_search=bool(initial)), 400 if form.errors else 200


@bp.get("/<int:tender_id>")
def show(tender_id: int):
    tender = _tender(tender_id)
    closed = workflow.close_if_due(tender)  # the worker may be late: a page never shows a passed deadline as open
    if answers_views.record_first_view(tender) or closed:
        db.session.commit()
    draft_tools = can(current_user, "see_draft_tools", tender)
    check, check_error = None, None
    if draft_tools:
        try:
            check = drafting.legal_check(tender)
        except DomainError as error:
            check_error = error.message
    return render_template("tenders/show.html", tender=tender, specs=drafting.lot_specs(tender),
                           clause_types=CLAUSE_TYPES, check=check, check_error=check_error,
                           draft_tools=draft_tools, to_do=drafting.to_do(tender) if draft_tools else [],
                           can_edit=can(current_user, "edit", tender),
                           can_duplicate=can(current_user, "duplicate", tender),
                           attachment_form=AttachmentForm(), form=EmptyForm(), statuses=TenderStatus,
                           kinds=TenderKind, natures=Nature, status_labels=legal.STATUS_LABELS)


@bp.route("/<int:tender_id>/modifier", methods=["GET", "POST"])
@login_required
def edit(tender_id: int):
    tender = _tender(tender_id, "edit")
    form = TenderForm(sector_groups=_sector_groups(), obj=tender if request.method == "GET" else None)
    if request.method == "GET":
        form.cpv_codes.data = ", ".join(tender.cpv_codes)
        form.sectors.data = [s.id for s in tender.sectors]
        form.amount.data = "" if tender.amount is None else str(tender.amount)
        form.questions_deadline.data = _local(tender.questions_deadline)
        form.answers_deadline.data = _local(tender.answers_deadline)
        form.note.data = ""
    if form.validate_on_submit():
        done = commit_or_report(lambda: drafting.update_tender(current_user, tender, form.to_input(),
                                                               note=form.note.data or ""), form)
        if done:
            flash("Rectificatif publié : les changements sont visibles sur la consultation." if done.value
                  else "Consultation enregistrée.", "success")
            return redirect(url_for("tenders.show", tender_id=tender.id))
    return render_template("tenders/form.html", form=form, tender=tender), 400 if form.errors else 200


def _local(instant):
    return None if instant is None else instant.astimezone(drafting.PARIS).replace(tzinfo=None)


@bp.post("/<int:tender_id>/dupliquer")
@login_required
def duplicate(tender_id: int):
    tender = _tender(tender_id, "duplicate")
    if not EmptyForm().validate_on_submit():
        abort(400)
    done = commit_or_report(lambda: drafting.duplicate_tender(current_user, tender))
    if not done:
        return redirect(url_for("tenders.show", tender_id=tender.id))
    flash("Copie créée : vérifiez ses dates et ses montants avant de la soumettre.", "success")
    return redirect(url_for("tenders.edit", tender_id=done.value.id))


# --- lots -------------------------------------------------------------------------------------------------------

@bp.route("/<int:tender_id>/lots", methods=["GET", "POST"])
@login_required
def lots(tender_id: int):
    tender = _tender(tender_id, "edit")
    form = LotForm()
    if form.validate_on_submit():
        done = commit_or_report(lambda: drafting.add_lot(current_user, tender, form.to_input()), form)
        if done:
            flash(f"Lot {done.value.position} ajouté.", "success")
            return redirect(url_for("tenders.lots", tender_id=tender.id))
    return render_template("tenders/lots.html", tender=tender, form=form, specs=drafting.lot_specs(tender),
                           clause_types=CLAUSE_TYPES, empty_form=EmptyForm()), 400 if form.errors else 200


@bp.route("/<int:tender_id>/lots/<int:lot_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_lot(tender_id: int, lot_id: int):
    tender = _tender(tender_id, "edit")
    lot = _lot(tender, lot_id)
    form = LotForm(obj=lot if request.method == "GET" else None)
    if request.method == "GET":
        form.cpv_codes.data = ", ".join(lot.cpv_codes)
        form.amount.data = "" if lot.amount is None else str(lot.amount)
    if form.validate_on_submit():
        if commit_or_report(lambda: drafting.update_lot(current_user, lot, form.to_input()), form):
            flash(f"Lot {lot.position} enregistré.", "success")
            return redirect(url_for("tenders.lots", tender_id=tender.id))
    return render_template("tenders/lot_form.html", tender=tender, lot=lot, form=form), 400 if form.errors else 200


@bp.post("/<int:tender_id>/lots/<int:lot_id>/supprimer")
@login_required
def remove_lot(tender_id: int, lot_id: int):
    tender = _tender(tender_id, "edit")
    lot = _lot(tender, lot_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if commit_or_report(lambda: drafting.remove_lot(current_user, lot)):
        flash("Lot retiré ; les autres lots sont renumérotés.", "success")
    return redirect(url_for("tenders.lots", tender_id=tender.id))


# --- the clause builder -------------------------------------------------------------------------------------

def _clause_form(lot: TenderLot) -> ClauseForm:
    if request.method == "POST":
        return ClauseForm()
    return ClauseForm(data=drafting.builder_values(lot))


@bp.route("/<int:tender_id>/lots/<int:lot_id>/clauses", methods=["GET", "POST"])
@login_required
def clauses(tender_id: int, lot_id: int):
    tender = _tender(tender_id, "edit")
    lot = _lot(tender, lot_id)
    form = _clause_form(lot)
    if form.validate_on_submit():
        if commit_or_report(lambda: drafting.set_lot_clauses(current_user, lot, form.values()), form):
            flash(f"Clauses du lot {lot.position} enregistrées.", "success")
            return redirect(url_for("tenders.show", tender_id=tender.id) + f"#lot-{lot.position}")
    live = drafting.live_check(lot, form.values())
    return render_template("tenders/clauses.html", tender=tender, lot=lot, form=form, live=live,
                           statuses=legal), 400 if form.errors else 200


@bp.post("/<int:tender_id>/lots/<int:lot_id>/clauses/verification")
@login_required
def check(tender_id: int, lot_id: int):
    """The checklist beside the builder, re-checked with the fields as they are now (htmx; nothing stored)."""
    tender = _tender(tender_id, "edit")
    lot = _lot(tender, lot_id)
    form = ClauseForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    return render_template("tenders/_checklist.html", tender=tender, lot=lot,
                           live=drafting.live_check(lot, form.values()), statuses=legal)


# --- the clause annex -----------------------------------------------------------------------------------------

@bp.get("/<int:tender_id>/annexe")
def annex(tender_id: int):
    tender = _tender(tender_id)
    return render_template("tenders/annex.html", tender=tender, text=drafting.tender_annex_text(tender))


@bp.get("/<int:tender_id>/annexe.pdf")
def annex_pdf(tender_id: int):
    tender = _tender(tender_id)
    params = drafting.tender_annex_params(tender)
    filename = f"annexe-clauses-consultation-{tender.id}.pdf"
    if len(tender.lots) > INLINE_ANNEX_LOTS and current_user.is_authenticated:
        document = documents.request_document(current_user.id, ANNEX_DOCUMENT, params, filename)
        db.session.commit()
        return redirect(url_for("core.document", document_id=document.id))
    return documents.document_response(ANNEX_DOCUMENT, params, filename)


# --- attachments ------------------------------------------------------------------------------------------------

@bp.url_value_preprocessor
def _attachment_size_limit(endpoint, values) -> None:
    """A 20 MB PDF and its form: above the site's 11 MB limit, for this view only. Set here, before any
    `before_request` (the CSRF check reads the body first)."""
    if endpoint == "tenders.add_attachment":
        request.max_content_length = drafting.MAX_ATTACHMENT_BYTES + 1024 * 1024


@bp.post("/<int:tender_id>/pieces-jointes")
@login_required
def add_attachment(tender_id: int):
    tender = _tender(tender_id, "edit")
    form = AttachmentForm()
    if form.validate_on_submit():
        done = commit_or_report(lambda: drafting.add_attachment(current_user, tender, form.file.data), form)
        if done:
            flash(f"Pièce jointe « {done.value.filename} » ajoutée.", "success")
            return redirect(url_for("tenders.show", tender_id=tender.id) + "#pieces-jointes")
    for message in form.file.errors:
        flash(f"Pièce jointe : {message}", "error")
    return redirect(url_for("tenders.show", tender_id=tender.id) + "#pieces-jointes")


def _attachment(tender: Tender, attachment_id: int) -> TenderAttachment:
    attachment = next((a for a in tender.attachments if a.id == attachment_id), None)
    if attachment is None:
        abort(404)
    return attachment


@bp.get("/<int:tender_id>/pieces-jointes/<int:attachment_id>")
def attachment(tender_id: int, attachment_id: int):
    """Served only to those who may see the tender, as a download (Content-Disposition: attachment)."""
    tender = _tender(tender_id)
    item = _attachment(tender, attachment_id)
    path = drafting.attachment_path(item)
    if not path.is_file():
        abort(404)
    response = documents.pdf_response(path, item.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/<int:tender_id>/pieces-jointes/<int:attachment_id>/supprimer")
@login_required
def remove_attachment(tender_id: int, attachment_id: int):
    tender = _tender(tender_id, "edit")
    item = _attachment(tender, attachment_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if commit_or_report(lambda: drafting.remove_attachment(current_user, item)):
        flash("Pièce jointe retirée.", "success")
    return redirect(url_for("tenders.show", tender_id=tender.id) + "#pieces-jointes")

