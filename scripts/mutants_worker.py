"""`make mutants`' worker: one per throwaway copy of the project, alive for the whole run.

Starting pytest costs more than most mutants' tests: Python, pytest, Flask, SQLAlchemy, psycopg...
The worker imports those third-party modules once (`preload`, never a module of the project), then
runs each test session in a child forked from itself: the child imports the project afresh from the
copy, the mutant included, and starts from nothing of the previous session (its own database made
from the template, its own Meilisearch). A mutant is written into the copy before the fork and the
original put back after the child ended.

It reads one JSON request a line on stdin and answers one JSON line on stdout:

- `{"cmd": "preload", "modules": [...]}`: import these modules (the project's own are refused);
- `{"cmd": "map", "module": path, "files": [...]}`: run the tests without mutant under coverage, one
  coverage context per test: which tests run each line of `module`, how long each test takes, and
  the modules the session imported;
- `{"cmd": "run", "module": path, "files": [...], "order": [...], "select": [...] | null,
  "mutation": [operator, occurrence] | null, "timeout": s}`: plant the mutation, run the selected
  tests fastest first with `-x`; when they all pass and others were left out, run the others too.
  A mutant is killed only when a test fails (or the session runs past the timeout).
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import pytest

COPY = Path.cwd().resolve()
#: modules of the project: imported only in the children, from the copy, mutant included
PROJECT_PACKAGES = {"marche", "tests", "conftest", "__main__", "__mp_main__", "mutants", "mutants_worker"}
SCRATCH = Path(tempfile.mkdtemp(prefix="marche-mutants-worker-"))
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider"]


INSTALLED = Path(sys.prefix).resolve()


def project_module(name: str, module) -> bool:
    """A module of the project (not of the Python installation or its packages)."""
    if name.partition(".")[0] in PROJECT_PACKAGES:
        return True
    location = getattr(module, "__file__", None)
    if not location:
        return False
    place = Path(location).resolve()
    return place.is_relative_to(COPY) and not place.is_relative_to(INSTALLED)


def preload(request: dict) -> dict:
    """Import the libraries, then the project's modules listed (those that do not import the mutated
    module, `forbidden` being that module and every module importing it): a child re-imports only
    the rest. Answers `leaked` when a forbidden module got loaded all the same (a dynamic import):
    the driver then starts this worker again without the project's modules."""
    failed = []
    for name in request["modules"]:
        if name in sys.modules or name.partition(".")[0] in PROJECT_PACKAGES:
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - a module that imports only inside pytest: the child will
            failed.append(name)
    for name in request.get("project", ()):
        if name.partition(".")[0] == "marche" and name not in sys.modules:
            try:
                importlib.import_module(name)
            except BaseException:  # noqa: BLE001 - left to the child
                failed.append(name)
    forbidden = set(request.get("forbidden", ()))
    leaked = sorted(name for name, module in list(sys.modules.items())
                    if name not in ("__main__", "__mp_main__", __name__) and project_module(name, module)
                    and (name in forbidden or name.partition(".")[0] != "marche" or not from_copy(module)))
    if leaked:  # a child must import these from the copy, mutant included
        return {"leaked": leaked}
    gc.collect()
    gc.freeze()  # what is loaded stays shared with the children, not copied by the collector's writes
    return {"modules": len(sys.modules), "failed": failed, "threads": threading.active_count()}


def from_copy(module) -> bool:
    location = getattr(module, "__file__", None)
    return bool(location) and Path(location).resolve().is_relative_to(COPY)


