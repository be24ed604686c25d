"""Users, organisations, memberships and roles; signup, login, confirmation, join requests."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Access rules and pages of accounts."""
    from ..core import access as core_access
    from . import access, models
    from .views import bp

    core_access.register(access.RULES)
    app.extensions.setdefault("marche_models", set()).add(models.__name__)  # tables known to Alembic
    app.register_blueprint(bp)
