"""Public REST API v1 (JSON): every /api/v1/ route, its schemas and its generated OpenAPI document."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API blueprint through flask-smorest, which records its routes for the OpenAPI document."""
    from .framework import register
    from .views import bp

    register(app, bp)
