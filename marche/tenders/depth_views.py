"""The market depth panel of a lot's clause page (blueprint "tender_depth", under /consultations): how many
structures of the directory can answer the lot, the ranked list and, below LOW_DEPTH, the levers. The clause page
renders it (template global `lot_depth`); htmx asks it again with the builder's unsaved values (reservation,
required commitments) on every change. Seen by the buyer and its assisting facilitator only; anyone else: 404."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from ..suppliers.models import EnvLabel
from . import matching
from .forms import EmptyForm
from .loading import lot_or_404, tender_or_404
from .matching import RESERVED_KINDS
from .models import TenderLot

bp = Blueprint("tender_depth", __name__, url_prefix="/consultations")


def _lot(tender_id: int, lot_id: int) -> TenderLot:
    """The lot, if this user may see the tender's drafting tools; 404 otherwise, as for one that does not exist."""
    return lot_or_404(tender_or_404(tender_id, "see_draft_tools"), lot_id)


def _draft_values() -> dict:
    """The builder's reservation and required commitments as typed (unknown values are left out, not kept)."""
    reservation = request.form.get("reservation", "")
    env = [value for value in dict.fromkeys(request.form.getlist("required_env"))
           if value in EnvLabel._value2member_map_]
    return {"reservation": reservation if reservation in RESERVED_KINDS else None, "env": env}


def depth_for(lot: TenderLot) -> matching.MarketDepth:
    """The lot's depth as stored (template global `lot_depth`: the clause page shows its panel and a summary
    beside the fields that change it)."""
    return matching.market_depth(lot)


@bp.post("/<int:tender_id>/lots/<int:lot_id>/profondeur")
@login_required
def panel(tender_id: int, lot_id: int):
    """The panel again with the builder's current values (htmx; nothing stored)."""
    lot = _lot(tender_id, lot_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return render_template("tenders/depth/_panel_update.html", lot=lot,
                           depth=matching.market_depth(lot, **_draft_values()))


@bp.get("/<int:tender_id>/lots/<int:lot_id>/profondeur")
@login_required
def page(tender_id: int, lot_id: int):
    """The panel on a page of its own (without JavaScript, or to share the figure inside the buyer's team)."""
    lot = _lot(tender_id, lot_id)
    return render_template("tenders/depth/page.html", tender=lot.tender, lot=lot,
                           depth=matching.market_depth(lot))