class Database:
    """The worker's database, made once from the template and handed to each session in place of the
    one tests/conftest.py would create and drop (a copy of the template costs 1 to 8 s on a shared
    server). After each session it must be as made: the same rows in every table (the tests empty
    theirs), sequences back at their start, reference tables neither written nor updated; otherwise
    (or after a timeout) it is dropped and the next session gets a new one."""

    def __init__(self):
        self.server = os.environ.get("TEST_DATABASE_URL")
        self.template = os.environ.get("TEST_DATABASE_TEMPLATE")
        self.name: str | None = None
        self.made = 0
        self.state = None

    def url(self) -> str | None:
        if not (self.server and self.template):
            return None
        if self.name is None:
            import psycopg

            self.made += 1
            name = f"{self.template}_w{os.getpid()}_{self.made}"
            with psycopg.connect(self.server, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            self.name = name
            self.state = self.read()
        return with_database(self.server, self.name)

    def read(self):
        """Rows per table, sequences, and the writes counted on the tables that have rows (reference
        data), once the session's connections are gone (a backend counts its writes as it ends)."""
        import psycopg

        with psycopg.connect(with_database(self.server, self.name), autocommit=True) as conn:
            for _ in range(500):
                others = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND pid <> pg_backend_pid()").fetchone()[0]
                if not others:
                    break
                time.sleep(0.01)
            else:
                return None
            tables = [row[0] for row in conn.execute(
                "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1")]
            rows = dict(conn.execute(" UNION ALL ".join(
                f"SELECT {quote(table)}, count(*) FROM {table}" for table in tables)).fetchall()) if tables else {}
            sequences = conn.execute("SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2"
                                     ).fetchall()
            writes = {table: counts for table, *counts in conn.execute(
                "SELECT format('%I.%I', schemaname, relname), n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd "
                "FROM pg_stat_user_tables") if rows.get(table)}
        return rows, sequences, writes

    def after(self, outcome, used: bool) -> None:
        """`used`: the session asked for the database (a session that did not, never connected to it)."""
        if self.name is not None and (outcome == "timeout" or (used and self.read() != self.state)):
            self.drop()

    def drop(self) -> None:
        if self.name is None:
            return
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.name = None


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")


DATABASE = Database()


# --- what runs in the forked child --------------------------------------------------------------

class Chooser:
    """pytest plugin: keep the selected tests (all when `select` is None), fastest first."""

    def __init__(self, order: list[str], select: list[str] | None, run_id_file: Path):
        self.rank = {nodeid: index for index, nodeid in enumerate(order)}
        self.select = None if select is None else set(select)
        self.run_id_file = run_id_file
        self.ran: list[str] = []

    def pytest_sessionstart(self, session) -> None:
        # tests/conftest.py names its database after RUN_ID: told to the worker, which drops it
        # when it has to kill a session that ran past its timeout
        for plugin in session.config.pluginmanager.get_plugins():
            if getattr(plugin, "__name__", "").endswith("conftest") and hasattr(plugin, "RUN_ID"):
                self.run_id_file.write_text(str(plugin.RUN_ID), encoding="utf-8")

    def pytest_collection_modifyitems(self, session, config, items) -> None:
        kept = [item for item in items if self.select is None or item.nodeid in self.select]
        dropped = [item for item in items if self.select is not None and item.nodeid not in self.select]
        kept.sort(key=lambda item: self.rank.get(item.nodeid, len(self.rank)))
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" or report.failed:
            self.ran.append(report.nodeid)


class GivenDatabase:
    """pytest plugin: the session-wide `database_url` fixture answers the worker's database (see
    Database) instead of creating one."""

    def __init__(self, url: str):
        self.url = url
        self.used = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_fixture_setup(self, fixturedef, request):
        if fixturedef.argname != "database_url":
            return None
        self.used = True
        fixturedef.cached_result = (self.url, fixturedef.cache_key(request), None)
        return self.url


def session_plugins(database_url: str | None) -> list:
    return [GivenDatabase(database_url)] if database_url else []


def database_used(plugins: list) -> bool:
    return any(plugin.used for plugin in plugins if isinstance(plugin, GivenDatabase))


class Recorder:
    """pytest plugin for the map: one coverage context per test, and each test's duration."""

    def __init__(self, cov):
        self.cov = cov
        self.durations: dict[str, float] = {}
        self.order: list[str] = []
        self.failed: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.cov.switch_context(item.nodeid)
        self.order.append(item.nodeid)

    def pytest_runtest_logreport(self, report) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        if report.failed:
            self.failed.append(report.nodeid)
        if report.when == "teardown":
            self.cov.switch_context("")


def child_map(request: dict, result_file: Path, database_url: str | None) -> int:
    import coverage

    module = COPY / request["module"]
    cov = coverage.Coverage(data_file=None, include=[str(module)], config_file=False)
    cov.start()
    recorder, given = Recorder(cov), session_plugins(database_url)
    rc = pytest.main([*PYTEST_ARGS, *request["files"]], plugins=[recorder, *given])
    cov.stop()
    data = cov.get_data()
    measured = [name for name in data.measured_files() if Path(name).resolve() == module.resolve()]
    lines = data.contexts_by_lineno(measured[0]) if measured else {}
    result_file.write_text(json.dumps({
        "database_used": database_used(given), "durations": recorder.durations, "order": recorder.order,
        "failed": recorder.failed,
        "lines": {str(line): sorted(contexts) for line, contexts in lines.items()},
        "modules": [name for name, value in list(sys.modules.items()) if not project_module(name, value)],
        # the project's modules in the order the session imported them
        "project": [name for name, value in list(sys.modules.items())
                    if name.partition(".")[0] == "marche" and from_copy(value)],
        "imported_from": getattr(sys.modules.get(module_name(request["module"])), "__file__", None),
    }), encoding="utf-8")
    return int(rc)


def child_run(request: dict, select: list[str] | None, result_file: Path, run_id_file: Path,
              database_url: str | None) -> int:
    chooser, given = Chooser(request["order"], select, run_id_file), session_plugins(database_url)
    rc = pytest.main(["-x", *PYTEST_ARGS, *request["files"]], plugins=[chooser, *given])
    module = sys.modules.get(module_name(request["module"]))
    result_file.write_text(json.dumps({"ran": chooser.ran, "imported_from": getattr(module, "__file__", None),
                                       "database_used": database_used(given)}), encoding="utf-8")
    return int(rc)


def module_name(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def fork(job, timeout: float | None) -> tuple[int | str, dict, str, float]:
    """Run `job(result_file, run_id_file)` in a forked child in a process group of its own, its output
    in a log: (exit code or "timeout", what it wrote, the end of its log, seconds)."""
    result_file, run_id_file, log = SCRATCH / "result.json", SCRATCH / "run_id", SCRATCH / "session.log"
    for path in (result_file, run_id_file):
        path.unlink(missing_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 70
        try:
            os.setpgid(0, 0)
            output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = job(result_file, run_id_file)
        except BaseException:  # noqa: BLE001 - reported through the log and the exit code
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    deadline = None if timeout is None else started + timeout
    outcome: int | str
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            outcome = os.waitstatus_to_exitcode(status)
            break
        if deadline is not None and time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            _, _, usage = os.wait4(pid, 0)
            outcome = "timeout"
            clean_after_timeout(run_id_file)
            break
        time.sleep(0.01)
    try:  # what the session left in its group (a server it started and did not stop)
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    written = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log.exists() else ""
    written["cpu"] = round(usage.ru_utime + usage.ru_stime, 2)
    return outcome, written, tail, time.monotonic() - started


def clean_after_timeout(run_id_file: Path) -> None:
    """A killed session did not tear down: its Meilisearch (a session of its own, run from the copy)
    and its database go by name and process id."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            if int(proc.name) != os.getpid() and command and Path(command).is_relative_to(COPY):
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue
    url = os.environ.get("TEST_DATABASE_URL")
    if url and run_id_file.exists():
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "marche_test_{run_id_file.read_text().strip()}" WITH (FORCE)')


def mapping(request: dict) -> dict:
    database_url = DATABASE.url()
    outcome, written, tail, seconds = fork(lambda result, _run_id: child_map(request, result, database_url), None)
    DATABASE.after(outcome, written.get("database_used", True))
    return {"rc": outcome, "seconds": seconds, "log": tail, **written}


def run(request: dict) -> dict:
    """Plant the mutation (if any), run the chosen tests, then the others if those all passed."""
    from cosmic_ray.mutating import MutationVisitor, _make_diff
    import cosmic_ray.plugins

    path = COPY / request["module"]
    original = path.read_text(encoding="utf-8")
    diff = ""
    if request.get("mutation"):
        operator_name, occurrence = request["mutation"]
        operator = cosmic_ray.plugins.get_operator(operator_name)()
        try:
            mutated = MutationVisitor.mutate_code(original, operator, occurrence)
        except Exception:  # noqa: BLE001 - cosmic-ray cannot write this one (a dotted exception name): no mutant
            return {"outcome": "no-test", "log": traceback.format_exc()[-600:]}
        if mutated is None:
            return {"outcome": "no-test"}
        diff = "\n".join(_make_diff(original, mutated, Path(request["module"])))
        path.write_text(mutated, encoding="utf-8")
    runs, ran = [], set()
    try:
        select = request.get("select")
        while True:
            database_url = DATABASE.url()
            outcome, written, tail, seconds = fork(
                lambda result, run_id: child_run(request, select, result, run_id, database_url), request.get("timeout"))
            DATABASE.after(outcome, written.get("database_used", True))
            runs.append({"selected": None if select is None else len(select), "seconds": round(seconds, 2),
                         "cpu": written["cpu"], "rc": outcome})
            if written.get("imported_from") and not Path(written["imported_from"]).resolve() == path.resolve():
                raise RuntimeError(f"{request['module']} importé depuis {written['imported_from']}, pas la copie")
            if outcome != 0 or select is None:
                break
            # every chosen test passed: the mutant survives only if the others pass too
            ran |= set(written.get("ran", ()))
            select = [nodeid for nodeid in request["order"] if nodeid not in ran]
            if not select:
                break
    finally:
        if request.get("mutation"):
            path.write_text(original, encoding="utf-8")
    return {"outcome": verdict(outcome), "rc": outcome, "diff": diff, "log": tail, "runs": runs}


def verdict(outcome: int | str) -> str:
    """pytest's exit codes: 1 a test failed, 2 collection or import failed (the mutant breaks the
    module); "timeout": the session ran past its time. 0 all passed. Anything else (3 internal
    error, 4 usage, 5 no test collected, 70 the child itself) is the harness's fault, never a kill."""
    if outcome in (1, 2, "timeout"):
        return "killed"
    return "survived" if outcome == 0 else "error"


HANDLERS = {"preload": preload, "map": mapping, "run": run}


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.path.insert(0, str(COPY))  # the project, as the children import it: from the copy
    out = sys.stdout
    try:
        for line in sys.stdin:
            request = json.loads(line)
            try:
                answer = HANDLERS[request["cmd"]](request)
            except Exception:  # noqa: BLE001 - told to the driver, which stops
                answer = {"error": traceback.format_exc()}
            out.write(json.dumps(answer) + "\n")
            out.flush()
    finally:
        DATABASE.drop()
        shutil.rmtree(SCRATCH, ignore_errors=True)


if __name__ == "__main__":
    main()
