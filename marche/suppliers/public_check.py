"""« Ce fournisseur est-il inclusif ? »: the public check of one SIRET or SIREN, without an account.

A GET form (the answer has an address one can share); each address may ask PUBLIC_CHECK_LIMIT times
(Flask-Limiter, the storage of the other limits): the page is public, the directory is not to be
scraped through it. The bulk check of a whole list stays with logged-in buyers (check_views).
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from wtforms import StringField

from ..core.forms import Form
from ..extensions import limiter
from .check import MAX_ONE_CHARS, CheckInputError, check_one, structures_of
from .models import StructureKind

bp = Blueprint("public_check", __name__)

#: per client address; a form shown without a number is not counted
PUBLIC_CHECK_LIMIT = "20 per minute;200 per day"
#: a SIREN may have dozens of establishments in the directory: the page lists this many
SHOWN_ESTABLISHMENTS = 20


class PublicCheckForm(Form):
    class Meta:
        csrf = False  # a GET form that changes nothing

    siret = StringField("Numéro SIRET ou SIREN du fournisseur",
                        description="14 chiffres (SIRET) ou 9 (SIREN) ; espaces et points acceptés. "
                                    "Exemple : 751 870 494 00026")


def _not_asking() -> bool:
    return "siret" not in request.args


@bp.get("/ce-fournisseur-est-il-inclusif")
@limiter.limit(PUBLIC_CHECK_LIMIT, exempt_when=_not_asking)
def check():
    form = PublicCheckForm(request.args)
    line, structures, status = None, [], 200
    if not _not_asking():
        try:
            line = check_one(form.siret.data or "")
        except CheckInputError as error:
            form.siret.errors = [error.message]
            status = 400
        else:
            structures = structures_of(line, SHOWN_ESTABLISHMENTS)
    return render_template("suppliers/public_check.html", form=form, line=line, structures=structures,
                           kinds=StructureKind, max_chars=MAX_ONE_CHARS), status
