"""Pages of the structure side (blueprint "tender_answers"): the panel included in the tender page (why it
matched, interest, quote or offer, questions; the buyer's answers to them), one POST route per answer, the quote
PDF, and the structure dashboard (/tableau-de-bord/structure).

A tender the user may not see, a lot of another tender, or a structure of another organisation answer 404; a
refusal of the rules is flashed in French and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..core import documents
from ..core.access import can, get_or_404
from ..core.forms import commit_or_report, flash_form_errors
from ..extensions import db
from ..suppliers.models import Structure
from . import answers
from .answers_access import answering_structures
from .answers_forms import InterestForm, OfferForm, QuestionAnswerForm, QuestionForm, QuoteForm
from .loading import lot_or_404, tender_or_404
from .models import LotResponse, Tender, TenderKind, TenderLot, TenderQuestion

bp = Blueprint("tender_answers", __name__)


# --- the panel of the tender page -----------------------------------------------------------------------------

@dataclass
class LotState:
    lot: TenderLot
    response: LotResponse | None
    #: why the structure may not answer this reserved lot (the article cited), None when it may
    refusal: str | None
    reasons: list[str] | None


@dataclass
class AnswerPanel:
    """What `tenders/answers/_panel.html` shows the current user on one tender."""

    tender: Tender
    public_questions: list[TenderQuestion]
    structures: list[Structure] = field(default_factory=list)
    structure: Structure | None = None
    #: None: the relay did not match this structure (found by a search)
    matched: bool = False
    lots: list[LotState] = field(default_factory=list)
    answers_open: bool = False
    questions_open: bool = False
    own_questions: list[TenderQuestion] = field(default_factory=list)
    #: the buyer's view: every question with its asker, and the answers received (quotes, declared offers)
    buyer_questions: list[TenderQuestion] | None = None
    received: list[LotResponse] = field(default_factory=list)
    forms: dict[str, Any] = field(default_factory=dict)
    reasons_labels: dict[str, str] = field(default_factory=lambda: answers.NOT_INTERESTED_REASONS)

    @property
    def portal_answer(self) -> bool:
        return self.tender.kind in answers.PORTAL_KINDS


def _reading_structure(structures: list[Structure]) -> Structure | None:
    """The structure the page is read for: the one asked (`?structure=`) among the user's, or the only one."""
    wanted = request.args.get("structure", type=int)
    if wanted:
        return next((structure for structure in structures if structure.id == wanted), None)
    return structures[0] if len(structures) == 1 else None


def record_first_view(tender: Tender) -> bool:
    """A structure member reading the tender records the view of each lot (never overwritten), like a read
    receipt; True when there was a structure to record it for (the caller commits)."""
    if not current_user.is_authenticated or not can(current_user, "answer", tender):
        return False
    structure = _reading_structure(answering_structures(current_user))
    if structure is None:
        return False
    answers.record_views(tender, structure)
    return True


def answers_panel(tender: Tender) -> AnswerPanel:
    """The structure side for this user (template global `answers_panel`); the view has recorded the first
    reading (`record_first_view`)."""
    panel = AnswerPanel(tender, answers.public_questions(tender))
    user = current_user if current_user.is_authenticated else None
    if user is not None and can(user, "answer_questions", tender):
        panel.buyer_questions = answers.all_questions(tender)
        panel.received = answers.received_answers(tender)
        panel.forms["answer"] = QuestionAnswerForm(formdata=None)
    if user is None or not can(user, "answer", tender):
        return panel
    panel.structures = answering_structures(user)
    structure = panel.structure = _reading_structure(panel.structures)
    if structure is None:
        return panel
    reasons = answers.match_reasons(tender, structure)
    panel.matched = reasons is not None
    responses = answers.responses_of(structure, tender.lots)
    panel.lots = [LotState(lot, responses.get(lot.id), answers.reserved_refusal(lot, structure),
                           (reasons or {}).get(lot.id)) for lot in tender.lots]
    panel.answers_open = answers.answers_open(tender)
    panel.questions_open = answers.questions_open(tender)
    panel.own_questions = answers.own_questions(tender, structure)
    data = {"structure": structure.id}
    panel.forms.update(interest=InterestForm(formdata=None, data=data), quote=QuoteForm(formdata=None, data=data),
                       offer=OfferForm(formdata=None, data=data),
                       question=QuestionForm(formdata=None, data=data, lots=tender.lots if tender.allotted else ()))
    return panel


# --- loading -------------------------------------------------------------------------------------------------

_tender, _lot = tender_or_404, lot_or_404


def _structure(form) -> Structure:
    """The structure named by the form, if the user speaks for it; 404 otherwise (another organisation's). A form
    naming none answers for the user's only structure (404 when there are several to choose from)."""
    if not (form.structure.data or "").strip():
        structures = answering_structures(current_user)
        if len(structures) != 1:
            abort(404)
        return structures[0]
    structure_id = form.structure_id()
    return get_or_404(db.session.get(Structure, structure_id) if structure_id else None, current_user, "answer_as")


