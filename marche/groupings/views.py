"""Pages of the groupings (blueprint "groupings"): forming one from a tender (« Répondre en groupement »), its page
(members, lots and shares, invitations, partner suggestions, subcontractors, thread, log, moves), the answer to an
invitation (a member's admin on the page, a company through its e-mailed link), the documents, and « Mes
groupements ».

A grouping the user may not see, a member or a lot of another grouping answer 404; a refusal of the rules is
flashed in French, nothing changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.models import Organisation, User
from ..accounts.tokens import TokenError
from ..core.access import can, get_or_404
from ..core.forms import commit_or_report, flash_form_errors, write_and_return
from ..core.models import AuditEntry
from ..extensions import db
from ..search.query import StructureQuery
from ..search.service import search as search_structures
from ..suppliers.models import Publication, Structure
from ..tenders.answers_access import answering_structures
from ..tenders.loading import tender_or_404
from ..tenders.models import Tender
from . import services, suggestions, tokens
from .forms import (AnswerForm, DissolveForm, EmptyForm, InviteEmailForm, InviteStructureForm, MemberForm,
                    MessageForm, StartForm, SubcontractorForm, TermsForm)
from .models import (ANSWERED_STATUSES, Grouping, GroupingMember, GroupingStatus, GroupingSubcontractor,
                     MemberStatus)

bp = Blueprint("groupings", __name__)
#: structures offered for one directory search on the invitation form
INVITE_RESULTS = 8


def _grouping(grouping_id: int, action: str = "view") -> Grouping:
    grouping = get_or_404(db.session.get(Grouping, grouping_id), current_user, "view")
    if action != "view" and not can(current_user, action, grouping):
        abort(404)
    return grouping


def _member(grouping: Grouping, member_id: int | None) -> GroupingMember:
    member = next((m for m in grouping.members if m.id == member_id), None)
    if member is None:
        abort(404)
    return member


def _back(grouping: Grouping, anchor: str = ""):
    return redirect(url_for("groupings.show", grouping_id=grouping.id) + (f"#{anchor}" if anchor else ""))


def _do(grouping: Grouping, form, operation, message: str, anchor: str = ""):
    """One write of the grouping page, then back to the page."""
    return write_and_return(form, operation, message, _back(grouping, anchor))


# --- « Répondre en groupement » -----------------------------------------------------------------------------

def tender_panel(tender: Tender) -> dict[str, Any] | None:
    """What the tender page shows about groupings: for a structure, its groupings on the tender and the button to
    form one; for the buyer, the groupings that answered with their members."""
    if not current_user.is_authenticated:
        return None
    mine = [g for g in services.groupings_of_user(current_user) if g.tender_id == tender.id]
    answered = []
    if can(current_user, "award", tender) or can(current_user, "answer_questions", tender):
        # their lots, members (with their structure and organisation) and shares: one query each, not one per row
        answered = list(db.session.scalars(select(Grouping).where(
            Grouping.tender_id == tender.id, Grouping.status.in_(ANSWERED_STATUSES)).order_by(Grouping.id)
            .options(selectinload(Grouping.lots),
                     selectinload(Grouping.members).selectinload(GroupingMember.structure),
                     selectinload(Grouping.members).selectinload(GroupingMember.organisation))))
    can_form = can(current_user, "form_grouping", tender)
    if not (mine or answered or can_form):
        return None
    return {"mine": mine, "answered": answered, "can_form": can_form, "shares": services.shares_of_many(answered)}


@bp.route("/consultations/<int:tender_id>/groupement", methods=["GET", "POST"])
@login_required
def start(tender_id: int):
    tender = tender_or_404(tender_id, "form_grouping")
    structures = answering_structures(current_user)
    if not structures:  # a platform admin passes the rule but speaks for no structure
        abort(404)
    form = StartForm()
    form.lot_ids.choices = [(lot.id, f"Lot {lot.position} : {lot.title}" if tender.allotted else lot.title)
                            for lot in tender.lots]
    if request.method == "GET":
        form.lot_ids.data = [lot.id for lot in tender.lots] if len(tender.lots) == 1 else []
    status = 200
    if form.validate_on_submit():
        structure = (next((s for s in structures if s.id == form.structure_id.data), None)
                     if form.structure_id.data else (structures[0] if len(structures) == 1 else None))
        if structure is None:
            abort(404)
        done = commit_or_report(lambda: services.start(current_user, tender, structure, form.lot_ids.data or [],
                                                       form.kind.data, form.jointly_liable.data), form)
        if done:
            flash("Groupement créé : vous en êtes le mandataire. Invitez maintenant vos partenaires.", "success")
            return redirect(url_for("groupings.show", grouping_id=done.value.id) + "#inviter")
        status = 400
    elif request.method == "POST":
        if "csrf_token" in form.errors:
            abort(400)
        status = 400
    return render_template("groupings/start.html", tender=tender, form=form, structures=structures), status


# --- the grouping's page ------------------------------------------------------------------------------------

@dataclass
class LotShares:
    grouping_lot: Any
    rows: list[tuple[GroupingMember, Any]]
    total: Any


@dataclass
class Page:
    grouping: Grouping
    manage: bool
    forming: bool
    member: GroupingMember | None
    lots: list[LotShares]
    log: list[AuditEntry]
    problems: list[str]
    forms: dict[str, Any] = field(default_factory=dict)
    candidates: list[Structure] = field(default_factory=list)
    q: str = ""
    suggestions: Any = None
    answerable: list[GroupingMember] = field(default_factory=list)


def _lot_shares(grouping: Grouping) -> list[LotShares]:
    shares = services.shares_of(grouping)
    totals = services.lot_totals(grouping)
    return [LotShares(gl, [(m, shares.get((m.id, gl.id))) for m in grouping.accepted_members], totals[gl.id])
            for gl in grouping.lots]


def _log(grouping: Grouping) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "grouping", AuditEntry.object_id == str(grouping.id)).order_by(AuditEntry.id)))


#: the log's lines, in French (`{member}`: the member the entry names)
ACTIONS = {
    "grouping.created": "Groupement créé",
    "grouping.member_invited": "{member} invité",
    "grouping.invitation_accepted": "{member} a accepté l'invitation",
    "grouping.invitation_declined": "{member} a décliné l'invitation",
    "grouping.member_removed": "{member} retiré du groupement",
    "grouping.mandataire_changed": "{member} désigné mandataire",
    "grouping.terms_changed": "Type ou lots modifiés",
    "grouping.shares_set": "Répartition d'un lot enregistrée",
    "grouping.subcontractor_declared": "Sous-traitant déclaré",
    "grouping.subcontractor_removed": "Sous-traitant retiré",
    "grouping.confirmed": "Groupement confirmé : intérêt déclaré à l'acheteur",
    "grouping.reopened": "Groupement rouvert pour changer sa composition",
    "grouping.submitted": "Offre déclarée déposée",
    "grouping.awarded": "Lot attribué au groupement",
    "grouping.not_retained": "Groupement non retenu",
    "grouping.dissolved": "Groupement dissous",
}


def log_line(entry: AuditEntry) -> str:
    """One line of the grouping's log, in French (template global `grouping_action`)."""
    member = db.session.get(GroupingMember, entry.details.get("member_id")) if entry.details.get("member_id") else None
    text = ACTIONS.get(entry.action, entry.action).format(member=member.display_name if member else "Un membre")
    actor = db.session.get(User, entry.actor_id) if entry.actor_id else None
    return f"{text} ({actor.full_name})" if actor else text


