"""`flask marche ...` commands: reference data, demo, worker."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import PROJECT_ROOT

marche = AppGroup("marche", help="Commandes du portail marche.")
DATA_DIR = PROJECT_ROOT / "data"


@marche.command("load-reference")
@click.option("--data-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=DATA_DIR)
@click.option("--force", is_flag=True, help="Recharger même si les fichiers n'ont pas changé.")
def load_reference(data_dir: Path, force: bool) -> None:
    """Load communes, departments, regions, ZRR, sectors, CPV and NAF (idempotent)."""
    from .extensions import db
    from .geo.loader import load_geography
    from .reference.loader import load_catalogues

    for name, count in {**load_geography(data_dir, force=force), **load_catalogues(data_dir, force=force)}.items():
        click.echo(f"  {name:<28} {count}")
    db.session.commit()


def _run_import(func, path: Path) -> None:
    from .core.imports import ImportRejected
    from .extensions import db

    try:
        report = func(path)
    except ImportRejected as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"{path.name} : " + "\n  ".join(report.lines()))


@marche.command("import-structures")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_structures(path: Path) -> None:
    """Import SIAE / GEIQ / EA structures from a CSV (idempotent upsert by SIRET)."""
    from .suppliers.importer import import_structures as run

    _run_import(run, path)


@marche.command("import-esat")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_esat(path: Path) -> None:
    """Import ESAT from the FINESS list (idempotent upsert by FINESS, then SIRET)."""
    from .suppliers.importer import import_esat as run

    _run_import(run, path)


@marche.command("demo")
def demo() -> None:
    """Create the demo accounts (one per role) and print them (idempotent)."""
    from .demo import create_demo
    from .extensions import db

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        accounts = create_demo()
        db.session.commit()
    click.echo("Comptes de démonstration :")
    for account in accounts:
        click.echo(f"  {account['role']:<22} {account['email']:<40} mot de passe : {account['password']}")


@marche.command("worker")
@click.option("--burst", is_flag=True, help="Traiter ce qui est en attente puis s'arrêter.")
def worker(burst: bool) -> None:
    """Process the outbox (RQ on Redis when REDIS_URL is set, the table otherwise)."""
    from .core.outbox import run_worker

    click.echo("Worker démarré (" + ("RQ sur Redis" if current_app.config["REDIS_URL"] else "sans Redis") + ").")
    run_worker(current_app._get_current_object(), burst=burst)


def init_app(app: Flask) -> None:
    app.cli.add_command(marche)
