"""The pages a public site owes: legal notice, personal data, terms of use, accessibility statement and a
readable status of the services. They hold no data of their own and need no access rule: they are public."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
