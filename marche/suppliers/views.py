"""Structure profiles: public page, claim, edit (area, commitments, references, contacts), favourites."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from ..core import access
from ..core.dates import today
from ..core.forms import commit_or_report
from ..core.exports import tabular_response
from ..accounts.services import INVITATION_SENT
from ..core.uploads import read_upload, upload_root
from ..core.urls import safe_next
from ..geo.services import resolve
from ..reference.services import naf_label, sectors_by_group
from . import favorites, services
from .forms import (ClaimDecisionForm, ClaimForm, ContactForm, EmptyForm, EnvCommitmentForm, FavoriteForm,
                    InviteForm, LogoForm, ProfileForm, ReferenceForm, RenameListForm)
from .models import ClaimStatus, ClientReference, EnvCommitment, FavoriteList, ServiceKind, Structure, StructureContact

bp = Blueprint("suppliers", __name__)

EXPORT_HEADERS = ["SIRET", "FINESS", "Raison sociale", "Enseigne", "Types", "Secteurs", "Adresse", "Code postal",
                  "Ville", "Département", "Site internet", "Fiche"]


def load_structure(ident: str, action: str = "view") -> Structure:
    return access.get_or_404(services.find_structure(ident), current_user, action)


def profile_url(structure: Structure) -> str:
    return url_for("suppliers.profile", ident=services.structure_ident(structure))


def sector_choices() -> dict[str, list[tuple[int, str]]]:
    """Sectors grouped for an <optgroup> select (WTForms takes a dict for groups)."""
    return {group.name: [(sector.id, sector.name) for sector in sectors] for group, sectors in sectors_by_group()}


@bp.get("/structures/<ident>")
def profile(ident: str):
    return render_profile(load_structure(ident))


def render_profile(structure: Structure, claim_form: ClaimForm | None = None):
    favorite_form = None
    if access.can(current_user, "use_favorites"):
        favorite_form = FavoriteForm()
        favorite_form.favorite_list.choices = [(0, "—")] + [(fl.id, fl.name) for fl in favorites.lists_for(current_user)]
    area_labels = [resolve(ref).label for ref in structure.area_refs or []]
    pending_claim = services.pending_claim(current_user, structure) if current_user.is_authenticated else None
    return render_template("suppliers/profile.html", structure=structure, claim_form=claim_form or ClaimForm(),
                           claim_open=claim_form is not None or request.args.get("revendiquer") == "1",
                           pending_claim=pending_claim, area_labels=area_labels,
                           favorite_form=favorite_form, service_labels=dict(ServiceKind.choices()),
                           naf_label=naf_label(structure.naf_code),
                           current_commitments=[c for c in structure.env_commitments if c.is_current(today())])


def _edit_forms(structure: Structure, profile_form: ProfileForm | None = None) -> dict:
    form = profile_form
    if form is None:
        form = ProfileForm(obj=structure)
        # The model holds objects and lists; the form wants ids and a comma-separated text.
        form.sectors.data = [s.id for s in structure.sectors]
        form.area_refs.data = ",".join(structure.area_refs or [])
        form.area_radius_km.data = structure.area_radius_km or 50
    form.sectors.choices = sector_choices()
    return {"structure": structure, "form": form, "env_form": EnvCommitmentForm(prefix="env"),
            "logo_form": LogoForm(prefix="logo"), "reference_form": ReferenceForm(prefix="ref"),
            "contact_form": ContactForm(prefix="contact"), "invite_form": InviteForm(prefix="invite"),
            "empty_form": EmptyForm(), "today": today()}


@bp.route("/structures/<ident>/modifier", methods=["GET", "POST"])
@login_required
def edit(ident: str):
    structure = load_structure(ident, "edit")
    form = ProfileForm()
    form.sectors.choices = sector_choices()
    if request.method == "POST" and form.validate_on_submit():
        data = services.ProfileData(
            name=form.name.data, brand=form.brand.data, description=form.description.data, website=form.website.data,
            sector_ids=form.sectors.data or [], service_kinds=form.service_kinds.data or [],
            area_kind=form.area_kind.data, area_radius_km=form.area_radius_km.data, area_refs_text=form.area_refs.data or "",
            employees_count=form.employees_count.data, inclusion_workers_count=form.inclusion_workers_count.data,
            turnover_band=form.turnover_band.data or None)
        if commit_or_report(lambda: services.update_profile(current_user, structure, data), form):
            flash("La fiche est enregistrée.", "success")
            return redirect(profile_url(structure))
        structure = load_structure(ident, "edit")
    return render_template("suppliers/edit.html", **_edit_forms(structure, form if request.method == "POST" else None))


def _child_form_response(structure: Structure, key: str, form):
    """Re-render the edit page with a child form's errors shown beside its fields."""
    forms = _edit_forms(structure)
    forms[key] = form
    return render_template("suppliers/edit.html", **forms), 400


