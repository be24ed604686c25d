"""« Contacter la structure »: the form on its own page, reached from the profile."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms import StringField, TextAreaField

from ..core import access
from ..core.forms import Form, commit_or_report
from . import contact, services

bp = Blueprint("contact", __name__)


class ContactStructureForm(Form):
    # lengths are checked by the service (after trimming), so a 3 MB text is refused beside its field
    subject = StringField("Objet", description=f"{contact.SUBJECT_MAX_CHARS} caractères au plus, sur une ligne.")
    body = TextAreaField("Message", description=f"{contact.BODY_MAX_CHARS:,} caractères au plus. Il est envoyé "
                                                "en texte brut ; une copie vous est adressée.".replace(",", "\u202f"))


@bp.route("/structures/<ident>/contacter", methods=["GET", "POST"])
@login_required
def contact_structure(ident: str):
    structure = access.get_or_404(services.find_structure(ident), current_user, "contact")
    form = ContactStructureForm()
    if form.validate_on_submit() and commit_or_report(
            lambda: contact.send_message(current_user, structure, form.subject.data, form.body.data), form):
        flash(f"Votre message est envoyé à {structure.display_name}. Une copie vous est adressée à "
              f"{current_user.email}.", "success")
        return redirect(url_for("suppliers.profile", ident=ident))
    blocked = contact.blocking_limit(current_user)
    status = 400 if form.is_submitted() else 200
    return render_template("suppliers/contact.html", structure=structure, form=form,
                           recipient=contact.contact_email(structure),
                           blocked=contact.limit_message(*blocked) if blocked else None), status
