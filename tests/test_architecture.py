"""The whiteboard of the house stays true: dependencies point one way (DESIGN.md §1).

`core/` and `geo/` import no domain package, neither the factory (`marche/__init__.py`) nor `cli.py`;
no domain imports `api/`, the face over the services. Imports are read with `ast`, relative ones
resolved, including those inside functions.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "marche"
#: packages that hold the shared mechanisms: they know no domain
FOUNDATIONS = {"core", "geo"}
#: what a foundation may import from the top of the package
FOUNDATION_ALLOWED = {"config", "extensions", *FOUNDATIONS}
#: leaf domains: they import only `core/` (and themselves), so every other domain can build on them
LEAVES = {"clauses"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level_modules() -> set[str]:
    """marche's direct children: packages and single-file modules (config, extensions, cli, demo…)."""
    return {p.stem if p.is_file() else p.name for p in PACKAGE_DIR.iterdir()
            if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import of the file; `from X import name` gives X.name when
    name is itself a module of marche, else X."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                is_module = (PACKAGE_DIR.parent / Path(*candidate.split("."))).with_suffix(".py").exists() or \
                    (PACKAGE_DIR.parent / Path(*candidate.split(".")) / "__init__.py").exists()
                found.append((node.lineno, candidate if is_module else source))
    return [(line, name) for line, name in found if name == "marche" or name.startswith("marche.")]


def violations(path: Path) -> list[str]:
    """Broken rules of one file of marche/, as « file:line imports module »."""
    owner = module_name(path).split(".")
    owner_top = owner[1] if len(owner) > 1 else ""
    problems = []
    for line, name in imported_modules(path):
        parts = name.split(".")
        target = parts[1] if len(parts) > 1 else ""  # "" is the package itself: the factory
        where = f"{path.relative_to(PACKAGE_DIR.parent)}:{line} imports {name}"
        if owner_top in FOUNDATIONS and target not in FOUNDATION_ALLOWED:
            problems.append(where)
        elif owner_top in LEAVES and target not in {"core", owner_top}:
            problems.append(where)
        elif owner_top not in {"api", ""} and owner_top != "cli" and target == "api":
            problems.append(where)
    return problems


def all_violations() -> list[str]:
    return [v for path in sorted(PACKAGE_DIR.rglob("*.py")) for v in violations(path)]


def test_dependencies_point_one_way():
    assert all_violations() == []


@pytest.mark.parametrize("owner, source, expected", [
    ("core/outbox.py", "from .. import create_app", "marche"),
    ("core/outbox.py", "from marche import create_app", "marche"),
    ("core/outbox.py", "from ..suppliers.models import Structure", "marche.suppliers.models"),
    ("core/outbox.py", "from .. import cli", "marche.cli"),
    ("geo/views.py", "import marche.search.query", "marche.search.query"),
    ("geo/services.py", "def f():\n    from ..reference import services", "marche.reference.services"),
    ("suppliers/views.py", "from ..api.views import bp", "marche.api.views"),
    ("suppliers/views.py", "from ..api import openapi", "marche.api.openapi"),
    ("accounts/__init__.py", "from .. import api", "marche.api"),
    ("clauses/rules.py", "from ..accounts.models import BuyerCategory", "marche.accounts.models"),
    ("clauses/legal.py", "def f():\n    from ..tenders import models", "marche.tenders.models"),
    ("clauses/annex.py", "from .. import create_app", "marche"),
    ("clauses/calculator.py", "from ..api import views", "marche.api.views"),
    ("clauses/legal.py", "import marche.cli", "marche.cli"),
    ("clauses/rules.py", "from ..extensions import db", "marche.extensions"),
])
def test_each_forbidden_import_is_caught(tmp_path, monkeypatch, owner, source, expected):
    """The checker itself: a file with one forbidden import, absolute or relative, at the top or in a
    function, is reported (checked in a copy of the package tree, the real files untouched)."""
    fake_root = tmp_path / "marche"
    for path in PACKAGE_DIR.rglob("*.py"):
        copy = fake_root / path.relative_to(PACKAGE_DIR)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text("")
    target = fake_root / owner
    target.write_text(source + "\n")
    monkeypatch.setitem(globals(), "PACKAGE_DIR", fake_root)
    found = violations(target)
    assert [v.rpartition(" imports ")[2] for v in found] == [expected]


def test_allowed_imports_are_not_reported(tmp_path, monkeypatch):
    fake_root = tmp_path / "marche"
    for path in PACKAGE_DIR.rglob("*.py"):
        copy = fake_root / path.relative_to(PACKAGE_DIR)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text("")
    allowed = {
        "core/outbox.py": "from ..config import APP_FACTORY\nfrom ..extensions import db\nfrom .models import X",
        "geo/services.py": "from ..core.errors import DomainError\nfrom .models import Commune",
        "suppliers/services.py": "from ..accounts.models import User\nfrom ..geo.coverage import Area\n"
                                 "from ..search import query",
        "api/views.py": "from ..suppliers.services import find_structure",
        "cli.py": "from . import create_app",
        "clauses/legal.py": "from ..core.errors import DomainError\nfrom . import rules\nfrom .calculator import etp",
    }
    monkeypatch.setitem(globals(), "PACKAGE_DIR", fake_root)
    for owner, source in allowed.items():
        (fake_root / owner).write_text(source + "\n")
        assert violations(fake_root / owner) == [], owner


def test_every_domain_wires_itself_and_its_tables(app):
    """Each package offers init_app; every models module is registered by its domain (Alembic sees it)."""
    import importlib

    packages = sorted(p.name for p in PACKAGE_DIR.iterdir() if (p / "__init__.py").exists())
    for name in packages:
        assert callable(getattr(importlib.import_module(f"marche.{name}"), "init_app", None)), name
    models = {f"marche.{p.parent.name}.models" for p in PACKAGE_DIR.glob("*/models.py")}
    assert app.extensions["marche_models"] == models
