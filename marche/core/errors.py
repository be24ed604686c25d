"""Domain errors and the French error pages (400, 403, 404, 405, 413, 429, 500, 503 when the database is
unreachable), JSON under /api/."""
from __future__ import annotations

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError


class DomainError(Exception):
    """A business rule refused the operation; `message` is French and shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


MESSAGES = {
    400: ("Requête invalide", "La requête n'a pas pu être traitée."),
    403: ("Accès refusé", "Vous n'avez pas les droits nécessaires pour cette action."),
    404: ("Page introuvable", "La page demandée n'existe pas ou n'est pas accessible."),
    405: ("Méthode non autorisée", "Cette action n'est pas possible sur cette adresse."),
    413: ("Fichier trop volumineux", "Le fichier ou le formulaire envoyé dépasse la taille autorisée "
                                      "(10 Mo par fichier). Réduisez-le et réessayez."),
    429: ("Trop de tentatives", "Trop de tentatives en peu de temps. Patientez une minute avant de réessayer."),
    500: ("Erreur inattendue", "Une erreur s'est produite de notre côté. L'équipe a été prévenue."),
    503: ("Service momentanément indisponible",
          "La base de données ne répond pas pour le moment. Vos données ne sont pas perdues : "
          "réessayez dans quelques instants."),
}
#: seconds a client should wait before retrying a 503
RETRY_AFTER = 30


def wants_json() -> bool:
    """The API, the health check and data endpoints named `….json` (the map's points) answer errors in JSON."""
    return request.path.startswith("/api/") or request.path == "/healthz" or request.path.endswith(".json")


def render_error(code: int, detail: str | None = None, **extra):
    """The French error page, or under /api/ (and for `….json`) a JSON body {"error", "message"} plus `extra` fields."""
    title, message = MESSAGES.get(code, MESSAGES[500])
    if wants_json():
        return jsonify({"error": title, "message": detail or message, **extra}), code
    return render_template("errors/error.html", code=code, title=title, message=detail or message), code


def init_app(app: Flask) -> None:
    for code in MESSAGES:
        if code in (500, 503):
            continue
        app.register_error_handler(code, lambda e, code=code: render_error(code))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render_error(400, "Le formulaire a expiré ou n'est pas valide (jeton de sécurité manquant). "
                                 "Rechargez la page et réessayez.")

    @app.errorhandler(OperationalError)
    @app.errorhandler(SQLAlchemyTimeoutError)
    def database_unavailable(error):
        """Database unreachable, restarting, or a statement cut by statement_timeout: 503, not 500."""
        from ..extensions import db, login_manager

        app.logger.warning("database unavailable: %s", str(error).splitlines()[0][:300])
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - rolling back on a dead connection can fail as well
            pass
        db.session.remove()
        # the page must not ask the database who is logged in: render it as for a visitor
        g._login_user = login_manager.anonymous_user()
        response = make_response(render_error(503))
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response

    @app.errorhandler(500)
    def server_error(e):
        from ..extensions import db

        db.session.rollback()
        return render_error(500)
