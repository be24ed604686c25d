"""Static files: versioned by their content, compressed once, cached a year by browsers.

Every `url_for('static', …)` points under `/static/<version>/`, where `<version>` is a digest of the whole
`marche/static/` tree: any change to any file gives new addresses, so each of them can be cached for a
year as immutable, relative references inside CSS (fonts, icons) included. WhiteNoise serves them, with
the gzip or Brotli copy the browser accepts (written next to each file by `scripts/setup.sh`, see
`compress_static`). The plain `/static/<path>` stays served for hand-written addresses, revalidated on
every use. A compressed copy older than its source is deleted at start-up, never served.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
COMPRESSED_SUFFIXES = (".gz", ".br")
ONE_YEAR_S = 365 * 24 * 3600


def source_files(root: Path) -> Iterator[Path]:
    """Every static file we serve, without the compressed copies, in a stable order."""
    for directory, subdirectories, names in os.walk(root):
        subdirectories.sort()
        for name in sorted(names):
            if not name.endswith(COMPRESSED_SUFFIXES) and not name.startswith("."):
                yield Path(directory, name)


@lru_cache(maxsize=4)
def static_version(root: Path = STATIC_DIR) -> str:
    """A digest of every file's path and content: the same tree gives the same version on every server."""
    digest = hashlib.sha256()
    for path in source_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _fresh(source: Path, copy: Path) -> bool:
    """WhiteNoise's compressor gives each copy its source's modification time."""
    return copy.exists() and copy.stat().st_mtime == source.stat().st_mtime


def drop_stale_compressed(root: Path = STATIC_DIR) -> int:
    """Delete compressed copies whose source changed or disappeared; return how many."""
    dropped = 0
    for directory, _, names in os.walk(root):
        for name in names:
            if name.endswith(COMPRESSED_SUFFIXES):
                copy = Path(directory, name)
                source = copy.with_suffix("")
                if not source.exists() or not _fresh(source, copy):
                    copy.unlink(missing_ok=True)  # another worker may have dropped it first
                    dropped += 1
    return dropped


def compress_static(root: Path = STATIC_DIR) -> int:
    """Write the gzip and Brotli copies that are missing or stale; return how many sources were compressed."""
    compressor = Compressor(quiet=True)
    done = 0
    for source in source_files(root):
        if not compressor.should_compress(source.name):
            continue
        copies = [source.with_name(source.name + suffix) for suffix in COMPRESSED_SUFFIXES]
        if any(_fresh(source, copy) for copy in copies):
            continue  # compressed already (a copy that did not pay off is never written)
        done += bool(compressor.compress(str(source)))
    return done


class StaticFiles(WhiteNoise):
    """WhiteNoise that finds each file on its first request and remembers it, instead of listing the
    ~1 000 files of the tree (about a second) every time an application is built. Only files found are
    remembered, so unknown addresses cannot grow the memory; the tree does not change under a running
    process (a deployment restarts it)."""

    def __init__(self, application, **options):
        super().__init__(application, autorefresh=True, **options)
        self._found: dict[str, object] = {}

    def find_file(self, url):
        found = self._found.get(url)
        if found is None:
            found = super().find_file(url)
            if found is not None:
                self._found[url] = found
        return found


@lru_cache(maxsize=4)
def _cleaned(root: Path) -> int:
    """Stale copies are dropped once per process, not once per application."""
    return drop_stale_compressed(root)


def init_app(app: Flask) -> None:
    """Serve the static tree through WhiteNoise: versioned addresses immutable for a year, plain ones
    revalidated; both with the security headers of every other answer."""
    from .security import security_headers

    version = static_version(Path(app.static_folder))
    _cleaned(Path(app.static_folder))
    production = app.config.get("MARCHE_ENV") == "production"
    prefix = f"/static/{version}/"

    def add_headers(headers, path: str, url: str) -> None:
        for name, value in security_headers(None, production).items():
            headers[name] = value

    server = StaticFiles(app.wsgi_app, max_age=0, add_headers_function=add_headers,
                         immutable_file_test=lambda path, url: url.startswith(prefix))
    server.add_files(app.static_folder, prefix=prefix)
    server.add_files(app.static_folder, prefix="/static/")
    app.wsgi_app = server
    app.extensions["marche_static_version"] = version
