"""WSGI entry point for gunicorn: `gunicorn marche.wsgi:app`.

Each gunicorn worker imports this module after the fork (no `--preload`), so what follows runs once
in every worker, after its application is built."""
import gc

from . import create_app


def freeze_startup_objects() -> None:
    """Move every object alive now (modules, the app, its routes, mappers, settings) out of the garbage
    collector's generations: they live as long as the worker, and a full collection walking them all
    stalled a page load by 100–130 ms about every 130 loads. `MARCHE_GC_FREEZE=0` leaves them in."""
    gc.collect()
    gc.freeze()


app = create_app()
if app.config["GC_FREEZE"]:
    freeze_startup_objects()
