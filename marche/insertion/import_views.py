"""Pages of the declarations import (blueprint "insertion_import"): the upload form with its columns documented,
the import's status (polled by htmx while the worker reads a large file, then its result or its report), and the
templates to fill in (CSV and Excel, French headers, two example lines).

The upload is for those who declare on the contract (`can(user, "declare", contract)`), the status for those who
see the contract; anyone else gets 404, as for a contract that does not exist.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.file import FileAllowed, FileField
from wtforms.validators import DataRequired

from ..core.access import can, get_or_404
from ..core.exports import tabular_response
from ..core.forms import Form, MaxFileSize, commit_or_report
from ..core.imports import ImportRejected
from ..core.uploads import read_upload
from ..extensions import db
from . import imports
from .access import declaring_organisation
from .models import Contract, DeclarationImport

bp = Blueprint("insertion_import", __name__)

TEMPLATE_NAME = "modele-declarations"
#: the templates' two example lines: a participant already in the records, and one the file creates
TEMPLATE_ROWS = [
    ["PART-001", "03/2026", "embauche", "35", "", "", "", "", ""],
    ["PART-002", "03/2026", "mise à disposition", "12,5", "1998", "F", "DELD, QPV", "QN05901M", "59350"],
]
#: what each column holds, as the page documents it
COLUMN_HELP = {
    "code": "Le code pseudonyme du participant dans les dossiers du facilitateur (jamais un nom).",
    "month": "Le mois déclaré, au format MM/AAAA (03/2026) ; une cellule date d'un tableur donne son mois.",
    "mode": "Embauche, mise à disposition, sous-traitance ou formation (un mode que le marché accepte).",
    "hours": "Les heures du mois, virgule décimale acceptée (12,5) ; 220 h au plus par participant et par mois "
             "sur le marché, tous modes confondus.",
    "birth_year": "Pour créer un participant inconnu des dossiers : son année de naissance (AAAA).",
    "sex": "Pour créer un participant inconnu : F ou M (H accepté).",
    "publics": "Pour un participant créé : ses publics, séparés par une virgule ou un point-virgule (DELD, RSA, "
               "RQTH, jeune, senior, IAE, QPV, PLIE).",
    "qpv_code": "Pour un participant créé : le code du quartier prioritaire où il réside.",
    "commune": "Pour un participant créé : le code INSEE de sa commune de résidence (59350).",
}


class ImportForm(Form):
    file = FileField(
        "Fichier CSV ou Excel (.xlsx)",
        validators=[DataRequired("Choisissez un fichier."),
                    FileAllowed(["csv", "txt", "xlsx"], "Format non pris en charge : envoyez un fichier .csv ou "
                                                        ".xlsx."),
                    MaxFileSize(imports.MAX_FILE_BYTES)],
        description="Séparateur « ; » ou « , » et encodage (UTF-8 ou Windows-1252) détectés ; 5 Mo au plus.")


def _contract(contract_id: int, action: str) -> Contract:
    contract = get_or_404(db.session.get(Contract, contract_id), current_user, "view")
    if action != "view" and not can(current_user, action, contract):
        abort(404)
    return contract


@bp.route("/contrats/<int:contract_id>/import", methods=["GET", "POST"])
@login_required
def upload(contract_id: int):
    contract = _contract(contract_id, "declare")
    form = ImportForm()
    report, status = None, 200
    if form.validate_on_submit():
        storage = form.file.data
        done = commit_or_report(lambda: imports.start_import(
            current_user, declaring_organisation(current_user, contract), contract, storage.filename or "fichier",
            read_upload(storage, imports.MAX_FILE_BYTES, "file")), form)
        if done:
            record = done.value
            return redirect(url_for(".status", contract_id=contract.id, import_id=record.id))
        if isinstance(done.error, ImportRejected):
            report = [str(error) for error in done.error.errors]
            form.file.errors = [f"Import refusé, aucune ligne enregistrée : {len(report)} erreur"
                                f"{'s' if len(report) > 1 else ''}, détaillée{'s' if len(report) > 1 else ''} "
                                "ci-dessous."]
        status = 400
    elif request.method == "POST":
        if "csrf_token" in form.errors:
            abort(400)
        status = 400
    return render_template("insertion/import.html", contract=contract, form=form, report=report,
                           columns=imports.COLUMNS, help=COLUMN_HELP, inline_max=imports.INLINE_MAX_LINES), status


@bp.get("/contrats/<int:contract_id>/import/<int:import_id>")
@login_required
def status(contract_id: int, import_id: int):
    contract = _contract(contract_id, "view")
    record = db.session.get(DeclarationImport, import_id)
    if record is None or record.contract_id != contract.id:
        abort(404)
    template = "insertion/import_progress.html" if request.headers.get("HX-Request") else "insertion/import_status.html"
    return render_template(template, contract=contract, record=record,
                           can_declare=can(current_user, "declare", contract))


@bp.get("/contrats/modele-declarations.<any(csv, xlsx):fmt>")
def template_file(fmt: str):
    return tabular_response(fmt, TEMPLATE_NAME, [column.label for column in imports.COLUMNS], TEMPLATE_ROWS)
