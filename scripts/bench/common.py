"""Helpers for the benchmarks: percentiles, a keep-alive HTTP client, a gunicorn server of the app."""
from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values_ms: list[float]) -> dict[str, float]:
    return {"n": len(values_ms), "p50": statistics.median(values_ms), "p95": percentile(values_ms, 95),
            "p99": percentile(values_ms, 99), "max": max(values_ms)}


class KeepAlive:
    """One persistent HTTP/1.1 connection, as a browser or an API client keeps."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = headers or {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, float]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data else {})}
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
                return response.status, payload, (time.perf_counter() - started) * 1000
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()  # the server closed an idle connection: reconnect once, untimed
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class Gunicorn:
    """The app served by gunicorn, as in production (`marche.wsgi:app`)."""

    def __init__(self, env: dict[str, str], port: int, workers: int = 2):
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             "--threads", "2", "--keep-alive", "30", "--log-level", "warning", "marche.wsgi:app"],
            env={**os.environ, **env}, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _, _ = KeepAlive(self.url).request("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def timed(function, calls: int) -> dict[str, float]:
    """`function(i)` for i in range(calls), wall clock in ms, summarised."""
    values = []
    for i in range(calls):
        started = time.perf_counter()
        function(i)
        values.append((time.perf_counter() - started) * 1000)
    return summary(values)
