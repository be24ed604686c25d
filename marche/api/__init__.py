"""Public REST API v1 (JSON) over the directory, and its OpenAPI document."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