def _edit_action(ident: str, form_key: str, form, perform, message: str, anchor: str = ""):
    """One shape for the edit page's small forms: validate, call the service, commit, or show the
    errors beside the fields. `perform(structure, form)` may return a message replacing `message`."""
    structure = load_structure(ident, "edit")
    if form.validate_on_submit() and (done := commit_or_report(lambda: perform(structure, form), form)):
        flash(done.value if isinstance(done.value, str) else message, "success")
        return redirect(url_for("suppliers.edit", ident=ident) + anchor)
    return _child_form_response(structure, form_key, form)


def _read(field) -> bytes | None:
    """The uploaded file of `field`, its size checked from the stream before it is read into memory."""
    if not field.data:
        return None
    return read_upload(field.data, services.MAX_UPLOAD_BYTES, field.short_name)


@bp.post("/structures/<ident>/engagements")
@login_required
def add_commitment(ident: str):
    return _edit_action(ident, "env_form", EnvCommitmentForm(prefix="env"), lambda structure, form: (
        services.add_env_commitment(current_user, structure, form.label.data, form.obtained_on.data,
                                    form.expires_on.data, _read(form.proof))), "L'engagement est ajouté.",
        "#engagements")


@bp.post("/structures/<ident>/logo")
@login_required
def upload_logo(ident: str):
    return _edit_action(ident, "logo_form", LogoForm(prefix="logo"), lambda structure, form: (
        services.set_logo(current_user, structure, _read(form.logo))), "Le logo est enregistré.")


@bp.post("/structures/<ident>/references")
@login_required
def add_reference(ident: str):
    return _edit_action(ident, "reference_form", ReferenceForm(prefix="ref"), lambda structure, form: (
        services.add_reference(current_user, structure, form.client_name.data, form.description.data,
                               form.year.data, _read(form.file))), "La référence est ajoutée.", "#references")


@bp.post("/structures/<ident>/contacts")
@login_required
def add_contact(ident: str):
    return _edit_action(ident, "contact_form", ContactForm(prefix="contact"), lambda structure, form: (
        services.add_contact(current_user, structure, form.name.data, form.role.data, form.email.data,
                             form.phone.data)), "Le contact est ajouté.", "#contacts")


@bp.post("/structures/<ident>/inviter")
@login_required
def invite(ident: str):
    def perform(structure, form):
        services.invite_colleague(current_user, structure, form.email.data)

    # the same answer whether the address has an account or not
    return _edit_action(ident, "invite_form", InviteForm(prefix="invite"), perform, INVITATION_SENT, "#equipe")


@bp.get("/structures/<ident>/references/<int:reference_id>/fichier")
def reference_file(ident: str, reference_id: int):
    """A reference's photo or document: public, like the reference itself."""
    structure = load_structure(ident)
    reference = services.child_of(structure, ClientReference, reference_id)
    if reference is None or not reference.file_path:
        abort(404)
    path = upload_root() / reference.file_path
    return send_file(path, download_name=f"reference-{reference.id}{path.suffix}", max_age=3600)


CHILDREN = {"engagements": (EnvCommitment, services.remove_env_commitment),
            "references": (ClientReference, services.remove_reference),
            "contacts": (StructureContact, services.remove_contact)}


@bp.post("/structures/<ident>/<kind>/<int:child_id>/supprimer")
@login_required
def remove_child(ident: str, kind: str, child_id: int):
    structure = load_structure(ident, "edit")
    if kind not in CHILDREN or not EmptyForm().validate_on_submit():
        abort(404)
    model, remove = CHILDREN[kind]
    child = services.child_of(structure, model, child_id)
    if child is None:
        abort(404)
    if commit_or_report(lambda: remove(current_user, child)):
        flash("Supprimé.", "success")
    return redirect(url_for("suppliers.edit", ident=ident) + f"#{kind}")


