"""Public information pages. The operator's identity comes from the configuration (OPERATOR_*), so that
another operator deploys the same code with its own legal notice."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, render_template

from ..accounts.services import LOGIN_FAILURE_RETENTION
from ..core import dates
from ..core.health import SERVICE_LABELS, STATE_LABELS, service_status
from ..suppliers.contact import RETENTION as CONTACT_RETENTION

bp = Blueprint("pages", __name__)


def _operator() -> dict[str, str]:
    """Each field the operator did not set reads « non renseigné » rather than an invented value."""
    return {key: value or "non renseigné" for key, value in current_app.config.get("OPERATOR", {}).items()}


@bp.get("/mentions-legales")
def legal_notice():
    return render_template("pages/legal_notice.html", operator=_operator())


@bp.get("/donnees-personnelles")
def personal_data():
    config = current_app.config
    retention = {
        "login_failures_minutes": int(LOGIN_FAILURE_RETENTION.total_seconds() // 60),
        "confirmation_hours": config["TOKEN_MAX_AGE"] // 3600,
        "reset_hours": config["RESET_TOKEN_MAX_AGE"] // 3600,
        "invitation_days": config["INVITATION_MAX_AGE"] // 86400,
        "contact_messages_days": CONTACT_RETENTION.days,
    }
    return render_template("pages/personal_data.html", operator=_operator(), retention=retention)


@bp.get("/conditions-d-utilisation")
def terms():
    return render_template("pages/terms.html", operator=_operator())


@bp.get("/accessibilite")
def accessibility():
    return render_template("pages/accessibility.html", operator=_operator())


@bp.get("/etat-des-services")
def status():
    """The same checks as /healthz, in words; the page answers 503 like the JSON when the database is down."""
    states = service_status()
    services = [{"code": code, "name": SERVICE_LABELS[code][0], "effect": SERVICE_LABELS[code][1],
                 "state": state, "label": STATE_LABELS[state]} for code, state in states.items()]
    checked_at = datetime.now(dates.PARIS)
    code = 200 if states["database"] == "ok" else 503
    return render_template("pages/status.html", services=services, checked_at=checked_at), code
