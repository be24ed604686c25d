"""Form helpers shared by every domain's views."""
from __future__ import annotations

from flask import flash
from wtforms import IntegerField

from .errors import DomainError
from .identifiers import parse_int


def field_error(form, error: DomainError) -> None:
    """Show a service's refusal beside its field, or as a form-level message."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


def add_error(field, message: str) -> None:
    field.errors = list(field.errors) + [message]


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
