"""The buyer's funnel pages (blueprint "tender_funnel", under /consultations): the funnel of each lot, its CSV
and XLSX exports, the message to the interested structures and the re-notification of a status group. Anyone
but the buyer organisation's members (and platform admins) gets a 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms import SelectField, TextAreaField

from ..core.access import get_or_404
from ..core.exports import tabular_response
from ..core.forms import Form, commit_or_report
from ..core.models import utcnow
from ..extensions import db
from . import funnel
from .loading import lot_or_404
from .models import Tender

bp = Blueprint("tender_funnel", __name__, url_prefix="/consultations")


class ContactForm(Form):
    message = TextAreaField("Message aux structures intéressées")


class RenotifyForm(Form):
    group = SelectField("Groupe à relancer", choices=list(funnel.GROUPS.items()))
    message = TextAreaField("Message de relance")


def _tender(tender_id: int) -> Tender:
    return get_or_404(db.session.get(Tender, tender_id), current_user, "see_funnel")


_lot = lot_or_404


def _render(tender: Tender, failed: tuple[int, str, Form] | None = None):
    forms = {}
    for lot in tender.lots:
        forms[lot.id] = {"contact": ContactForm(prefix=f"contact-{lot.id}"),
                         "renotify": RenotifyForm(prefix=f"renotify-{lot.id}")}
    if failed:
        forms[failed[0]][failed[1]] = failed[2]
    lots = funnel.tender_funnel(tender)
    now = utcnow()
    next_allowed = {(f.lot.id, group): funnel.next_renotification(f.lot, group, now)
                    for f in lots for group in funnel.GROUPS}
    return render_template("tenders/funnel/show.html", tender=tender, lots=lots, forms=forms, groups=funnel.GROUPS,
                           next_allowed=next_allowed, now=now, contacts={f.lot.id: funnel.interested_contacts(f.lot)
                                                                for f in lots}), 400 if failed else 200


@bp.get("/<int:tender_id>/reponses")
@login_required
def show(tender_id: int):
    return _render(_tender(tender_id))


@bp.get("/<int:tender_id>/reponses/export.<fmt>")
@login_required
def export(tender_id: int, fmt: str):
    tender = _tender(tender_id)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    return tabular_response(fmt, f"suivi-consultation-{tender.id}", funnel.EXPORT_HEADERS, funnel.export_rows(tender))


@bp.post("/<int:tender_id>/lots/<int:lot_id>/reponses/contacter")
@login_required
def contact(tender_id: int, lot_id: int):
    tender = _tender(tender_id)
    lot = _lot(tender, lot_id)
    form = ContactForm(prefix=f"contact-{lot.id}")
    if form.validate_on_submit():
        done = commit_or_report(lambda: funnel.contact_interested(current_user, lot, form.message.data), form)
        if done:
            flash(f"Message envoyé à {done.value} structure(s) intéressée(s).", "success")
            return redirect(url_for("tender_funnel.show", tender_id=tender.id) + f"#lot-{lot.position}")
    return _render(_tender(tender_id), (lot.id, "contact", form))


@bp.post("/<int:tender_id>/lots/<int:lot_id>/reponses/relancer")
@login_required
def renotify(tender_id: int, lot_id: int):
    tender = _tender(tender_id)
    lot = _lot(tender, lot_id)
    form = RenotifyForm(prefix=f"renotify-{lot.id}")
    if form.validate_on_submit():
        done = commit_or_report(lambda: funnel.renotify(current_user, lot, form.group.data, form.message.data), form)
        if done:
            flash(f"Relance envoyée à {done.value.recipients} structure(s).", "success")
            return redirect(url_for("tender_funnel.show", tender_id=tender.id) + f"#lot-{lot.position}")
    return _render(_tender(tender_id), (lot.id, "renotify", form))