def _back(tender: Tender, structure: Structure | None = None, anchor: str = "reponse"):
    values = {"structure": structure.id} if structure is not None else {}
    return redirect(url_for("tenders.show", tender_id=tender.id, **values) + f"#{anchor}")


# --- the answers ---------------------------------------------------------------------------------------------

def _answer(tender_id: int, lot_id: int, form_class, operation, message) -> Any:
    """One of the structure's answers on a lot: the tender and lot (404 when hidden), the form and the structure
    it speaks for, then `operation(lot, structure, form)` committed once; `message(form)` flashed on success."""
    tender = _tender(tender_id, "answer")
    lot = _lot(tender, lot_id)
    form = form_class()
    structure = _structure(form)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(tender, structure)
    if commit_or_report(lambda: operation(lot, structure, form)):
        flash(message(form), "success")
    return _back(tender, structure)


@bp.post("/consultations/<int:tender_id>/lots/<int:lot_id>/interet")
@login_required
def interest(tender_id: int, lot_id: int):
    return _answer(tender_id, lot_id, InterestForm,
                   lambda lot, structure, form: answers.declare_interest(
                       current_user, lot, structure, form.interest.data == "interested", form.reason_code.data,
                       form.reason_text.data),
                   lambda form: "Intérêt enregistré : l'acheteur voit que vous êtes intéressés."
                   if form.interest.data == "interested" else
                   "Réponse enregistrée : vous ne recevrez plus de relance pour ce lot.")


@bp.url_value_preprocessor
def _quote_size_limit(endpoint, values) -> None:
    """A 10 MB PDF and its form: just above the quote's limit, for this view only (read before the CSRF check)."""
    if endpoint == "tender_answers.quote":
        request.max_content_length = answers.MAX_QUOTE_BYTES + 1024 * 1024


@bp.post("/consultations/<int:tender_id>/lots/<int:lot_id>/devis")
@login_required
def quote(tender_id: int, lot_id: int):
    return _answer(tender_id, lot_id, QuoteForm,
                   lambda lot, structure, form: answers.send_quote(current_user, lot, structure, form.message.data,
                                                                  form.quote.data),
                   lambda form: "Réponse envoyée à l'acheteur.")


@bp.post("/consultations/<int:tender_id>/lots/<int:lot_id>/offre-deposee")
@login_required
def offer(tender_id: int, lot_id: int):
    return _answer(tender_id, lot_id, OfferForm,
                   lambda lot, structure, form: answers.declare_offer(current_user, lot, structure),
                   lambda form: "Offre déclarée : l'acheteur voit que vous avez déposé une offre.")


@bp.get("/consultations/<int:tender_id>/lots/<int:lot_id>/devis/<int:response_id>")
@login_required
def quote_file(tender_id: int, lot_id: int, response_id: int):
    """The quote PDF: the buyer's members and the answering structure's members; 404 for anyone else."""
    tender = get_or_404(db.session.get(Tender, tender_id), current_user, "view")
    lot = _lot(tender, lot_id)
    response = db.session.get(LotResponse, response_id)
    if response is None or response.lot_id != lot.id or not response.quote_path:
        abort(404)
    get_or_404(response, current_user, "view_quote")
    path = answers.quote_path(response)
    if not path.is_file():
        abort(404)
    result = documents.pdf_response(path, response.quote_filename or "devis.pdf")
    result.headers["X-Content-Type-Options"] = "nosniff"
    return result


# --- questions -----------------------------------------------------------------------------------------------

@bp.post("/consultations/<int:tender_id>/questions")
@login_required
def ask(tender_id: int):
    tender = _tender(tender_id, "answer")
    form = QuestionForm(lots=tender.lots)
    structure = _structure(form)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(tender, structure, "questions")
    lot = _lot(tender, form.lot.data) if form.lot.data else None
    if commit_or_report(lambda: answers.ask_question(current_user, tender, structure, form.body.data, lot)):
        flash("Question envoyée à l'acheteur. Sa réponse sera publiée ici, sans le nom de votre structure.",
              "success")
    return _back(tender, structure, "questions")


@bp.post("/consultations/<int:tender_id>/questions/<int:question_id>/reponse")
@login_required
def answer_question(tender_id: int, question_id: int):
    tender = _tender(tender_id, "answer_questions")
    question = db.session.get(TenderQuestion, question_id)
    if question is None or question.tender_id != tender.id:
        abort(404)
    form = QuestionAnswerForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(tender, anchor="questions")
    if commit_or_report(lambda: answers.answer_question(current_user, question, form.answer.data)):
        flash("Réponse publiée : tous ceux qui lisent la consultation la voient, sans le nom de la structure.",
              "success")
    return _back(tender, anchor="questions")


# --- the structure dashboard ---------------------------------------------------------------------------------

@bp.get("/tableau-de-bord/structure")
@login_required
def dashboard():
    if not can(current_user, "structure_dashboard"):
        abort(404)
    structures = answering_structures(current_user)
    if not structures:  # a platform admin passes the rule but speaks for no structure
        abort(404)
    return render_template("tenders/answers/dashboard.html", board=answers.dashboard(current_user, structures),
                           kinds=TenderKind, reasons=answers.NOT_INTERESTED_REASONS)
