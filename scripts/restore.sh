#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database (refused otherwise), put the
# uploaded files back (instance/uploads, or UPLOADS_DIR), then rebuild the search index
# (MEILI_URL, MEILI_MASTER_KEY, MEILI_INDEX_PREFIX as for the portal; SKIP_REINDEX=1 to skip).
#   DATABASE_URL=postgresql://…/nouvelle_base scripts/restore.sh BACKUP_DIR
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="${1:?Usage : scripts/restore.sh DOSSIER_DE_SAUVEGARDE}"
: "${DATABASE_URL:?DATABASE_URL doit désigner la base (vide) où restaurer}"
UPLOADS_DIR="${UPLOADS_DIR:-$ROOT/instance/uploads}"
[ -f "$SRC/database.dump" ] && [ -f "$SRC/uploads.tar.gz" ] || { echo "Sauvegarde incomplète dans $SRC." >&2; exit 1; }
(cd "$SRC" && sha256sum --quiet -c SHA256SUMS) || { echo "Sauvegarde altérée : sommes de contrôle différentes." >&2; exit 1; }
# shellcheck source=scripts/pg_tools.sh
source "$ROOT/scripts/pg_tools.sh"
pick_pg_bin

tables="$("$PG_BIN/psql" "$DB_URL" -Atqc "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')")"
if [ "$tables" != "0" ]; then
  echo "La base cible contient déjà $tables tables : la restauration se fait dans une base vide." >&2
  exit 1
fi
"$PG_BIN/pg_restore" --no-owner --no-privileges --exit-on-error --section=pre-data --section=data \
  --dbname "$DB_URL" "$SRC/database.dump"
# Indexes and constraints last, with `public` on the search path: pg_restore empties it, and
# earthdistance's ll_to_earth() (our distance index) calls earth() without naming its schema
"$PG_BIN/pg_restore" --no-owner --no-privileges --section=post-data --file=- "$SRC/database.dump" \
  | sed "s/set_config('search_path', '', false)/set_config('search_path', 'public', false)/" \
  | "$PG_BIN/psql" "$DB_URL" -q -v ON_ERROR_STOP=1 >/dev/null
mkdir -p "$UPLOADS_DIR"
tar -C "$UPLOADS_DIR" -xzf "$SRC/uploads.tar.gz"
echo "Base et fichiers restaurés."
if [ "${SKIP_REINDEX:-0}" != "1" ]; then
  # a full rebuild holds statements longer than a web request may
  DATABASE_URL="$DB_URL" DATABASE_STATEMENT_TIMEOUT=0 "$ROOT/.venv/bin/flask" --app marche marche reindex
fi
