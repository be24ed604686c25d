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