@bp.get("/structures/<ident>/engagements/<int:commitment_id>/justificatif")
@login_required
def proof(ident: str, commitment_id: int):
    structure = load_structure(ident)
    commitment = services.child_of(structure, EnvCommitment, commitment_id)
    if commitment is None or not commitment.proof_path:
        abort(404)
    path = upload_root() / commitment.proof_path
    return send_file(path, as_attachment=False, download_name=f"justificatif-{commitment.label}{path.suffix}")


@bp.get("/structures/<ident>/logo")
def logo(ident: str):
    structure = load_structure(ident)
    if not structure.logo_path:
        abort(404)
    return send_file(upload_root() / structure.logo_path, max_age=3600)


@bp.post("/structures/<ident>/revendiquer")
@login_required
def claim(ident: str):
    structure = load_structure(ident)
    if not access.can(current_user, "claim", structure):
        abort(404)
    form = ClaimForm()
    if form.validate_on_submit():
        proof = services.ClaimProof(kind=form.evidence_kind.data, document=_read(form.document),
                                    finess=form.finess.data)
        done = commit_or_report(lambda: services.request_claim(current_user, structure, proof, form.message.data), form)
        if done:
            flash("Cette fiche est déjà gérée : votre demande a été transmise à ses gestionnaires et à l'équipe de la "
                  "plateforme." if done.value.status == ClaimStatus.REDIRECTED else
                  "Votre demande est envoyée : un administrateur ou un facilitateur vérifiera votre justificatif.",
                  "success")
            return redirect(profile_url(structure))
    return render_profile(structure, form), 400


def render_claims(failed: tuple[int, ClaimDecisionForm] | None = None, status: int = 200):
    """The pending claims the user may decide; `failed` is a claim's decision form to show again with its
    error beside the reason and the text typed kept."""
    if not (access.can(current_user, "admin_platform") or access.can(current_user, "list_claims")):
        abort(404)
    visible = [c for c in services.pending_claims() if access.can(current_user, "decide", c)]
    requesters = services.users_by_id([c.requested_by_id for c in visible if c.requested_by_id])
    forms = {c.id: ClaimDecisionForm(formdata=None) for c in visible}
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
    return render_template("suppliers/claims.html", claims=visible, forms=forms, requesters=requesters,
                           profile_url=profile_url), status


@bp.get("/structures/revendications")
@login_required
def claims():
    return render_claims()


