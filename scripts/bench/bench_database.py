"""The bench's own database and search index: `make bench` never writes into the portal's.

The bench database sits beside the portal's on the same server: `<name>_bench` (or `marche_bench`
beside the embedded server's `postgres` database), created when missing, prepared like the portal's
(`flask marche prepare`: migrations, reference data, the real structures), then topped up with
synthetic structures. Its Meilisearch indexes carry the prefix `bench`, its queue and limiter keys too.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
BENCH_SUFFIX = "_bench"
#: Meilisearch index prefix of the bench (the portal's is `marche`)
BENCH_INDEX_PREFIX = "bench"
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "marche"]


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/")) or "postgres"


def bench_database_url(url: str) -> str:
    """The bench sibling of the database `url` names; a bench database's own URL is returned unchanged."""
    name = database_name(url)
    if name.endswith(BENCH_SUFFIX):
        return url
    bench = "marche" + BENCH_SUFFIX if name == "postgres" else name + BENCH_SUFFIX
    return urlunsplit(urlsplit(url)._replace(path="/" + quote(bench)))


def bench_environment(env: dict[str, str]) -> dict[str, str]:
    """`env` (where DATABASE_URL names the portal's database) pointed at the bench's database and index."""
    return {**env, "DATABASE_URL": bench_database_url(env["DATABASE_URL"]), "MEILI_INDEX_PREFIX": BENCH_INDEX_PREFIX,
            # 50 000 rows and a full reindex hold statements longer than a web request may
            "DATABASE_STATEMENT_TIMEOUT": "0"}


def database_exists(server_url: str, name: str) -> bool:
    with psycopg.connect(server_url, autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def ensure_bench_database(server_url: str) -> str:
    """Create the bench sibling of `server_url`'s database when missing (connecting through the portal's
    database, which exists); return the bench database's URL."""
    url = bench_database_url(server_url)
    name = database_name(url)
    if not database_exists(server_url, name):
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url


def prepare_bench_database(env: dict[str, str], target: int, say=print) -> dict[str, str]:
    """Create, migrate and load the bench database, top it up to `target` structures; return its environment.

    Every step runs in a child process whose DATABASE_URL is the bench database: nothing here holds
    a connection to the portal's database except the one that creates the bench database."""
    ensure_bench_database(env["DATABASE_URL"])
    bench = bench_environment(env)
    say(f"==> Base de mesure « {database_name(bench['DATABASE_URL'])} », index « {BENCH_INDEX_PREFIX}-… »")
    _run(FLASK + ["marche", "prepare"], bench)
    generated = _run([sys.executable, str(ROOT / "scripts" / "generate_structures.py"), "--up-to", str(target)], bench)
    say(generated.strip().splitlines()[-1])
    vacuum_analyze(bench["DATABASE_URL"])
    return bench


def vacuum_analyze(url: str) -> None:
    """Statistics and visibility maps for the rows just written, as autovacuum would leave them a minute
    later: without them the planner guesses (and hashes nothing, reads tables it could skip), and a
    server whose autovacuum is off would be measured on those guesses."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")


def _run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, env=env, cwd=ROOT, text=True, capture_output=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"échec de « {Path(command[0]).name} {' '.join(command[1:])} »")
    return result.stdout
