"""The watch pages `/veille`: the user's saved searches (list, save from the search page, edit the name and
frequency, delete: the owner only, anyone else gets 404), the Atom feed of one saved search and the
iCalendar feed of a structure's deadlines, each at a private token URL (a wrong token: 404)."""
from __future__ import annotations

from datetime import datetime, timezone
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..search.query import QueryError
from ..suppliers.models import Structure
from ..suppliers.services import owned_structures
from .models import WatchFrequency
from .search_views import RESERVED_LABELS
from . import watch

bp = Blueprint("tender_watch", __name__)


def _my_structures() -> list[Structure]:
    """The profiles the user's organisations manage: their members may create the calendar's token."""
    return owned_structures(current_user)


@bp.get("/veille")
@login_required
def index():
    structures = _my_structures()
    from .models import RelayPreference

    tokens = {p.structure_id: p.calendar_token for p in db.session.execute(
        select(RelayPreference).where(RelayPreference.structure_id.in_([s.id for s in structures]))).scalars()}
    return render_template("tenders/watch/index.html", searches=watch.of_user(current_user.id),
                           frequencies=WatchFrequency, structures=structures, tokens=tokens)


@bp.post("/veille/nouvelle")
@login_required
def create():
    pairs = [(key[4:], value) for key, value in request.form.items(multi=True) if key.startswith("arg_")]
    try:
        saved = watch.create(current_user.id, request.form.get("name"), pairs,
                             request.form.get("frequency") or WatchFrequency.DAILY)
    except watch.WatchError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("tender_watch.index"))
    db.session.commit()
    flash(f"Recherche « {saved.name} » enregistrée : vous recevrez les nouvelles consultations chaque jour. "
          "Modifiez la fréquence ci-dessous.", "success")
    return redirect(url_for("tender_watch.edit", saved_id=saved.id))


def _saved_or_404(saved_id: int):
    """The user's own saved search; anyone else's (or none) answers 404."""
    saved = watch.owned(current_user.id, saved_id)
    if saved is None:
        abort(404)
    return saved


