"""Home page, health check (JSON), development mail box, the platform admin's outbox view and the pages of
the documents the worker renders (« en préparation », then the download)."""
from __future__ import annotations

from ipaddress import ip_address
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from . import documents, outbox
from .access import can
from .forms import commit_or_report
from .health import service_status
from .models import DocumentStatus

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    return render_template("core/home.html")


@bp.get("/healthz")
def healthz():
    status = service_status()
    return jsonify(status), 200 if status["database"] == "ok" else 503


#: headers a reverse proxy adds: a request that carries one did not come from this machine's browser
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def _dev_mail_dir() -> Path:
    """The development mail box holds reset and confirmation links: it exists only in development,
    without SMTP, for a browser on this machine (never through a proxy, so a staging site never shows it)."""
    config = current_app.config
    local = ip_address(request.remote_addr or "0.0.0.0").is_loopback and not any(
        header in request.headers for header in PROXY_HEADERS)
    if config["MARCHE_ENV"] != "development" or config["SMTP"]["host"] or not local:
        abort(404)
    return Path(config["MAIL_DIR"])


@bp.get("/dev/mails")
def dev_mails():
    directory = _dev_mail_dir()
    mails = []
    for path in sorted(directory.glob("*.eml"), reverse=True)[:100]:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        mails.append({"name": path.stem, "to": message["To"], "subject": message["Subject"],
                      "body": message.get_body(preferencelist=("plain",)).get_content()})
    return render_template("dev/mails.html", mails=mails)


@bp.get("/admin/outbox")
@login_required
def outbox_admin():
    if not can(current_user, "admin_platform"):
        abort(404)
    return render_template("core/outbox.html", dead=outbox.dead_messages(), pending=outbox.pending_count())


@bp.post("/admin/outbox/<int:message_id>/retry")
@login_required
def outbox_retry(message_id: int):
    message = outbox.dead_message(message_id)
    if message is None or not can(current_user, "admin_platform"):
        abort(404)
    if commit_or_report(lambda: outbox.retry_dead(message)):
        outbox.dispatch([message_id])  # an updated row: the commit hook dispatches only new ones
        flash("Le message a été remis en file d'attente.", "success")
    return redirect(url_for("core.outbox_admin"))


def _own_document(document_id: int):
    """The document asked by this user; 404 for anyone else, exactly as for one that does not exist."""
    document = documents.owned_document(current_user, document_id)
    if document is None:
        abort(404)
    return document


@bp.get("/documents/<int:document_id>")
@login_required
def document(document_id: int):
    """« En préparation » (the page reloads itself) until the worker has rendered it, then its link."""
    return render_template("core/document.html", document=_own_document(document_id), ready=DocumentStatus.READY)


@bp.get("/documents/<int:document_id>/telecharger")
@login_required
def document_download(document_id: int):
    document = _own_document(document_id)
    if document.status != DocumentStatus.READY:
        return redirect(url_for("core.document", document_id=document.id))
    return documents.pdf_response(documents.stored_path(document), document.filename)
