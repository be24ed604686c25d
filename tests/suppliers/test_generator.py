"""The synthetic generator: realistic, marked synthetic, never public."""
import importlib.util
from pathlib import Path

from sqlalchemy import func, select

from marche.core.identifiers import is_valid_siret
from marche.extensions import db
from marche.suppliers.models import Structure

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "generate_structures.py"


def load_script():
    spec = importlib.util.spec_from_file_location("generate_structures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generates_marked_structures_in_real_proportions(app_ctx, client):
    generator = load_script()
    assert generator.generate(600, seed=7) == 600
    structures = db.session.execute(select(Structure)).scalars().all()
    assert len(structures) == 600 and all(s.is_synthetic for s in structures)
    assert all(is_valid_siret(s.siret) and s.siret.startswith("99") for s in structures)
    aci = sum("ACI" in s.kinds for s in structures) / 600
    assert 0.2 < aci < 0.45  # 1 815 of 5 523 real structures ≈ 33 %
    assert all(s.area_departments for s in structures)
    assert any(s.sectors for s in structures)
    # Never shown as real: the public profile answers 404.
    assert client.get(f"/structures/{structures[0].siret}").status_code == 404
    assert generator.delete_synthetic() == 600
    assert db.session.scalar(select(func.count()).select_from(Structure)) == 0
