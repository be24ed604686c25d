"""Each gunicorn worker freezes its start-up objects out of the garbage collector (`marche.wsgi`), so that
a full collection no longer walks them during a page load; `MARCHE_GC_FREEZE=0` turns it off."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from marche.core.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]

#: a gunicorn configuration for this test only: once a worker has loaded the app, it writes how many
#: objects it holds frozen (gunicorn calls post_worker_init after load_wsgi)
PROBE = '''
import gc, os

def post_worker_init(worker):
    path = os.environ["GC_PROBE_FILE"]
    with open(path + ".tmp", "w") as handle:
        handle.write(str(gc.get_freeze_count()))
    os.replace(path + ".tmp", path)
'''


def frozen_in_a_worker(app_config: dict, tmp_path: Path, freeze: str) -> int:
    config, probe = tmp_path / "probe_conf.py", tmp_path / "frozen"
    config.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEILI_", "DATABASE_"))}
    env.update({name: app_config[name] for name in ("DATABASE_URL", "MEILI_URL", "MEILI_MASTER_KEY",
                                                    "MEILI_INDEX_PREFIX", "SECRET_KEY")})
    env.update({"REDIS_URL": "", "MARCHE_ENV": "test", "MARCHE_GC_FREEZE": freeze, "GC_PROBE_FILE": str(probe)})
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(config), "--workers", "1",
                               "--bind", f"127.0.0.1:{free_port()}", "--log-level", "warning", "marche.wsgi:app"],
                              env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 90
        while not probe.exists():
            assert server.poll() is None, "gunicorn s'est arrêté au démarrage"
            assert time.monotonic() < deadline, "le worker n'a jamais chargé l'application"
            time.sleep(0.1)
        return int(probe.read_text())
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("freeze", ["1", "0"])
def test_a_gunicorn_worker_freezes_its_start_up_objects(app_config, tmp_path, freeze):
    frozen = frozen_in_a_worker(app_config, tmp_path, freeze)
    if freeze == "1":
        assert frozen > 10_000  # modules, the app, its routes: tens of thousands of objects
    else:
        assert frozen == 0
