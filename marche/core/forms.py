"""Form helpers shared by every domain's views, and the one commit-or-report step of a view."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import abort, flash
from flask_wtf import FlaskForm
from wtforms import IntegerField

from ..extensions import db
from .errors import DomainError
from .identifiers import parse_int

T = TypeVar("T")


class Form(FlaskForm):
    """The base of every form: WTForms' own messages (« N'est pas un choix valide. »…) in French.
    Flask-WTF's translations need Flask-Babel, which we do not use: `WTF_I18N_ENABLED` is off and
    WTForms reads its bundled French catalogue."""

    class Meta:
        locales = ("fr_FR", "fr")


def field_error(form, error: DomainError) -> None:
    """Show a service's refusal beside its field, or as a form-level message."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


def add_error(field, message: str) -> None:
    field.errors = list(field.errors) + [message]


@dataclass
class Outcome(Generic[T]):
    """What `commit_or_report` did: true when the change is committed; `value` is the service's answer."""

    committed: bool
    value: T | None = None
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.committed


def commit_or_report(operation: Callable[[], T], form: Any = None) -> Outcome[T]:
    """A view's one write: run the service, commit once; or, when it refuses (`DomainError`), roll
    back and show its French message beside its field of `form` (flashed when there is no form or
    no such field). The view then flashes its success and redirects, or renders the form again::

        if form.validate_on_submit() and commit_or_report(lambda: services.publish(user, tender), form):
            flash("Publié.", "success")
            return redirect(...)
    """
    try:
        value = operation()
    except DomainError as error:
        db.session.rollback()
        if form is None:
            flash(error.message, "error")
        else:
            field_error(form, error)
        return Outcome(False, error=error)
    db.session.commit()
    return Outcome(True, value)


def flash_form_errors(form) -> None:
    """A small form posted from a page that shows no form again (a button, a one-field form): each of its errors
    flashed in French with its field's label; a missing or stale CSRF token answers 400."""
    for name, messages in form.errors.items():
        if name == "csrf_token":
            abort(400)
        label = getattr(form, name).label.text if hasattr(form, name) else name
        for message in messages:
            flash(message if ":" in message else f"{label} : {message}", "error")


def write_and_return(form, operation: Callable[[], Any], message: str, back: Any) -> Any:
    """One write of a page made of small forms (a button, a one-field form): the form checked (its errors flashed),
    the service committed once (or its refusal flashed), the success flashed; then `back`, the redirect to the
    page."""
    if not form.validate_on_submit():
        flash_form_errors(form)
        return back
    if commit_or_report(operation):
        flash(message, "success")
    return back


def ascii_int(value: Any) -> int:
    """`coerce` for a select whose values are integers: Python's int() would read « ３ » or « ٣٠ »."""
    if isinstance(value, int):
        return value
    number = parse_int(value) if isinstance(value, str) else None
    if number is None:
        raise ValueError("nombre entier attendu")
    return number


class MaxFileSize:
    """WTForms validator: the upload's size read from its stream (Flask-WTF's FileSize reads the whole
    file into memory to measure it)."""

    def __init__(self, max_bytes: int, message: str | None = None):
        from .uploads import too_large_message

        self.max_bytes = max_bytes
        self.message = message or too_large_message(max_bytes)

    def __call__(self, form, field) -> None:
        from wtforms.validators import StopValidation

        from .uploads import upload_size

        if field.data and (upload_size(field.data) or 0) > self.max_bytes:
            raise StopValidation(self.message)


class AsciiIntegerField(IntegerField):
    """An integer typed with the digits 0-9 only. WTForms' IntegerField calls `int()`, which takes
    « ３ » or « ٣ » as 3 and answers « ² » or « 1e999 » in English; this one answers in French."""

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        raw = valuelist[0]
        if raw is None or not str(raw).strip():
            self.data = None
            return
        number = parse_int(str(raw))
        if number is None:
            self.data = None
            raise ValueError("Nombre entier attendu, écrit avec les chiffres 0 à 9.")
        self.data = number
