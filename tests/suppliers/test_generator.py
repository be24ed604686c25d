"""The synthetic generator: realistic rows marked by their source and the reserved 99… SIRET range (which
`--delete` relies on, real rows untouched), and a command that writes only into the bench's database."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from marche.core.identifiers import is_valid_siret
from marche.extensions import db
from marche.suppliers.models import Structure

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_structures.py"


def load_script():
    spec = importlib.util.spec_from_file_location("generate_structures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generates_marked_structures_in_real_proportions(app_ctx, make_structure):
    real_id = make_structure()  # a real row: neither its source nor its SIRET is the generator's
    generator = load_script()
    assert generator.generate(600, seed=7) == 600
    structures = db.session.execute(select(Structure).where(Structure.id != real_id)).scalars().all()
    assert len(structures) == 600 and all(s.source == "synthetic" for s in structures)
    assert all(is_valid_siret(s.siret) and s.siret.startswith("99") for s in structures)
    aci = sum("ACI" in s.kinds for s in structures) / 600
    assert 0.2 < aci < 0.45  # 1 815 of 5 523 real structures ≈ 33 %
    assert all(s.area_departments for s in structures)
    assert any(s.sectors for s in structures)
    assert generator.delete_synthetic() == 600
    assert db.session.execute(select(Structure.id)).scalars().all() == [real_id]


def test_top_up_fills_the_directory_to_its_target(app_ctx, make_structure):
    make_structure()
    generator = load_script()
    assert generator.top_up(50, seed=3) == 49
    assert generator.top_up(50, seed=3) == 0  # already there: nothing more
    assert db.session.scalar(select(func.count()).select_from(Structure)) == 50


def test_the_command_refuses_a_server_without_bench_database(app, database_url):
    """Pointed at the portal's database, the command looks for its `_bench` sibling; missing, it stops
    there: nothing is written into the portal's database."""
    env = {**os.environ, "DATABASE_URL": database_url, "MEILI_URL": "http://127.0.0.1:1", "REDIS_URL": ""}
    result = subprocess.run([sys.executable, str(SCRIPT), "--count", "5"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "_bench » n'existe pas" in result.stderr and "make bench" in result.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Structure)) == 0
