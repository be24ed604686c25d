"""`make run` keeps the portal up and cleans up after itself: the supervisor restarts a child that
dies (with a backoff and a log line) and leaves the others alone; a failed start stops the
Meilisearch it started."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from supervisor import Supervisor  # noqa: E402  (scripts/supervisor.py)
from tests.netfaults import silent_server  # noqa: E402


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition jamais remplie"
        time.sleep(0.05)


def test_supervisor_restarts_a_dead_child_with_backoff_and_leaves_the_others(tmp_path):
    lines: list[str] = []
    supervisor = Supervisor(base_delay=0.3, max_delay=0.6, stable_after=60, log=lines.append)
    counter = tmp_path / "starts"
    # dies at once, every time: each start appends a line to `counter`
    dying = supervisor.add("worker", [sys.executable, "-c",
                                      f"open({str(counter)!r}, 'a').write('x\\n'); raise SystemExit(3)"])
    steady = supervisor.add("gunicorn", [sys.executable, "-c", "import time; time.sleep(60)"])
    steady_pid = steady.process.pid
    try:
        started = time.monotonic()
        wait_for(lambda: (supervisor.check() or True) and dying.restarts >= 3)
        elapsed = time.monotonic() - started
        # backoff: 0.3 s, then 0.6 s, then 0.6 s (ceiling) before the third restart
        assert elapsed >= 0.3 + 0.6 + 0.6 - 0.1
        assert dying.exit_codes[:3] == [3, 3, 3]
        assert lines[0] == "==> worker s'est arrêté (code 3) : redémarrage dans 0.3 s"
        assert "==> worker s'est arrêté (code 3) : redémarrage dans 0.6 s" in lines
        assert any(line == "==> worker redémarré (redémarrage n° 1)" for line in lines)
        wait_for(lambda: len(counter.read_text().splitlines()) >= 3)
        assert steady.process.pid == steady_pid and steady.process.poll() is None and steady.restarts == 0
    finally:
        supervisor.stop(timeout=5)
    assert steady.process.poll() is not None  # stop() ends every child
    supervisor.check()
    assert dying.process is None or dying.process.poll() is not None  # nothing restarted after stop


def meili_processes(data_dir: Path) -> list[int]:
    """Pids of running Meilisearch processes whose data dir is `data_dir`."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"meilisearch" in cmdline and str(data_dir).encode() in cmdline:
            pids.append(int(proc.name))
    return pids


def run_env(tmp_path: Path, **values: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"MEILI_URL", "MEILI_MASTER_KEY", "DATABASE_URL"}}
    env.update({"MARCHE_INSTANCE_DIR": str(tmp_path), "MARCHE_ENV": "development", "PORT": "1", **values})
    return env


def test_make_run_stopped_during_its_start_stops_the_meilisearch_it_started(tmp_path):
    with silent_server() as port:  # `prepare` waits on this database until the signal comes
        env = run_env(tmp_path, DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/marche",
                      DATABASE_CONNECT_TIMEOUT="30")
        run = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run.py")], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: (tmp_path / "meili" / "url").exists() and meili_processes(tmp_path / "meili"),
                     timeout=30)
            time.sleep(0.5)  # `flask marche prepare` is now waiting on the frozen database
            run.send_signal(signal.SIGTERM)
            assert run.wait(timeout=30) == 0
        finally:
            if run.poll() is None:
                run.kill()
    wait_for(lambda: not meili_processes(tmp_path / "meili"), timeout=10)


def test_failed_make_run_stops_the_meilisearch_it_started(tmp_path):
    env = run_env(tmp_path)
    env.update({"MARCHE_INSTANCE_DIR": str(tmp_path), "MARCHE_ENV": "development", "PORT": "1",
                # nothing listens there: `flask marche prepare` fails after Meilisearch has started
                "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/marche", "DATABASE_CONNECT_TIMEOUT": "2"})
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "run.py")], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Meilisearch embarqué" in result.stdout and "échec de « flask marche prepare »" in result.stderr
    url = (tmp_path / "meili" / "url").read_text()
    wait_for(lambda: not meili_processes(tmp_path / "meili"), timeout=10)
    try:
        urllib.request.urlopen(url + "/health", timeout=1)
        raise AssertionError("Meilisearch répond encore après l'échec de make run")
    except OSError:
        pass