@bp.get("/structures/revendications/<int:claim_id>/justificatif")
@login_required
def claim_evidence(claim_id: int):
    """The claim's document: only those who may decide the claim (404 for everyone else)."""
    claim_ = access.get_or_404(services.get_claim(claim_id), current_user, "decide")
    if not claim_.evidence_path:
        abort(404)
    path = upload_root() / claim_.evidence_path
    response = send_file(path, download_name=f"justificatif-revendication-{claim_.id}{path.suffix}", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/structures/revendications/<int:claim_id>")
@login_required
def decide_claim(claim_id: int):
    claim_ = access.get_or_404(services.get_claim(claim_id), current_user, "decide")
    form = ClaimDecisionForm()
    if not form.validate_on_submit() or request.form.get("decision") not in {"approve", "reject"}:
        abort(400)
    approve = request.form["decision"] == "approve"
    done = commit_or_report(lambda: services.decide_claim(current_user, claim_, approve, form.reason.data), form)
    if done:
        flash("Demande acceptée : l'organisation gère désormais la fiche, elle en est informée par e-mail." if approve
              else "Demande refusée : le motif est envoyé par e-mail à la personne qui l'a faite.", "success")
    elif form.reason.errors:
        return render_claims((claim_.id, form), 400)
    return redirect(url_for("suppliers.claims"))


# --- favourites ---------------------------------------------------------------------------------

@bp.post("/structures/<ident>/favoris")
@login_required
def add_favorite(ident: str):
    """From the profile or a search result card. htmx gets the card's control back (saved, or the error
    beside it); without JavaScript, a redirect to the page the buyer came from (the same search)."""
    structure = load_structure(ident)
    if not access.can(current_user, "use_favorites"):
        abort(404)
    form = FavoriteForm()
    form.favorite_list.choices = [(0, "—")] + [(fl.id, fl.name) for fl in favorites.lists_for(current_user)]
    error = None
    if form.validate_on_submit():
        done = commit_or_report(lambda: favorites.add_to_list(current_user, structure, form.favorite_list.data or None,
                                                              form.new_list.data), form)
        if done:
            message = f"Ajoutée à la liste « {done.value.name} »."
        else:
            error = done.error.message
    else:
        error = next(iter(form.errors.values()), ["Choisissez une liste."])[0]
    next_url = safe_next(request.form.get("next"), profile_url(structure))
    if request.headers.get("HX-Request"):
        return render_template("suppliers/_favorite_control.html", structure_id=structure.id,
                               structure_name=structure.display_name,
                               cards=favorites.card_state(current_user, [structure.id]),
                               error=error, message=None if error else message), 200
    flash(error or message, "error" if error else "success")
    return redirect(next_url)


@bp.get("/favoris")
@login_required
def favorite_lists():
    if not access.can(current_user, "use_favorites"):
        abort(404)
    return render_template("suppliers/favorites.html", lists=favorites.lists_for(current_user))


def load_list(list_id: int, action: str = "view") -> FavoriteList:
    return access.get_or_404(favorites.get_list(list_id), current_user, action)


@bp.get("/favoris/<int:list_id>")
@login_required
def favorite_list(list_id: int):
    favorite_list_ = load_list(list_id)
    return render_template("suppliers/favorite_list.html", favorite_list=favorite_list_, form=EmptyForm(),
                           rename_form=RenameListForm(formdata=None, name=favorite_list_.name), profile_url=profile_url)


@bp.post("/favoris/<int:list_id>/renommer")
@login_required
def rename_favorite_list(list_id: int):
    favorite_list_ = load_list(list_id, "edit")
    form = RenameListForm()
    if form.validate_on_submit() and commit_or_report(
            lambda: favorites.rename_list(current_user, favorite_list_, form.name.data), form):
        flash(f"La liste s'appelle maintenant « {favorite_list_.name} ».", "success")
        return redirect(url_for("suppliers.favorite_list", list_id=list_id))
    favorite_list_ = load_list(list_id)  # the failed rename was rolled back
    return render_template("suppliers/favorite_list.html", favorite_list=favorite_list_, form=EmptyForm(),
                           rename_form=form, profile_url=profile_url), 400


@bp.post("/favoris/<int:list_id>/supprimer")
@login_required
def delete_favorite_list(list_id: int):
    favorite_list_ = load_list(list_id, "edit")
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = favorite_list_.name
    if commit_or_report(lambda: favorites.delete_list(current_user, favorite_list_)):
        flash(f"La liste « {name} » est supprimée.", "success")
    return redirect(url_for("suppliers.favorite_lists"))


def export_rows(structures: list[Structure]) -> list[list]:
    base = current_app.config["BASE_URL"].rstrip("/")
    return [[s.siret, ", ".join(s.finess_numbers or []), s.name, s.brand, s.kinds, [x.name for x in s.sectors],
             s.address, s.postcode, s.city, s.department_code, s.website, base + profile_url(s)] for s in structures]


@bp.get("/favoris/<int:list_id>/export")
@login_required
def export_favorites(list_id: int):
    favorite_list_ = load_list(list_id)
    fmt = request.args.get("format", "csv")
    if fmt not in {"csv", "xlsx"}:
        abort(400)
    rows = export_rows([item.structure for item in favorite_list_.items])
    return tabular_response(fmt, f"favoris-{favorite_list_.id}", EXPORT_HEADERS, rows)


@bp.post("/favoris/<int:list_id>/retirer/<int:item_id>")
@login_required
def remove_favorite(list_id: int, item_id: int):
    favorite_list_ = load_list(list_id)
    item = favorites.list_item(favorite_list_, item_id)
    if item is None or not EmptyForm().validate_on_submit():
        abort(404)
    if commit_or_report(lambda: favorites.remove_item(current_user, item)):
        flash("Retirée de la liste.", "success")
    return redirect(url_for("suppliers.favorite_list", list_id=list_id))
