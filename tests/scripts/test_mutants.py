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