def _candidates(grouping: Grouping, q: str) -> list[Structure]:
    """Claimed, published structures of the directory named like `q` (name or SIRET), not already in."""
    q = q.strip()
    if len(q) < 2:
        return []
    result = search_structures(StructureQuery(q=q, claimed=True, per_page=INVITE_RESULTS + 5, facets=False))
    present = {m.structure_id for m in grouping.members if m.status in (MemberStatus.INVITED, MemberStatus.ACCEPTED)}
    ids = [int(hit["id"]) for hit in result.hits if int(hit["id"]) not in present][:INVITE_RESULTS]
    rows = {s.id: s for s in db.session.scalars(select(Structure).where(Structure.id.in_(ids)))} if ids else {}
    return [rows[i] for i in ids if i in rows]


def page_of(grouping: Grouping) -> Page:
    manage = can(current_user, "manage", grouping)
    forming = grouping.status == GroupingStatus.FORMING
    # the invitations this user answers as an admin of the invited organisation (a platform admin passes the
    # rule but is not asked on the page)
    admin_of = services.admin_organisation_ids(current_user)
    answerable = [m for m in grouping.members if m.status == MemberStatus.INVITED and m.organisation_id in admin_of]
    page = Page(grouping, manage, forming, services.member_of(current_user, grouping), _lot_shares(grouping),
                _log(grouping), services.confirm_problems(grouping) if manage and forming else [],
                answerable=answerable)
    terms = TermsForm(prefix="conditions")
    terms.lot_ids.choices = [(lot.id, f"Lot {lot.position} : {lot.title}" if grouping.tender.allotted else lot.title)
                             for lot in grouping.tender.lots]
    terms.lot_ids.data = [gl.lot_id for gl in grouping.lots]
    terms.kind.data = grouping.kind
    terms.jointly_liable.data = grouping.mandataire_jointly_liable
    subcontractor = SubcontractorForm(prefix="sous-traitant")
    page.forms = {"terms": terms, "invite": InviteStructureForm(prefix="annuaire"),
                  "email": InviteEmailForm(prefix="courriel"), "member": MemberForm(), "answer": AnswerForm(),
                  "subcontractor": subcontractor, "message": MessageForm(), "dissolve": DissolveForm(),
                  "empty": EmptyForm()}
    if manage and forming:
        page.q = request.args.get("q", "")
        page.candidates = _candidates(grouping, page.q)
        page.suggestions = suggestions.suggest(grouping)
    return page


