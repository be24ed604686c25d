"""Groupings (GME): structures and companies answering one tender together, from the first invitation to the
award (models, services, access, partner suggestions, DC1-style summary and convention, pages)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ..core import access as core_access, outbox
    from ..tenders import award
    from . import access, models, outcomes, views

    app.extensions.setdefault("marche_models", set()).add(models.__name__)
    core_access.register(access.RULES)
    award.grouping_holder = outcomes.holder
    outbox.subscribe(award.LOT_AWARDED, outcomes.follow_award)
    outbox.subscribe(award.LOT_UNSUCCESSFUL, outcomes.follow_unsuccessful)
    app.add_template_global(outcomes.answered_lot, "lot_groupings")
    app.add_template_global(views.tender_panel, "groupings_panel")
    app.add_template_global(views.log_line, "grouping_action")
    app.add_template_global(views.board, "groupings_board")
    app.add_template_global(views.completing, "groupings_completing")
    app.register_blueprint(views.bp)
