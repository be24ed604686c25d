from flask import Blueprint

bp = Blueprint("groupings", __name__)


def tender_panel(tender):
    return None
