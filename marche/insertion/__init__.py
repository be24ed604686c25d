"""Contracts and insertion hours: every insertion clause followed from the award to the bilan (contracts,
pseudonymous participants, hours declarations and their import, validation, month locks, dashboards, bilans,
reminders)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ..core import access as core_access, documents, outbox
    from ..tenders import award
    from . import access, bilans, dashboard_views, import_views, imports, indicators, models, reminders, services, \
        views

    app.extensions.setdefault("marche_models", set()).add(models.__name__)
    core_access.register(access.RULES)
    outbox.subscribe(award.LOT_AWARDED, services.follow_award)
    outbox.register_handler(imports.IMPORT_JOB, imports.run_import, on_dead=imports.import_given_up)
    outbox.register_periodic("insertion.reminders", 3600,
                             lambda: reminders.reminders_task(behind=indicators.is_behind))
    documents.register_document(bilans.CONTRACT_BILAN, bilans.contract_bilan_document)
    documents.register_document(bilans.YEAR_BILAN, bilans.year_bilan_document)
    app.add_template_global(dashboard_views.contract_figures, "contract_figures")
    app.register_blueprint(views.bp)
    app.register_blueprint(import_views.bp)
    app.register_blueprint(dashboard_views.bp)
