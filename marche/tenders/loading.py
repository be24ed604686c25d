"""How every tender page loads what it shows: the tender, then one of its lots, each 404 when absent or when this
user may not see it (or may not do the page's action on it) — exactly the same answer, so that nothing tells a
hidden tender from one that does not exist."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from ..core.access import can, get_or_404
from ..extensions import db
from .models import Tender, TenderLot


def tender_or_404(tender_id: int, action: str = "view") -> Tender:
    """The tender if this user may see it and, for another `action`, do that too; 404 otherwise."""
    tender = get_or_404(db.session.get(Tender, tender_id), current_user, "view")
    if action != "view" and not can(current_user, action, tender):
        abort(404)
    return tender


def lot_or_404(tender: Tender, lot_id: int) -> TenderLot:
    """One of the tender's lots; 404 for a lot of another tender or none."""
    lot = next((lot for lot in tender.lots if lot.id == lot_id), None)
    if lot is None:
        abort(404)
    return lot
