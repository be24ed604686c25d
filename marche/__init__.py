"""marche: portail de l'achat public inclusif. `create_app` wires everything together."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from .config import PROJECT_ROOT, Config, ConfigError


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask application; `config` overrides settings read from the environment."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_mapping(Config.from_env(Path(app.instance_path), overrides=config).as_flask())
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

    from .core import errors, filters, input as input_layer, outbox, security
    from .core.views import bp as core_bp
    from .core import mail as _mail  # noqa: F401  (registers the mail outbox handler)
    from .search import tasks as _search_tasks  # noqa: F401
    from .suppliers import tasks as _supplier_tasks  # noqa: F401  (scheduled work of the worker)
    from .accounts.views import bp as accounts_bp
    from .geo.views import bp as geo_bp
    from .reference.views import bp as reference_bp
    from .api.views import bp as api_bp
    from .search.views import bp as search_bp
    from .suppliers.check_views import bp as supplier_check_bp
    from .suppliers.views import bp as suppliers_bp

    from .geo import models as _geo_models  # noqa: F401  (all models known to migrations)
    from .reference import models as _reference_models  # noqa: F401
    from .suppliers import models as _supplier_models  # noqa: F401

    errors.init_app(app)
    security.init_app(app)
    input_layer.init_app(app)
    filters.init_app(app)
    outbox.init_app(app)
    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(geo_bp)
    app.register_blueprint(reference_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(suppliers_bp)
    app.register_blueprint(supplier_check_bp)
    app.register_blueprint(api_bp)

    from . import cli

    cli.init_app(app)
    return app


__all__ = ["create_app", "ConfigError"]
