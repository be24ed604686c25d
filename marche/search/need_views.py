"""« Décrire un besoin »: the demo page of the need box and the box's htmx suggestions."""
from __future__ import annotations

import re

from flask import Blueprint, render_template, request

from .need import MAX_LENGTH, suggest_need

bp = Blueprint("need", __name__)
#: the box's id prefixes the ids of the partial's headings: letters, digits, - and _ only
_BOX_ID = re.compile(r"[^A-Za-z0-9_-]")


def _text() -> str:
    # a text longer than the box accepts is read by its start, as the box's maxlength cuts it
    return request.args.get("q", "")[:MAX_LENGTH]


@bp.get("/besoin")
def page():
    """The box, and what it suggests for `q` (without JavaScript, the form posts the text here)."""
    text = _text()
    return render_template("search/need.html", text=text, found=suggest_need(text) if text.strip() else None)


@bp.get("/besoin/suggestions")
def suggestions():
    """The suggestions for the box's text, as buttons (htmx partial)."""
    text = _text()
    return render_template("search/_need_suggestions.html", text=text,
                           found=suggest_need(text) if text.strip() else None,
                           box=_BOX_ID.sub("", request.args.get("box", ""))[:40] or "besoin")
