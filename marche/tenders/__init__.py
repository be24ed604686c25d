"""Tenders (consultations): a buyer drafts lots and their clauses, has them validated, publishes, awards."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Tables known to Alembic; each part's rules, pages and outbox work."""
    from . import models

    app.extensions.setdefault("marche_models", set()).add(models.__name__)

    # --- workflow: moves, validation, assistance, award (workflow.py, award.py, workflow_*.py) ---
    from ..core import access as core_access, outbox
    from . import award, workflow, workflow_access, workflow_views

    core_access.register(workflow_access.RULES)
    outbox.register_handler(award.LOT_AWARDED, award.record_award)
    outbox.register_periodic("tenders.close_due", 300, workflow.close_due_task)
    app.add_template_global(workflow_views.panel_for, "workflow_panel")
    app.register_blueprint(workflow_views.bp)
