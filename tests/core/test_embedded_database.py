"""`make run`'s path: with no DATABASE_URL the app boots an embedded PostgreSQL and migrates it."""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_postgres_from_scratch():
    instance = Path(tempfile.mkdtemp(prefix="marche-embedded-"))
    code = f"""
import os, sys
os.environ.pop("DATABASE_URL", None)
os.environ["MEILI_URL"] = "http://127.0.0.1:1"
from pathlib import Path
from marche.config import Config
from marche.core import embedded
uri = embedded.ensure_postgres(Path({str(instance)!r}) / "pgdata", cleanup_mode="stop")
assert uri.startswith("postgresql://")
config = Config.from_env(Path({str(instance)!r}), environ={{}})
assert config.database_embedded and "host=" in config.database_url
from marche import create_app
from marche.extensions import db
from flask_migrate import upgrade
from sqlalchemy import text
app = create_app({{"DATABASE_URL": uri, "REDIS_URL": "", "MEILI_URL": "http://127.0.0.1:1"}})
with app.app_context():
    upgrade()
    version = db.session.execute(text("select version()")).scalar()
    tables = db.session.execute(text("select count(*) from information_schema.tables where table_name in ('user_account', 'commune', 'outbox_message')")).scalar()
    print(version.split()[1], tables)
"""
    try:
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr[-3000:]
        version, tables = result.stdout.split()[-2:]
        assert int(version.split(".")[0]) >= 15
        assert tables == "3"
    finally:
        shutil.rmtree(instance, ignore_errors=True)
