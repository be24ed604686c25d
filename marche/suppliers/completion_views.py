"""« Secteurs à compléter »: the facilitator's (and admin's) list of unclaimed profiles without sectors of
their own, the page choosing one structure's sectors, and the operator's sector file (services in
suppliers.completion). Anyone else gets 404, as for a page that does not exist."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.file import FileAllowed, FileField
from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..core import access
from ..core.exports import tabular_response
from ..core.forms import Form, MaxFileSize, ascii_int, commit_or_report
from ..core.imports import ImportRejected
from ..core.uploads import read_upload
from ..extensions import db
from ..geo.models import Department
from ..reference.models import NafCode
from ..reference.services import naf_label
from . import completion, services
from .forms import REQUIRED
from .models import Structure, StructureKind
from .views import sector_choices

bp = Blueprint("sector_completion", __name__)

#: the sector file template's example lines (made-up SIRETs with a right check digit, spaces allowed)
TEMPLATE_ROWS = [["123 456 789 00007", "Création et entretien des espaces verts | Maraîchage, légumerie, conserverie"],
                 ["73282932000074", "Nettoyage de locaux"]]


class SectorsForm(Form):
    sectors = SelectMultipleField("Secteurs d'activité", coerce=ascii_int,
                                  validators=[DataRequired("Choisissez au moins un secteur.")],
                                  description="Tapez pour chercher un secteur ; plusieurs choix possibles. Les secteurs "
                                              "déduits sont proposés : gardez ceux qui sont justes.")


class SectorFileForm(Form):
    source = StringField("Source des secteurs", validators=[DataRequired(REQUIRED),
                                                            Length(max=completion.MAX_SOURCE_CHARS)],
                         description="Affichée sur chaque fiche complétée, par exemple « Réseau des ressourceries, "
                                     "liste du 01/11/2026 ».")
    file = FileField("Fichier CSV ou Excel (.xlsx)",
                     validators=[DataRequired("Choisissez un fichier."),
                                 FileAllowed(["csv", "txt", "xlsx"], "Format non pris en charge : envoyez un fichier "
                                                                     ".csv ou .xlsx."),
                                 MaxFileSize(completion.MAX_FILE_BYTES)],
                     description="Colonnes « SIRET » (ou FINESS) et « Secteurs » (noms de la liste des secteurs, "
                                 "séparés par « | » ou « ; ») ; les autres colonnes sont ignorées ; 5 Mo au plus.")


class FilterForm(Form):
    class Meta:
        csrf = False  # a GET form: nothing changes

    kind = SelectField("Type de structure", choices=[("", "Tous")] + [(k.value, f"{k.value} — {k.label}")
                                                                     for k in StructureKind], validators=[Optional()])
    dep = SelectField("Département", validators=[Optional()])
    statut = SelectField("Fiches", choices=completion.Status.CHOICES, default=completion.Status.ALL,
                         validators=[Optional()])


def _allowed() -> list[str] | None:
    if not access.can(current_user, "complete_sectors"):
        abort(404)
    return completion.facilitator_territories(current_user)


def _filters(territories: list[str] | None) -> FilterForm:
    form = FilterForm(request.args)
    codes = db.session.execute(select(Structure.department_code).distinct()
                               .where(completion.in_territories(territories), Structure.department_code.is_not(None))
                               ).scalars().all()
    names = dict(db.session.execute(select(Department.code, Department.name).where(Department.code.in_(codes))).all())
    form.dep.choices = [("", "Tous")] + [(code, f"{code} — {names.get(code, code)}") for code in sorted(codes)]
    for select_field in (form.kind, form.dep, form.statut):  # an unknown value is ignored, not an error page
        if select_field.data not in {value for value, _ in select_field.choices}:
            select_field.data = select_field.default or ""
    return form


def _chosen(filters: FilterForm) -> completion.Filters:
    return completion.Filters(filters.kind.data or None, filters.dep.data or None,
                              filters.statut.data or completion.Status.ALL)


def _list_page(file_form: SectorFileForm | None = None, report=None, rejected: list[str] | None = None,
               status: int = 200):
    territories = _allowed()
    filters = _filters(territories)
    page = request.args.get("page", "1")
    number = int(page) if page.isascii() and page.isdigit() and len(page) < 6 else 1
    listing = completion.to_complete(territories, _chosen(filters), number)
    query = {k: v for k, v in (("kind", filters.kind.data), ("dep", filters.dep.data),
                               ("statut", filters.statut.data)) if v}
    return render_template("suppliers/completion.html", listing=listing, filters=filters, query=query,
                           coverage=completion.coverage(territories), territories=territories,
                           file_form=file_form or SectorFileForm(), report=report, rejected=rejected,
                           ident=services.structure_ident, sector_groups=sector_choices(),
                           page_link=lambda n: url_for(".index", page=n, **query) + "#liste"), status


@bp.get("/animation/secteurs")
@login_required
def index():
    return _list_page()


@bp.post("/animation/secteurs/fichier")
@login_required
def upload():
    _allowed()
    form = SectorFileForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _list_page(form, status=400)
    done = commit_or_report(lambda: completion.import_sector_file(
        current_user, read_upload(form.file.data, completion.MAX_FILE_BYTES, "file"), form.source.data), form)
    if done:
        flash(f"Fichier lu : {done.value.updated} fiche{'s' if done.value.updated > 1 else ''} complétée"
              f"{'s' if done.value.updated > 1 else ''}.", "success")
        return _list_page(SectorFileForm(formdata=None), report=done.value)
    rejected = None
    if isinstance(done.error, ImportRejected):
        rejected = [str(error) for error in done.error.errors]
        form.file.errors = [f"Fichier refusé, aucune fiche modifiée : {len(rejected)} erreur"
                            f"{'s' if len(rejected) > 1 else ''}, détaillée{'s' if len(rejected) > 1 else ''} "
                            "ci-dessous."]
    return _list_page(form, rejected=rejected, status=400)


@bp.get("/animation/secteurs/fiches.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    """The list (with its filters) as a spreadsheet: fill in « Secteurs », send it back as a sector file."""
    territories = _allowed()
    structures = completion.all_to_complete(territories, _chosen(_filters(territories)))
    codes = {s.naf_code for s in structures if s.naf_code}
    labels = dict(db.session.execute(select(NafCode.code_ape, NafCode.label).where(NafCode.code_ape.in_(codes))).all())
    return tabular_response(fmt, "fiches-a-completer", completion.EXPORT_HEADERS,
                            completion.export_rows(structures, labels))


@bp.get("/animation/secteurs/modele-secteurs.<any(csv, xlsx):fmt>")
@login_required
def template_file(fmt: str):
    _allowed()
    return tabular_response(fmt, "modele-secteurs", ["SIRET", "Secteurs"], TEMPLATE_ROWS)


@bp.route("/animation/secteurs/<ident>", methods=["GET", "POST"])
@login_required
def structure(ident: str):
    territories = _allowed()
    target = access.get_or_404(services.find_structure(ident), current_user, "give_sectors")
    if target.claimed or not target.is_published:  # admins pass every rule; these stay out of reach all the same
        abort(404)
    form = SectorsForm()
    form.sectors.choices = sector_choices()
    if request.method == "GET":
        form.sectors.data = [sector.id for sector in target.sectors]
    elif form.validate_on_submit():
        if commit_or_report(lambda: completion.give_sectors(current_user, target, form.sectors.data), form):
            flash(f"Secteurs de « {target.display_name} » enregistrés.", "success")
            following = completion.next_to_complete(territories, target) if request.form.get("suivante") else None
            if following is not None:
                return redirect(url_for(".structure", ident=services.structure_ident(following)))
            return redirect(url_for(".index"))
    elif "csrf_token" in form.errors:
        abort(400)
    return render_template("suppliers/completion_structure.html", structure=target, form=form,
                           naf_label=naf_label(target.naf_code),
                           inferred_ids={sector.id for sector in target.inferred_sectors},
                           profile_url=url_for("suppliers.profile", ident=services.structure_ident(target))), \
        400 if form.errors else 200
