"""The state of the services the portal depends on, for `/healthz` (JSON) and the readable status page."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from sqlalchemy import text

from ..extensions import db
from . import meili
from .outbox import rq_queue

#: what each state means for a visitor, in French (the JSON keeps the short codes)
STATE_LABELS = {"ok": "opérationnel", "down": "indisponible", "inline": "sans file (traitements immédiats)"}
SERVICE_LABELS = {
    "database": ("Base de données", "Comptes, fiches, favoris : sans elle, le portail ne répond pas."),
    "search": ("Moteur de recherche", "Sans lui, la recherche passe par la base de données : mêmes résultats, "
                                      "un peu plus lentement."),
    "queue": ("File des traitements différés", "Courriels et mises à jour de l'index ; sans elle, ils attendent "
                                                "et repartent au retour du service."),
}


def database_status() -> str:
    try:
        db.session.execute(text("select 1"))
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "down"
        db.session.rollback()
        return "down"


def queue_status() -> str:
    queue = rq_queue(current_app)
    if queue is None:
        return "inline"
    try:
        queue.connection.ping()
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "down"
        return "down"


def _in_app_context(app, func):
    with app.app_context():
        return func()


def service_status() -> dict[str, str]:
    """The three checks run side by side: with every service frozen, the answer still comes after
    the slowest timeout (the database's connect timeout, 3 s), not after their sum."""
    app = current_app._get_current_object()
    with ThreadPoolExecutor(max_workers=2) as pool:
        search = pool.submit(_in_app_context, app, meili.healthy)
        queue = pool.submit(_in_app_context, app, queue_status)
        database = database_status()
        return {"database": database, "search": "ok" if search.result() else "down", "queue": queue.result()}
