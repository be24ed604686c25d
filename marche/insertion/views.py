"""Pages of contracts, participants and hours declarations."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("insertion", __name__)