@bp.get("/groupements/<int:grouping_id>")
@login_required
def show(grouping_id: int):
    grouping = _grouping(grouping_id)
    return render_template("groupings/show.html", page=page_of(grouping), grouping=grouping,
                           admin_organisations=_admin_organisations())


def _admin_organisations() -> list[Organisation]:
    ids = services.admin_organisation_ids(current_user)
    return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name))) \
        if ids else []


@bp.post("/groupements/<int:grouping_id>/conditions")
@login_required
def terms(grouping_id: int):
    grouping = _grouping(grouping_id, "manage")
    form = TermsForm(prefix="conditions")
    form.lot_ids.choices = [(lot.id, lot.title) for lot in grouping.tender.lots]
    return _do(grouping, form, lambda: services.update_terms(current_user, grouping, form.kind.data,
                                                             form.jointly_liable.data, form.lot_ids.data or []),
               "Type et lots du groupement enregistrés.", "conditions")


@bp.post("/groupements/<int:grouping_id>/inviter")
@login_required
def invite(grouping_id: int):
    grouping = _grouping(grouping_id, "manage")
    form = InviteStructureForm(prefix="annuaire")
    structure_id = form.structure_id.data if form.validate_on_submit() else None
    structure = db.session.get(Structure, structure_id) if structure_id else None
    if structure is None or structure.publication != Publication.PUBLISHED:
        flash_form_errors(form) if form.errors else flash("Structure inconnue dans l'annuaire : choisissez-la à nouveau.",
                                                      "error")
        return _back(grouping, "inviter")
    done = commit_or_report(lambda: services.invite_structure(current_user, grouping, structure, form.services.data))
    if done:
        flash(f"Invitation envoyée à {structure.display_name} : ses administrateurs ont reçu un e-mail.", "success")
    return _back(grouping, "membres" if done else "inviter")


@bp.post("/groupements/<int:grouping_id>/inviter-par-courriel")
@login_required
def invite_email(grouping_id: int):
    grouping = _grouping(grouping_id, "manage")
    form = InviteEmailForm(prefix="courriel")
    return _do(grouping, form, lambda: services.invite_by_email(current_user, grouping, form.email.data,
                                                                form.company_name.data, form.siret.data,
                                                                form.services.data),
               "Invitation envoyée par e-mail : l'entreprise s'inscrit par le lien reçu, puis répond.", "membres")


def _on_member(grouping_id: int, operation, message):
    """A manager's act on one member named by the form (remove it, make it mandataire)."""
    grouping = _grouping(grouping_id, "manage")
    form = MemberForm()
    member = _member(grouping, form.member_id.data) if form.validate_on_submit() else None
    if member is None:
        flash_form_errors(form)
    elif commit_or_report(lambda: operation(current_user, grouping, member)):
        flash(message(member), "success")
    return _back(grouping, "membres")


@bp.post("/groupements/<int:grouping_id>/membres/retirer")
@login_required
def remove(grouping_id: int):
    return _on_member(grouping_id, services.remove_member,
                      lambda member: f"{member.display_name} ne fait plus partie du groupement.")


