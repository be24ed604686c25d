"""Pages of the relay (blueprint "tender_relay"): the one-click unsubscribe link of a relay mail (a page that
confirms, and the POST of RFC 8058 mail clients), and the preferences page of a structure's relay mails for the
members of the organisation that manages it. A tampered token, or a structure the user does not manage, is 404.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import BooleanField

from ..core.access import get_or_404
from ..core.forms import Form, commit_or_report
from ..extensions import csrf, db
from ..suppliers.models import Structure
from ..suppliers.services import find_structure, structure_ident
from . import relay

bp = Blueprint("tender_relay", __name__)


class EmptyForm(Form):
    pass


class PreferencesForm(Form):
    relay_mails = BooleanField("Recevoir par e-mail les consultations qui correspondent à la fiche")


def _structure_of(token: str) -> Structure:
    structure_id = relay.read_unsubscribe_token(token)
    structure = db.session.get(Structure, structure_id) if structure_id is not None else None
    if structure is None:
        abort(404)
    return structure


@bp.get("/diffusion/desabonnement/<token>")
def unsubscribe(token: str):
    structure = _structure_of(token)
    return render_template("tenders/relay/unsubscribe.html", structure=structure, token=token, form=EmptyForm(),
                           done=not relay.relay_mails_on(db.session, structure.id))


@bp.post("/diffusion/desabonnement/<token>")
@csrf.exempt  # RFC 8058: mail clients POST « List-Unsubscribe=One-Click » with no form; the signed token is the proof
def unsubscribe_confirm(token: str):
    structure = _structure_of(token)
    commit_or_report(lambda: relay.set_relay_mails(db.session, structure.id, False))
    if request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204
    flash(f"{structure.display_name} ne recevra plus par e-mail les consultations qui lui correspondent.", "success")
    return redirect(url_for("tender_relay.unsubscribe", token=token))


@bp.route("/structures/<ident>/diffusion-des-consultations", methods=["GET", "POST"])
@login_required
def preferences(ident: str):
    structure = get_or_404(find_structure(ident), current_user, "edit")
    form = PreferencesForm(data={"relay_mails": relay.relay_mails_on(db.session, structure.id)}
                           if request.method == "GET" else None)
    if form.validate_on_submit():
        enabled = bool(form.relay_mails.data)
        if commit_or_report(lambda: relay.set_relay_mails(db.session, structure.id, enabled), form):
            flash("Préférence enregistrée : " + ("les consultations qui correspondent à la fiche vous sont envoyées."
                                                 if enabled else "plus aucun e-mail de consultation."), "success")
            return redirect(url_for("tender_relay.preferences", ident=structure_ident(structure)))
    return render_template("tenders/relay/preferences.html", structure=structure, form=form,
                           ident=structure_ident(structure)), 400 if form.errors else 200
