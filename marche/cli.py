"""`flask marche ...` commands: reference data, demo, worker."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .config import PROJECT_ROOT

if TYPE_CHECKING:
    from .search.document_types import DocumentType

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
    _index_catalogue(rebuild=force)


def _index_catalogue(rebuild: bool) -> None:
    """The need box's catalogue index (CPV codes and sectors): caught up with the tables and our synonyms
    (by each document's version), or rebuilt; Meilisearch down only delays it (the box answers from SQL
    meanwhile)."""
    from .search import catalogue

    try:
        caught_up = None if rebuild else catalogue.catch_up()
        if caught_up is not None:
            sent, removed = caught_up
            click.echo(f"Index du catalogue rattrapé : {sent} entrées renvoyées, {removed} retirées." if sent or removed
                       else "Index du catalogue à jour.")
            return
        with click.progressbar(length=0, label="Indexation du catalogue (CPV et secteurs)") as bar:
            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            total = catalogue.rebuild(progress=progress)
        click.echo(f"{total} entrées du catalogue indexées.")
    except Exception as error:  # noqa: BLE001 - the search engine is down: SQL answers meanwhile
        click.echo(f"Index du catalogue non construit (Meilisearch indisponible : {error}) ; "
                   "relancez `flask marche reindex`.", err=True)


def _run_import(func, path: Path, force: bool) -> None:
    """Import a file unless this exact file was already imported (`--force` imports anyway)."""
    from .core.imports import ImportRejected, print_progress
    from .core.reference_data import file_sha256, is_loaded, record_loaded
    from .extensions import db
    from .core.models import ReferenceDataset
    from .suppliers.importer import sector_coverage
    from .suppliers.inference import tables_digest

    # the sector tables take part: once they change, the same file imports again and deduces anew
    name = f"import:{path.name}"
    digest = hashlib.sha256(f"{file_sha256(path)}:{tables_digest()}".encode()).hexdigest()
    if not force and is_loaded(ReferenceDataset, name, digest):
        click.echo(f"{path.name} : déjà importé à l'identique (--force pour réimporter)")
        return
    try:
        report = func(path, progress=print_progress(f"{path.name} : lecture"))
    except ImportRejected as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    record_loaded(ReferenceDataset, name, digest, report.created + report.updated + report.unchanged)
    db.session.commit()
    click.echo(f"{path.name} :\n  " + "\n  ".join(report.lines()))
    click.echo("\n".join(sector_coverage().lines()))


@marche.command("import-structures")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Réimporter même si le fichier n'a pas changé.")
def import_structures(path: Path, force: bool) -> None:
    """Import SIAE / GEIQ / EA structures (data/structures_siae_geiq_ea.csv), or an EA / EATT / EITI list
    in the ministry's columns — SIRET, raison sociale, adresse, code postal, commune, type — as CSV or
    XLSX (idempotent upsert by SIRET, all or nothing, claimed profiles left untouched)."""
    from .suppliers.importer import import_structure_file as run

    _run_import(run, path, force)


@marche.command("import-esat")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Réimporter même si le fichier n'a pas changé.")
def import_esat(path: Path, force: bool) -> None:
    """Import ESAT from the FINESS list (idempotent upsert by FINESS, then SIRET)."""
    from .suppliers.importer import import_esat as run

    _run_import(run, path, force)


@marche.command("import-sectors")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="D'où viennent ces secteurs ; affiché sur chaque fiche complétée.")
def import_sectors(path: Path, source: str) -> None:
    """Give the sectors of a file (columns « SIRET » and « Secteurs », CSV or XLSX) to the unclaimed profiles it
    names; all or nothing; claimed profiles and sectors another source gave are left and reported."""
    from .core.errors import DomainError
    from .extensions import db
    from .suppliers.completion import import_sector_file
    from .suppliers.importer import sector_coverage

    try:
        report = import_sector_file(None, path.read_bytes(), source)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"{path.name} :\n  " + "\n  ".join(report.lines()))
    click.echo("\n".join(sector_coverage().lines()))


@marche.command("reindex")
@click.option("--if-needed", is_flag=True,
              help="Ne renvoyer que les documents dont la version (updated_at) diffère de celle de l'index.")
def reindex(if_needed: bool) -> None:
    """Rebuild the Meilisearch index of every document type (structures…) from the database, with a
    progress bar; `--if-needed` only catches up what differs."""
    from .search import document_types

    for document_type in document_types.registered():
        if not (if_needed and _catch_up(document_type)):
            _rebuild(document_type)
    _index_catalogue(rebuild=not if_needed)


def _catch_up(document_type: DocumentType) -> bool:
    """Reconcile an index that has documents (False when there is none yet, or when its filterable attributes are
    not the type's: a new facet means documents written without it, so it must be built again)."""
    from .search.indexer import index_of, reconcile

    try:
        indexed = index_of(document_type).get_stats().number_of_documents
        filterable = index_of(document_type).get_filterable_attributes()
    except Exception:  # noqa: BLE001 - no index yet: build it
        indexed, filterable = -1, []
    if indexed <= 0:
        return False
    wanted = set(document_type.settings.get("filterableAttributes", []))
    if {str(a) for a in filterable or []} != wanted:
        click.echo(f"Index des {document_type.label} à reconstruire : ses attributs filtrables ont changé.")
        return False
    # compare versions, not counts: an update lost during an outage leaves the count right
    sent, removed = reconcile(document_type)
    if sent or removed:
        click.echo(f"Index rattrapé : {sent} fiches renvoyées, {removed} retirées.")
    else:
        click.echo(f"Index à jour ({indexed} {document_type.label}).")
    return True


def _rebuild(document_type: DocumentType) -> None:
    """Build the index from the database, with a progress bar."""
    from .search.indexer import reindex as rebuild

    with click.progressbar(length=0, label=f"Indexation des {document_type.label}") as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        total = rebuild(document_type, progress=progress)
    click.echo(f"{total} {document_type.label} indexées.")


@marche.command("demo")
def demo() -> None:
    """Create the demo accounts (one per role) and print them (idempotent)."""
    from .demo import DemoRefused, create_demo
    from .extensions import db

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        try:
            accounts = create_demo()
        except DemoRefused as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
        db.session.commit()
    click.echo("Comptes de démonstration :")
    for account in accounts:
        click.echo(f"  {account['role']:<25} {account['email']:<40} mot de passe : {account['password']}")


@marche.command("worker")
@click.option("--burst", is_flag=True, help="Traiter ce qui est en attente puis s'arrêter.")
def worker(burst: bool) -> None:
    """Process the outbox (RQ on Redis when REDIS_URL is set, the table otherwise)."""
    from .core.outbox import run_worker

    click.echo("Worker démarré (" + ("RQ sur Redis" if current_app.config["REDIS_URL"] else "sans Redis") + ").")
    run_worker(current_app._get_current_object(), burst=burst)


@marche.command("prepare")
@click.pass_context
def prepare(ctx: click.Context) -> None:
    """Everything `make run` needs, in one process: migrate, reference data, real structures,
    search index, demo. Each step is idempotent and skips work already done."""
    from flask_migrate import upgrade

    click.echo("==> Migrations")
    upgrade()
    click.echo("==> Données de référence")
    ctx.invoke(load_reference, data_dir=DATA_DIR, force=False)
    click.echo("==> Structures inclusives (listes réelles SIAE/GEIQ/EA et ESAT)")
    ctx.invoke(import_structures, path=DATA_DIR / "structures_siae_geiq_ea.csv", force=False)
    ctx.invoke(import_esat, path=DATA_DIR / "esat_finess.csv", force=False)
    click.echo("==> Index de recherche")
    ctx.invoke(reindex, if_needed=True)
    if current_app.config["MARCHE_ENV"] == "production":
        click.echo("==> Production : aucun compte de démonstration")
        return
    click.echo("==> Données de démonstration")
    ctx.invoke(demo)


def init_app(app: Flask) -> None:
    app.cli.add_command(marche)