@bp.post("/groupements/<int:grouping_id>/mandataire")
@login_required
def mandataire(grouping_id: int):
    return _on_member(grouping_id, services.set_mandataire,
                      lambda member: f"{member.display_name} est désormais le mandataire du groupement.")


@bp.route("/groupements/<int:grouping_id>/lots/<int:grouping_lot_id>/parts", methods=["GET", "POST"])
@login_required
def shares(grouping_id: int, grouping_lot_id: int):
    grouping = _grouping(grouping_id, "manage")
    grouping_lot = next((gl for gl in grouping.lots if gl.id == grouping_lot_id), None)
    if grouping_lot is None:
        abort(404)
    form = EmptyForm()
    members = grouping.accepted_members
    current = services.shares_of(grouping)
    values = {m.id: request.form.get(f"part-{m.id}", "") for m in members} if request.method == "POST" else {
        m.id: (f"{current[(m.id, grouping_lot.id)].percent:f}".replace(".", ",")
               if (m.id, grouping_lot.id) in current else "") for m in members}
    texts = {m.id: request.form.get(f"prestations-{m.id}", m.services) if request.method == "POST" else m.services
             for m in members}
    price = request.form.get("prix", "") if request.method == "POST" else (
        "" if grouping_lot.price is None else f"{grouping_lot.price:f}".replace(".", ","))
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if commit_or_report(lambda: services.set_shares(current_user, grouping, grouping_lot, values, price, texts)):
            flash(f"Répartition enregistrée pour {services.lot_label(grouping_lot.lot)}.", "success")
            return _back(grouping, "lots")
        status = 400
    return render_template("groupings/shares.html", grouping=grouping, grouping_lot=grouping_lot, members=members,
                           values=values, texts=texts, price=price, form=form), status


@bp.post("/groupements/<int:grouping_id>/invitations/<int:member_id>")
@login_required
def answer(grouping_id: int, member_id: int):
    grouping = _grouping(grouping_id)
    member = _member(grouping, member_id)
    if not can(current_user, "answer_invitation", member):
        abort(404)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(grouping)
    accept = form.decision.data == "accept"
    if commit_or_report(lambda: services.answer_invitation(current_user, member, accept, reason=form.reason.data)):
        flash("Vous faites désormais partie du groupement." if accept else "Invitation déclinée.",
              "success" if accept else "info")
    if not accept:
        return redirect(url_for("groupings.mine"))
    return _back(grouping)