@bp.route("/veille/<int:saved_id>", methods=["GET", "POST"])
@login_required
def edit(saved_id: int):
    saved = _saved_or_404(saved_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            watch.update(saved, request.form.get("name"), request.form.get("frequency"))
        except watch.WatchError as error:
            db.session.rollback()
            saved = watch.owned(current_user.id, saved_id)
            errors[error.field or "name"] = error.message
        else:
            db.session.commit()
            flash("Recherche enregistrée modifiée.", "success")
            return redirect(url_for("tender_watch.index"))
    try:
        query_error = None
        search_args = watch.query_of(saved).to_args()
    except QueryError as error:
        query_error, search_args = error.message, []
    feed_url = current_app.config["BASE_URL"].rstrip("/") + url_for("tender_watch.atom", token=saved.feed_token)
    return render_template("tenders/watch/edit.html", saved=saved, frequencies=WatchFrequency, errors=errors,
                           feed_url=feed_url, query_error=query_error, search_args=search_args), 400 if errors else 200


@bp.post("/veille/<int:saved_id>/supprimer")
@login_required
def delete(saved_id: int):
    db.session.delete(_saved_or_404(saved_id))
    db.session.commit()
    flash("Recherche enregistrée supprimée.", "success")
    return redirect(url_for("tender_watch.index"))


@bp.post("/veille/<int:saved_id>/nouvelle-adresse")
@login_required
def renew_feed(saved_id: int):
    saved = _saved_or_404(saved_id)
    watch.renew_feed_token(saved)
    db.session.commit()
    flash("Nouvelle adresse du flux : l'ancienne ne répond plus ; remplacez-la dans votre lecteur.", "success")
    return redirect(url_for("tender_watch.edit", saved_id=saved.id))


@bp.post("/veille/calendrier/<int:structure_id>")
@login_required
def calendar_create(structure_id: int):
    if structure_id not in {s.id for s in _my_structures()}:
        abort(404)
    renew = request.form.get("renew") == "1"
    watch.calendar_token(structure_id, renew=renew)
    db.session.commit()
    flash("Nouvelle adresse du calendrier : l'ancienne ne répond plus ; remplacez-la dans votre agenda." if renew
          else "Lien du calendrier créé : ajoutez-le à votre agenda.", "success")
    return redirect(url_for("tender_watch.index"))


# --- feeds -------------------------------------------------------------------------------------------------

def _atom_time(value: datetime | str | None) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value or datetime.now(timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/veille/flux/<token>.atom")
def atom(token: str):
    saved = watch.by_feed_token(token)
    if saved is None:
        abort(404)
    try:
        hits = watch.feed_tenders(saved)
    except QueryError:
        hits = []
    base = current_app.config["BASE_URL"].rstrip("/")
    self_url = base + url_for("tender_watch.atom", token=token)
    updated = max((h["published_at"] for h in hits if h.get("published_at")), default=None)
    entries = []
    for hit in hits:
        link = base + url_for("tenders.show", tender_id=hit["id"])
        summary = f"{hit['buyer_name']} — {hit['kind_label']}"
        if hit.get("answers_deadline"):
            summary += f" — date limite : {_atom_time(hit['answers_deadline'])}"
        if hit.get("reserved"):
            summary += " — " + ", ".join(RESERVED_LABELS.get(r, r) for r in hit["reserved"])
        entries.append(
            f"<entry><id>{escape(base)}/consultations/{hit['id']}</id><title>{escape(hit['title'])}</title>"
            f"<link rel=\"alternate\" type=\"text/html\" href=\"{escape(link)}\"/>"
            f"<updated>{_atom_time(hit.get('published_at'))}</updated>"
            f"<published>{_atom_time(hit.get('published_at'))}</published>"
            f"<author><name>{escape(hit['buyer_name'] or 'Acheteur')}</name></author>"
            f"<summary>{escape(summary)}</summary></entry>")
    body = ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">"
            f"<id>{escape(self_url)}</id><title>{escape('Veille : ' + saved.name)}</title>"
            f"<updated>{_atom_time(updated or saved.updated_at)}</updated>"
            f"<link rel=\"self\" href=\"{escape(self_url)}\"/>"
            f"<link rel=\"alternate\" type=\"text/html\" href=\"{escape(base + watch._search_path(saved))}\"/>"
            "<author><name>Marché inclusif</name></author>" + "".join(entries) + "</feed>")
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def ical_escape(text: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma escaped, line breaks as \\n."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def ical_fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF and a space (never cutting a UTF-8 character)."""
    out, current, size = [], "", 0
    for char in line:
        length = len(char.encode("utf-8"))
        if size + length > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += length
    out.append(current)
    return "\r\n".join(out)


def calendar_body(structure_id: int, base: str, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    host = base.split("//", 1)[-1].split("/", 1)[0] or "marche"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Marche inclusif//Veille//FR", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:" + ical_escape("Dates limites de réponse")]
    for tender in watch.interested_deadlines(structure_id, now):
        start = tender.answers_deadline.astimezone(timezone.utc)
        lines += ["BEGIN:VEVENT", f"UID:tender-{tender.id}-deadline@{host}", f"DTSTAMP:{stamp}",
                  f"DTSTART:{start.strftime('%Y%m%dT%H%M%SZ')}", f"DTEND:{start.strftime('%Y%m%dT%H%M%SZ')}",
                  "SUMMARY:" + ical_escape(f"Date limite : {tender.title}"),
                  "DESCRIPTION:" + ical_escape(f"Réponse à remettre avant cette heure. {tender.title}"),
                  "URL:" + base + url_for("tenders.show", tender_id=tender.id), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(ical_fold(line) + "\r\n" for line in lines)


@bp.get("/veille/calendrier/<token>.ics")
def calendar(token: str):
    structure_id = watch.structure_by_calendar_token(token)
    if structure_id is None:
        abort(404)
    body = calendar_body(structure_id, current_app.config["BASE_URL"].rstrip("/"))
    response = Response(body.encode("utf-8"), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
