"""`make mutants`' own rules: which mutations it keeps, which lines a target's scope covers, and an
equivalents list that stays true to the code it describes."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import mutants  # noqa: E402  (scripts/mutants.py)


@pytest.mark.parametrize("name, kept", [
    ("core/ReplaceComparisonOperator_Lt_LtE", True), ("core/ReplaceComparisonOperator_GtE_Lt", True),
    ("core/ReplaceComparisonOperator_Lt_Eq", False), ("core/ReplaceBinaryOperator_Add_Sub", True),
    ("core/ReplaceBinaryOperator_Add_Pow", False), ("core/NumberReplacer", True), ("core/AddNot", True),
    ("core/VariableReplacer", False), ("core/ReplaceUnaryOperator_Delete_Not", True),
    ("core/ReplaceUnaryOperator_USub_Invert", False),
])
def test_kept_mutations(name, kept):
    assert mutants.kept_operator(name) is kept


SOURCE = '''LIMIT = 3


def outside():
    return 1


class Band:
    @classmethod
    def of(cls, n: int | None) -> int:
        return n + 1

    def other(self):
        return 2
'''


def test_a_scope_covers_its_definitions_decorators_included():
    assert mutants.scope_lines(SOURCE, ()) is None  # no scope: the whole module
    assert mutants.scope_lines(SOURCE, ("LIMIT", "Band.of")) == {1, 9, 10, 11}
    with pytest.raises(SystemExit, match="Band.missing"):
        mutants.scope_lines(SOURCE, ("Band.missing",))


def test_annotations_are_found_to_be_left_alone():
    spans = mutants.annotation_spans(SOURCE)
    inside = (10, 22)  # the "|" of "int | None"
    body = (11, 17)  # the "+" of "n + 1"
    assert any(start <= inside < end for start, end in spans)
    assert not any(start <= body < end for start, end in spans)


def test_every_listed_equivalent_still_describes_the_code():
    """An equivalent whose line changed or went away would hide a real survivor: each one's removed
    lines must still be in its module."""
    equivalents = mutants.load_equivalents()
    assert equivalents, "scripts/mutants_equivalent.txt ne liste aucun mutant"
    for (path, change), why in equivalents.items():
        source = {line.strip() for line in (ROOT / path).read_text(encoding="utf-8").splitlines()}
        removed = [line[2:] for line in change if line.startswith("- ")]
        assert removed and all(line in source for line in removed), (path, change)
        assert why, (path, change)


def test_changed_lines_leave_out_headers_and_blank_lines():
    diff = "--- a/m.py\n+++ b/m.py\n@@ -1,3 +1,3 @@\n-\n-    x = a < b\n+    x = a <= b\n"
    assert mutants.changed_lines(diff) == ("- x = a < b", "+ x = a <= b")


def test_mutants_run_in_parallel_copies_and_are_sorted(tmp_path):
    """End to end on a two-function project: two copies, each mutant planted in one of them, the
    boundary ones killed by the test, the untested function's survive; each copy is restored."""
    module = "def below(a):\n    return a < 3\n\n\ndef untested():\n    return 5\n"
    copies = []
    for name in ("one", "two"):
        copy = tmp_path / name
        copy.mkdir()
        (copy / "m.py").write_text(module, encoding="utf-8")
        (copy / "test_m.py").write_text("from m import below\n\n\ndef test_below():\n"
                                        "    assert below(2) and not below(3)\n", encoding="utf-8")
        copies.append(copy)
    target = mutants.Target("m", "m.py", ("test_m.py",))
    env = {**mutants.os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": ""}
    with mutants.workers_in(copies, env) as workers:
        outcome = mutants.run_target(target, workers, {})
    # a < 3: <= and >= are caught, 3 -> 4 and 3 -> 2 too; 5 -> 6 and 5 -> 4 in untested() are not
    assert (outcome.killed, outcome.counted) == (4, 6)
    assert sorted(s.split("\n", 1)[1] for s in outcome.survivors) == [
        "    - return 5\n    + return 4", "    - return 5\n    + return 6"]
    for copy in copies:
        assert (copy / "m.py").read_text(encoding="utf-8") == module


STATEMENTS = '''LIMIT = 3


@decorate(
    LIMIT)
def check(a,
          b):
    if (a <
            b):
        return (a
                + 1)
    try:
        return b
    except ValueError:
        return 0
'''


@pytest.mark.parametrize("first, last, expected", [
    (1, 1, {1}),  # a module-level assignment
    (5, 5, {4, 5, 6, 7}),  # a decorator's argument: the decorators and the def's header
    (9, 9, {8, 9}),  # in an `if` test written over two lines: its header only, not its body
    (11, 11, {10, 11}),  # in a return written over two lines: the whole statement
    (14, 14, {12, 14}),  # an `except` clause: its own line and the `try` header
])
def test_a_mutant_is_looked_for_on_every_line_of_its_statement(first, last, expected):
    import ast

    assert mutants.statement_lines(ast.parse(STATEMENTS), first, last) == expected


def test_a_mutant_runs_the_tests_that_run_its_statement_or_all_of_them():
    import ast

    plan = mutants.Plan(order=["t_fast", "t_mid", "t_slow"], tree=ast.parse(STATEMENTS),
                        lines={1: {""}, 9: {"t_slow", "t_fast"}, 10: {"t_slow"}, 11: {"t_mid"}})
    assert plan.tests_for((9, 8), (9, 9)) == ["t_fast", "t_slow"]  # fastest first
    assert plan.tests_for((11, 16), (11, 21)) == ["t_mid", "t_slow"]  # line 10 belongs to the statement
    assert plan.tests_for((1, 8), (1, 9)) is None  # run at import: every test
    assert plan.tests_for((15, 11), (15, 21)) is None  # no test seen there: every test


def test_a_mutant_the_chosen_tests_miss_is_still_killed_by_the_others(tmp_path):
    """The choice of tests only saves time: when the chosen ones pass, the others run too, so a test
    the coverage map missed (a subprocess, a thread) still kills its mutant."""
    (tmp_path / "m.py").write_text("def below(a):\n    return a < 3\n\n\ndef five():\n    return 5\n",
                                   encoding="utf-8")
    (tmp_path / "test_m.py").write_text(
        "from m import below, five\n\n\ndef test_below():\n    assert below(2) and not below(3)\n\n\n"
        "def test_five():\n    assert five() == 5\n", encoding="utf-8")
    env = {**mutants.os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": ""}
    with mutants.workers_in([tmp_path], env) as (worker,):
        target = mutants.Target("m", "m.py", ("test_m.py",))
        plan, _, _ = mutants.make_plan(target, worker)
        assert plan.lines[6] == {"test_m.py::test_five"}
        # occurrences: 3 -> 4, 3 -> 2, 5 -> 6... `return 5` -> `return 6`, with a wrong choice of
        # tests: test_below passes, test_five kills it
        answer = worker.ask(cmd="run", module="m.py", files=["test_m.py"], order=plan.order,
                            select=["test_m.py::test_below"], mutation=["core/NumberReplacer", 2], timeout=60)
        assert answer["outcome"] == "killed"
        assert [run["selected"] for run in answer["runs"]] == [1, 1]
        assert "+    return 6" in answer["diff"]
        # the same mutant, nothing chosen: one run of every test
        answer = worker.ask(cmd="run", module="m.py", files=["test_m.py"], order=plan.order, select=None,
                            mutation=["core/NumberReplacer", 2], timeout=60)
        assert (answer["outcome"], [run["selected"] for run in answer["runs"]]) == ("killed", [None])
        # no mutant, a chosen test that passes: every test runs, none fails
        answer = worker.ask(cmd="run", module="m.py", files=["test_m.py"], order=plan.order,
                            select=["test_m.py::test_five"], mutation=None, timeout=60)
        assert (answer["outcome"], [run["selected"] for run in answer["runs"]]) == ("survived", [1, 1])
    assert (tmp_path / "m.py").read_text(encoding="utf-8").endswith("return 5\n")


def test_a_session_past_its_timeout_is_killed_and_counts_as_killed(tmp_path):
    (tmp_path / "m.py").write_text("import time\n\n\ndef wait():\n    time.sleep(0)\n", encoding="utf-8")
    (tmp_path / "test_m.py").write_text("from m import wait\n\n\ndef test_wait():\n    wait()\n", encoding="utf-8")
    env = {**mutants.os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": ""}
    with mutants.workers_in([tmp_path], env) as (worker,):
        plan, _, _ = mutants.make_plan(mutants.Target("m", "m.py", ("test_m.py",)), worker)
        # sleep(0) -> sleep(1): past a timeout of 0.5 s
        answer = worker.ask(cmd="run", module="m.py", files=["test_m.py"], order=plan.order, select=None,
                            mutation=["core/NumberReplacer", 0], timeout=0.5)
        assert (answer["outcome"], answer["rc"]) == ("killed", "timeout")
    assert "sleep(0)" in (tmp_path / "m.py").read_text(encoding="utf-8")


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_the_modules_a_session_must_import_again_are_the_mutated_one_and_those_importing_it(tmp_path):
    write_package(tmp_path, {
        "marche/__init__.py": "", "marche/a.py": "X = 1\n", "marche/b.py": "from .a import X\n",
        "marche/c.py": "def later():\n    from . import a\n",  # imported when called: finds the mutant
        "marche/d.py": "try:\n    from marche import b\nexcept ImportError:\n    b = None\n",
        "marche/sub/__init__.py": "class K:\n    from ..a import X\n", "marche/sub/e.py": "",
        "marche/f.py": "import marche.sub.e\n",
    })
    graph = mutants.import_graph(tmp_path)
    assert graph["marche.b"] == {"marche", "marche.a"}
    assert mutants.importers(graph, "marche.a") == {"marche.a", "marche.b", "marche.d", "marche.sub",
                                                     "marche.sub.e", "marche.f"}


def test_a_worker_refuses_to_hold_a_module_a_dynamic_import_brought(tmp_path):
    """The mutated module must never be in the worker (its children would inherit the original)."""
    write_package(tmp_path, {"marche/__init__.py": "", "marche/x.py": "VALUE = 1\n",
                             "marche/y.py": "import importlib\n\nimportlib.import_module('marche.x')\n",
                             "marche/z.py": "VALUE = 2\n"})
    env = {**mutants.os.environ, "PYTHONPATH": ""}
    with mutants.workers_in([tmp_path], env) as (worker,):
        assert worker.ask(cmd="preload", modules=[], project=["marche", "marche.y"],
                          forbidden=["marche.x"]) == {"leaked": ["marche.x"]}
        worker.restart()
        assert "leaked" not in worker.ask(cmd="preload", modules=["json"], project=["marche", "marche.z"],
                                          forbidden=["marche.x"])


def test_a_mutation_cosmic_ray_cannot_write_is_no_mutant(tmp_path):
    """cosmic-ray fails on an exception named with a dot in a tuple (`except (zipfile.BadZipFile,
    ValueError)`, as in core/tables.py): that mutant is not made, and the run goes on."""
    source = "import zipfile\n\n\ndef opened(f):\n    try:\n        return zipfile.ZipFile(f)\n" \
             "    except (zipfile.BadZipFile, ValueError):\n        return None\n"
    write_package(tmp_path, {"m.py": source, "test_m.py": "def test_nothing():\n    pass\n"})
    env = {**mutants.os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": ""}
    with mutants.workers_in([tmp_path], env) as (worker,):
        answer = worker.ask(cmd="run", module="m.py", files=["test_m.py"], order=["test_m.py::test_nothing"],
                            select=None, mutation=["core/ExceptionReplacer", 0], timeout=60)
    assert answer["outcome"] == "no-test" and "AttributeError" in answer["log"]
    assert (tmp_path / "m.py").read_text(encoding="utf-8") == source
