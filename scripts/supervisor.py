"""A small process supervisor for `make run`: a child that dies is restarted after a backoff
(doubling up to a ceiling, reset once the child has stayed up a while) and a log line, instead of
the whole portal stopping; Ctrl-C or SIGTERM stops every child."""
from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict | None = None
    cwd: str | None = None
    process: subprocess.Popen | None = None
    restarts: int = 0
    #: when the child may be started again (monotonic clock); 0 means now
    restart_at: float = 0.0
    started_at: float = 0.0
    failures_in_a_row: int = 0
    exit_codes: list[int] = field(default_factory=list)


class Supervisor:
    def __init__(self, base_delay: float = 1.0, max_delay: float = 30.0, stable_after: float = 60.0,
                 log: Callable[[str], None] | None = None):
        self.children: list[Child] = []
        self.base_delay = base_delay
        self.max_delay = max_delay
        #: a child up this long is healthy again: its next failure restarts after base_delay
        self.stable_after = stable_after
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.stopping = False

    def add(self, name: str, command: list[str], env: dict | None = None, cwd: str | None = None) -> Child:
        child = Child(name, command, env, cwd)
        self.children.append(child)
        self._start(child)
        return child

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.command, env=child.env, cwd=child.cwd)
        child.started_at = time.monotonic()

    def check(self) -> None:
        """One look at every child: note the dead ones, restart those whose backoff is over."""
        now = time.monotonic()
        for child in self.children:
            if child.process is not None:
                code = child.process.poll()
                if code is None:
                    continue
                child.exit_codes.append(code)
                child.process = None
                if now - child.started_at >= self.stable_after:
                    child.failures_in_a_row = 0
                child.failures_in_a_row += 1
                delay = min(self.base_delay * 2 ** (child.failures_in_a_row - 1), self.max_delay)
                child.restart_at = now + delay
                self.log(f"==> {child.name} s'est arrêté (code {code}) : redémarrage dans {delay:g} s")
            elif not self.stopping and now >= child.restart_at:
                child.restarts += 1
                self._start(child)
                self.log(f"==> {child.name} redémarré (redémarrage n° {child.restarts})")

    def run(self, poll: float = 0.5) -> None:
        while not self.stopping:
            self.check()
            time.sleep(poll)

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate every child, then kill those still running after `timeout`."""
        self.stopping = True
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
