"""« Ma fiche »: the profiles a structure's organisation manages, its claims awaiting a decision, and
the unclaimed profiles its SIRET or SIREN matches, offered to claim in one click (issue 18 item 4)."""
from __future__ import annotations

from flask import abort, g, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..core import access
from . import services
from .views import bp, profile_url


@bp.get("/ma-fiche")
@login_required
def my_profiles():
    if not access.can(current_user, "my_profiles"):
        abort(404)
    owned = services.owned_structures(current_user)
    pending = services.pending_claims_of(current_user)
    offers = services.claim_offers(current_user)
    if len(owned) == 1 and not pending and not offers:
        return redirect(url_for("suppliers.edit", ident=services.structure_ident(owned[0])))
    return render_template("suppliers/my_profiles.html", owned=owned, pending=pending, offers=offers,
                           profile_url=profile_url, ident=services.structure_ident,
                           more_offers=len(offers) >= services.MAX_CLAIM_OFFERS)


def owns_profile() -> bool:
    """For the header menu: does the signed-in user's organisation manage a profile? (once per request)"""
    if not current_user.is_authenticated:
        return False
    if "marche_owns_profile" not in g:
        g.marche_owns_profile = bool(services.owned_structures(current_user))
    return g.marche_owns_profile


def landing_after_login(user) -> str | None:
    """Where a structure's member goes first after signing in or creating its organisation: « Ma fiche »,
    while its organisation manages no profile yet and unclaimed ones match its SIRET or SIREN (None
    otherwise: the usual page; a manager finds other establishments on « Ma fiche » itself)."""
    if services.owned_structures(user) or not services.claim_offers(user):
        return None
    return url_for("suppliers.my_profiles")
