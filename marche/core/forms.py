"""Form helpers shared by every domain's views."""
from __future__ import annotations

from flask import flash

from .errors import DomainError


def field_error(form, error: DomainError) -> None:
    """Show a service's refusal beside its field, or as a form-level message."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


def add_error(field, message: str) -> None:
    field.errors = list(field.errors) + [message]