@bp.route("/groupements/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """A company invited by e-mail: it reads who invites it to what, signs in (or up) with the invited address,
    and answers for an organisation it administers."""
    try:
        data = tokens.read_token(token)
    except TokenError as error:
        return render_template("groupings/invitation_invalid.html", expired=error.expired), 400
    member = db.session.get(GroupingMember, data.get("mid"))
    if member is None or (member.invited_email or "").lower() != data.get("email"):
        return render_template("groupings/invitation_invalid.html", expired=False), 400
    form = AnswerForm()
    organisations = _admin_organisations() if current_user.is_authenticated else []
    if request.method == "POST" and not current_user.is_authenticated:
        flash("Connectez-vous avec le compte de l'adresse invitée pour répondre.", "error")
    elif request.method == "POST":
        if not form.validate_on_submit():
            flash_form_errors(form)
        else:
            accept = form.decision.data == "accept"
            organisation = next((o for o in organisations if o.id == form.organisation_id.data), None)
            if accept and organisation is None and len(organisations) == 1 and not form.organisation_id.data:
                organisation = organisations[0]
            if commit_or_report(lambda: services.answer_invitation(current_user, member, accept, organisation,
                                                                   form.reason.data), form):
                if accept:
                    flash("Vous faites désormais partie du groupement.", "success")
                    return redirect(url_for("groupings.show", grouping_id=member.grouping_id))
                flash("Invitation déclinée.", "info")
                return redirect(url_for("core.home"))
    return render_template("groupings/invitation.html", member=member, grouping=member.grouping, form=form,
                           token=token, organisations=organisations)


@bp.post("/groupements/<int:grouping_id>/sous-traitants")
@login_required
def subcontractor(grouping_id: int):
    grouping = _grouping(grouping_id, "manage")
    form = SubcontractorForm(prefix="sous-traitant")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(grouping, "sous-traitants")
    member = _member(grouping, form.member_id.data)
    return _do(grouping, EmptyForm(), lambda: services.add_subcontractor(
        current_user, grouping, member, form.name.data, form.siret.data, form.services.data, form.amount.data),
        "Sous-traitant déclaré.", "sous-traitants")


@bp.post("/groupements/<int:grouping_id>/sous-traitants/<int:row_id>/retirer")
@login_required
def remove_subcontractor(grouping_id: int, row_id: int):
    grouping = _grouping(grouping_id, "manage")
    row = next((s for s in grouping.subcontractors if s.id == row_id), None)
    if not isinstance(row, GroupingSubcontractor):
        abort(404)
    return _do(grouping, EmptyForm(), lambda: services.remove_subcontractor(current_user, grouping, row),
               "Sous-traitant retiré.", "sous-traitants")


@bp.post("/groupements/<int:grouping_id>/messages")
@login_required
def message(grouping_id: int):
    grouping = _grouping(grouping_id, "post")
    form = MessageForm()
    return _do(grouping, form, lambda: services.post_message(current_user, grouping, form.body.data),
               "Message publié pour les membres.", "discussion")


def _move(grouping_id: int, operation, message: str):
    grouping = _grouping(grouping_id, "manage")
    return _do(grouping, EmptyForm(), lambda: operation(current_user, grouping), message)


@bp.post("/groupements/<int:grouping_id>/confirmer")
@login_required
def confirm(grouping_id: int):
    return _move(grouping_id, services.confirm,
                 "Groupement confirmé : l'acheteur voit votre intérêt et votre composition.")


@bp.post("/groupements/<int:grouping_id>/rouvrir")
@login_required
def reopen(grouping_id: int):
    return _move(grouping_id, services.reopen,
                 "Groupement rouvert : vous pouvez changer sa composition, puis le confirmer à nouveau.")


@bp.post("/groupements/<int:grouping_id>/deposer")
@login_required
def submit(grouping_id: int):
    return _move(grouping_id, services.submit, "Offre du groupement déclarée déposée.")


@bp.post("/groupements/<int:grouping_id>/dissoudre")
@login_required
def dissolve(grouping_id: int):
    grouping = _grouping(grouping_id, "manage")
    form = DissolveForm()
    return _do(grouping, form, lambda: services.dissolve(current_user, grouping, form.reason.data),
               "Groupement dissous : ses membres en sont informés.")


def board() -> dict[str, Any]:
    """« Mes groupements » (also on the structure dashboard, template global `groupings_board`): the user's
    groupings, the invitations its organisations have not answered yet."""
    groupings = services.groupings_of_user(current_user)
    ids = services.organisation_ids(current_user)
    pending = [m for g in groupings for m in g.members
               if m.status == MemberStatus.INVITED and m.organisation_id in ids]
    return {"groupings": groupings, "pending": pending}


def completing() -> list:
    """Open tenders where a suggested partner would complete one of the user's structures (template global
    `groupings_completing`, on « Mes groupements » and the structure dashboard)."""
    structures = answering_structures(current_user) if current_user.is_authenticated else []
    return suggestions.completing_tenders(structures) if structures else []


@bp.get("/groupements")
@login_required
def mine():
    return render_template("groupings/mine.html", **board())


# --- documents -----------------------------------------------------------------------------------------------

def _pdf(content: bytes, filename: str) -> Response:
    return Response(content, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/groupements/<int:grouping_id>/recapitulatif-dc1.pdf")
@login_required
def dc1(grouping_id: int):
    """The DC1-style summary: the members, and the buyer once the grouping has answered."""
    grouping = get_or_404(db.session.get(Grouping, grouping_id), current_user, "view_summary")
    from . import documents

    return _pdf(documents.dc1_pdf(grouping), f"groupement-{grouping.id}-recapitulatif-dc1.pdf")


@bp.get("/groupements/<int:grouping_id>/convention")
@login_required
def convention(grouping_id: int):
    """The convention draft as copyable text, with its PDF (members only)."""
    grouping = _grouping(grouping_id)
    from . import documents

    if request.args.get("format") == "pdf":
        return _pdf(documents.convention_pdf(grouping), f"groupement-{grouping.id}-projet-de-convention.pdf")
    return render_template("groupings/convention.html", grouping=grouping,
                           text=documents.convention_text(grouping))
