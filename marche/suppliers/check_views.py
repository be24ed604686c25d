"""« Vérifier mes fournisseurs »: the page (paste a list or send a file) and the export of its answer
(CSV, Excel or PDF).

The export re-sends what was checked (line numbers and values, in a hidden field of the results page)
and checks it again: no state kept on the server or in the cookie (5 000 lines do not fit in one),
the figures are those of the directory at download time, and a tampered field can only change what
is checked, never what the answer says. A PDF of up to `core.documents.INLINE_MAX_ROWS` lines is rendered
at once; a longer one is queued for the worker and the buyer waits on its « en préparation » page.
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf.file import FileAllowed, FileField
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core.access import can
from ..core.dates import today
from ..core.exports import tabular_response
from ..core.forms import Form, MaxFileSize, commit_or_report
from ..core.input import InputError, parse_json
from ..core.documents import INLINE_MAX_ROWS, document_response, request_document
from ..core.uploads import UploadTooLarge, read_upload
from .check import (MAX_AMOUNT, MAX_FILE_BYTES, MAX_LINES, MAX_PASTE_CHARS, REPORT_DOCUMENT, STATUS_LABELS, CheckInputError,
                    CheckReport, Entry, check_entries, check_file, check_text, export_headers, export_rows,
                    report_params)
from .models import StructureKind

bp = Blueprint("supplier_check", __name__)

ALLOWED_EXTENSIONS = ["csv", "txt", "xlsx"]


class CheckForm(Form):
    sirets = TextAreaField(
        "Numéros SIRET ou SIREN", validators=[Optional(), Length(max=MAX_PASTE_CHARS, message=(
            f"La liste collée est trop longue : {MAX_PASTE_CHARS:,} caractères au plus ({MAX_LINES:,} lignes). "
            "Découpez-la en plusieurs envois ou envoyez un fichier.".replace(",", "\u202f")))],
        description=f"Un fournisseur par ligne : le SIRET seul (espaces et points acceptés) ou une ligne copiée "
                    f"d'un tableur (nom, SIRET, montant). Avec une colonne de montants, la part inclusive de la "
                    f"dépense est calculée. {MAX_LINES:,} lignes au plus.".replace(",", "\u202f"))
    file = FileField(
        "Ou un fichier CSV ou Excel (.xlsx)",
        validators=[FileAllowed(ALLOWED_EXTENSIONS, "Format non pris en charge : envoyez un fichier .csv ou .xlsx."),
                    MaxFileSize(MAX_FILE_BYTES, message="Le fichier dépasse la taille autorisée (5 Mo).")],
        description="Une colonne « SIRET » (ou « SIREN », « N° SIRET »…) ; séparateur et encodage détectés. "
                    "5 Mo au plus.")

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        has_text, has_file = bool((self.sirets.data or "").strip()), bool(self.file.data)
        if has_text and has_file:
            self.file.errors = list(self.file.errors) + [
                "Saisissez une liste ou envoyez un fichier, pas les deux."]
            return False
        if not has_text and not has_file:
            self.sirets.errors = list(self.sirets.errors) + [
                "Saisissez au moins un SIRET ou un SIREN, ou envoyez un fichier."]
            return False
        return True


class ExportForm(Form):
    #: JSON list of [line, value] or [line, value, amount]: what was checked
    entries = HiddenField(validators=[DataRequired()])
    format = SelectField(choices=[("csv", "CSV"), ("xlsx", "Excel"), ("pdf", "PDF")], validators=[DataRequired()])


def _require_access() -> None:
    if not can(current_user, "check_suppliers"):
        abort(404)


def _run(form: CheckForm) -> CheckReport:
    if form.file.data:
        upload = form.file.data
        try:
            data = read_upload(upload, MAX_FILE_BYTES, "file")
        except UploadTooLarge as error:
            raise CheckInputError(error.message, field="file") from None
        return check_file(upload.filename or "fichier", data)
    return check_text(form.sirets.data)


def _line_number(value) -> int:
    """A JSON integer (`int("٣")` would take a string of Arabic-Indic digits, and `int(True)` a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(value)
    return value


def _amount(value) -> Decimal | None:
    """An amount sent back as the page wrote it (a decimal string), or null."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40 or not value.isascii():
        raise ValueError(value)
    amount = Decimal(value)
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ValueError(value)
    return amount


def _entry(item) -> Entry:
    line, value, *rest = item
    if len(rest) > 1:
        raise ValueError(item)
    return Entry(_line_number(line), str(value), _amount(rest[0]) if rest else None)


def _entries(raw: str) -> list[Entry]:
    """The hidden field read back; anything else than [[line, value(, amount)], …] is a bad request."""
    try:
        items = parse_json(raw.encode("utf-8"))
        entries = [_entry(item) for item in items]
    except (InputError, ValueError, TypeError, InvalidOperation):
        abort(400)
    if not entries or len(entries) > MAX_LINES:
        abort(400)
    return entries


@bp.route("/verifier-mes-fournisseurs", methods=["GET", "POST"])
@login_required
def check():
    _require_access()
    form = CheckForm()
    report = None
    if form.validate_on_submit():
        try:
            report = _run(form)
        except CheckInputError as error:
            target = getattr(form, error.field or "", None) or (form.file if form.file.data else form.sirets)
            target.errors = list(target.errors) + [error.message]
    export_form = None
    if report is not None:
        export_form = ExportForm(formdata=None, entries=json.dumps(
            [[e.line, e.value] + ([str(e.amount)] if e.amount is not None else []) for e in report.entries],
            ensure_ascii=False))
    return render_template("suppliers/check.html", form=form, report=report, export_form=export_form,
                           status_labels=STATUS_LABELS, kinds=StructureKind)


@bp.post("/verifier-mes-fournisseurs/export")
@login_required
def export():
    _require_access()
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    report = CheckReport(lines=check_entries(_entries(form.entries.data)))
    name = f"verification-fournisseurs-{today().isoformat()}"
    if form.format.data == "pdf":
        return _pdf(report, f"{name}.pdf")
    return tabular_response(form.format.data, name, export_headers(report),
                            export_rows(report, decimal_comma=form.format.data == "csv"))


def _pdf(report: CheckReport, filename: str):
    """Inline for a short list; past INLINE_MAX_ROWS lines, queued for the worker (its page says
    « en préparation » until the file is ready, for this user only)."""
    params = report_params(report, today())
    if len(report.lines) <= INLINE_MAX_ROWS:
        return document_response(REPORT_DOCUMENT, params, filename)
    done = commit_or_report(lambda: request_document(current_user.id, REPORT_DOCUMENT, params, filename))
    if not done:
        abort(400)
    return redirect(url_for("core.document", document_id=done.value.id))
