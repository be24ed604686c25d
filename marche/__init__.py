"""marche: portail de l'achat public inclusif. `create_app` wires everything together."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from .config import PROJECT_ROOT, Config, ConfigError


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask application; `config` overrides settings read from the environment."""
    from .core import assets

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
        # url_for('static', …) gives /static/<digest of the tree>/…: cached a year, renewed by any change
        static_url_path=f"/static/{assets.static_version()}",
    )
    app.config.from_mapping(Config.from_env(Path(app.instance_path), overrides=config).as_flask())
    assets.init_app(app)
    if app.config["PROXY_FIX_X_FOR"]:
        # only when a known number of proxies sits in front: otherwise X-Forwarded-For is attacker-chosen
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])

    from .extensions import csrf, db, init_limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    init_limiter(app)

    from . import accounts, api, clauses, core, geo, groupings, insertion, pages, reference, search, suppliers, tenders

    # each domain registers its own blueprints, access rules, outbox handlers and scheduled work
    for domain in (core, accounts, geo, reference, search, suppliers, clauses, tenders, groupings, insertion, api, pages):
        domain.init_app(app)

    from . import cli

    cli.init_app(app)
    return app


__all__ = ["create_app", "ConfigError"]
