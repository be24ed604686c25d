"""WSGI entry point for gunicorn: `gunicorn marche.wsgi:app`."""
from . import create_app

app = create_app()
