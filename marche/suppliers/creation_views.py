"""Pages of self-created profiles: « Créer la fiche de ma structure » and the verification list of
admins and facilitators (services in suppliers.creation)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core import access
from ..core.forms import Form, commit_or_report
from . import creation, services
from .forms import REQUIRED, CheckboxesField, EmptyForm
from .models import StructureKind

bp = Blueprint("structure_creation", __name__)


class CreateStructureForm(Form):
    siret = StringField("SIRET de la structure", validators=[DataRequired(REQUIRED), Length(max=40)],
                        description="14 chiffres, espaces permis, comme sur votre Kbis ou votre avis de situation INSEE.")
    name = StringField("Raison sociale", validators=[DataRequired(REQUIRED), Length(max=250)])
    kinds = CheckboxesField("Type de structure", choices=[(k.value, f"{k.value} — {k.label}") for k in StructureKind],
                            validators=[DataRequired("Choisissez au moins un type de structure.")])
    address = StringField("Adresse", validators=[Optional(), Length(max=300)])
    postcode = StringField("Code postal", validators=[DataRequired(REQUIRED), Length(max=10)])
    city = StringField("Commune", validators=[DataRequired(REQUIRED), Length(max=120)])


class DecisionForm(Form):
    reason = TextAreaField("Raison du refus (envoyée à la structure)", validators=[Optional(), Length(max=2000)])


@bp.route("/structures/creer", methods=["GET", "POST"])
@login_required
def create():
    if not access.can(current_user, "create_structure"):
        abort(404)
    form = CreateStructureForm()
    if form.validate_on_submit():
        data = creation.NewStructure(siret=form.siret.data, name=form.name.data, kinds=form.kinds.data,
                                     address=(form.address.data or "").strip() or None,
                                     postcode=form.postcode.data.strip(), city=form.city.data.strip())
        done = commit_or_report(lambda: creation.create_structure(current_user, data), form)
        if done:
            structure = done.value
            flash("Votre fiche est créée, en attente de vérification : elle ne sera visible dans l'annuaire qu'une "
                  "fois vérifiée par l'équipe de la plateforme ou le facilitateur de votre territoire. Vous pouvez "
                  "la compléter dès maintenant.", "success")
            return redirect(url_for("suppliers.profile", ident=services.structure_ident(structure)))
        existing = done.error.structure if isinstance(done.error, creation.AlreadyListed) else None
        if existing is not None and not access.can(current_user, "view", existing):
            existing = None  # a profile waiting for someone else's verification: its existence stays hidden
        return render_template("suppliers/create.html", form=form, existing=existing,
                               existing_url=existing and url_for("suppliers.profile",
                                                                 ident=services.structure_ident(existing))), 400
    return render_template("suppliers/create.html", form=form, existing=None), 400 if form.errors else 200


@bp.get("/structures/a-verifier")
@login_required
def pending():
    if not (access.can(current_user, "admin_platform") or access.can(current_user, "list_unpublished")):
        abort(404)
    return _pending_page({}, 200)


def _pending_page(errors: dict[int, str], status: int, typed: dict[int, str] | None = None):
    visible = [s for s in creation.pending_structures() if access.can(current_user, "verify", s)]
    return render_template("suppliers/pending_structures.html", structures=visible, errors=errors,
                           typed=typed or {}, form=EmptyForm(),
                           profile_url=lambda s: url_for("suppliers.profile", ident=services.structure_ident(s))), status


@bp.post("/structures/<ident>/verification")
@login_required
def decide(ident: str):
    structure = access.get_or_404(services.find_structure(ident), current_user, "view")
    if not access.can(current_user, "verify", structure):
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    publish = request.form.get("decision") == "publish"
    done = commit_or_report(lambda: creation.decide_publication(current_user, structure, publish, form.reason.data),
                            form)
    if done:
        flash("Fiche publiée : elle entre dans l'annuaire." if publish else
              "Fiche refusée : la structure a reçu la raison par courriel.", "success")
        return redirect(url_for("structure_creation.pending"))
    message = "; ".join(e for errors in form.errors.values() for e in errors) or "Décision impossible."
    return _pending_page({structure.id: message}, 400, {structure.id: form.reason.data or ""})
