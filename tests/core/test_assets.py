"""Static files: versioned addresses cached a year, compressed copies chosen by Accept-Encoding, never a
stale copy, plain addresses revalidated, security headers everywhere."""
from __future__ import annotations

import gzip
import os
import re
import shutil

import brotli
import pytest

from marche.core.assets import STATIC_DIR, compress_static, drop_stale_compressed, static_version

ONE_YEAR = 365 * 24 * 3600


def _stylesheet_url(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return re.search(r'href="(/static/[^"]*css/marche\.css)"', html).group(1)


def test_pages_link_versioned_addresses(client):
    url = _stylesheet_url(client)
    assert url == f"/static/{static_version()}/css/marche.css"
    response = client.get(url)
    assert response.status_code == 200
    cache = response.headers["Cache-Control"]
    max_age = int(re.search(r"max-age=(\d+)", cache).group(1))
    assert "immutable" in cache and max_age >= ONE_YEAR
    assert response.get_data() == (STATIC_DIR / "css/marche.css").read_bytes()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize("encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_compressed_copy_follows_accept_encoding(client, encoding, decode):
    url = f"/static/{static_version()}/vendor/dsfr/dsfr.min.css"
    source = (STATIC_DIR / "vendor/dsfr/dsfr.min.css").read_bytes()
    response = client.get(url, headers={"Accept-Encoding": encoding})
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    body = response.get_data()
    assert decode(body) == source
    assert len(body) < len(source) / 4  # the DSFR's stylesheet shrinks about tenfold
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.get_data() == source


def test_plain_addresses_are_revalidated(client):
    response = client.get("/static/css/marche.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers["Cache-Control"]
    assert re.search(r"max-age=0\b", response.headers["Cache-Control"])
    again = client.get("/static/css/marche.css", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_an_unknown_version_or_file_is_a_404(client):
    assert client.get("/static/000000000000/css/marche.css").status_code == 404
    assert client.get(f"/static/{static_version()}/css/nulle-part.css").status_code == 404


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "site.css").write_text("body { color: black; }\n" * 200)
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    return root


def test_the_version_is_the_content(tree, tmp_path):
    first = static_version(tree)
    copy = tmp_path / "copie"
    shutil.copytree(tree, copy)
    assert static_version(copy) == first  # same content elsewhere (another server): same version
    (copy / "css" / "site.css").write_text("body { color: navy; }\n")
    static_version.cache_clear()  # computed once per process: a deployment restarts the workers
    assert static_version(copy) != first
    (tree / "css" / "site.css.gz").write_bytes(b"x")  # a compressed copy is not content
    static_version.cache_clear()
    assert static_version(tree) == first


def test_compression_writes_useful_copies_once_and_drops_stale_ones(tree):
    assert compress_static(tree) == 1  # the stylesheet; random PNG bytes do not compress
    css = tree / "css" / "site.css"
    assert gzip.decompress((tree / "css" / "site.css.gz").read_bytes()) == css.read_bytes()
    assert brotli.decompress((tree / "css" / "site.css.br").read_bytes()) == css.read_bytes()
    assert not (tree / "logo.png.gz").exists()
    assert compress_static(tree) == 0  # fresh copies are kept
    assert drop_stale_compressed(tree) == 0

    css.write_text("body { color: red; }\n" * 200)
    os.utime(css, (css.stat().st_atime, css.stat().st_mtime + 5))
    assert drop_stale_compressed(tree) == 2  # never serve the old stylesheet compressed
    assert not (tree / "css" / "site.css.gz").exists()
    assert compress_static(tree) == 1
    assert gzip.decompress((tree / "css" / "site.css.gz").read_bytes()) == css.read_bytes()


@pytest.mark.parametrize("path", ["/static/../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
                                  "/static/{version}/../../pyproject.toml", "/static/{version}/%2e%2e/config.py"])
def test_nothing_outside_the_static_tree(client, path):
    response = client.get(path.format(version=static_version()))
    assert response.status_code == 404
    assert b"[project]" not in response.get_data()
