"""The bundled Meilisearch gets its master key through the environment, never on its command line
(readable by every local user in `ps`), and the key still protects it."""
from __future__ import annotations

import secrets
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from marche.core.embedded import MeiliProcess


def status(url: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "/indexes", headers=headers), timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as error:
        return error.code


def test_master_key_is_not_on_the_command_line_and_still_required():
    data_dir = Path(tempfile.mkdtemp(prefix="marche-meili-key-"))
    key = secrets.token_hex(16)
    meili = MeiliProcess(data_dir, key).start()
    try:
        cmdline = Path(f"/proc/{meili.process.pid}/cmdline").read_bytes()
        assert b"meilisearch" in cmdline and key.encode() not in cmdline
        assert b"--master-key" not in cmdline
        assert status(meili.url, None) == 401  # no key: refused
        assert status(meili.url, "x" * 32) == 403  # wrong key: refused
        assert status(meili.url, key) == 200
        assert (data_dir / "url").read_text() == meili.url  # what production refuses (config tests)
    finally:
        meili.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
