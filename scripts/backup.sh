#!/usr/bin/env bash
# Back up the portal: the database named by DATABASE_URL (pg_dump, custom format) and the uploaded
# files (logos, proofs, reference documents: instance/uploads, or UPLOADS_DIR), with their checksums.
#   DATABASE_URL=postgresql://… scripts/backup.sh [DESTINATION]      (default: backups/<UTC date>)
# Restore with scripts/restore.sh DESTINATION.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
: "${DATABASE_URL:?DATABASE_URL doit désigner la base à sauvegarder}"
UPLOADS_DIR="${UPLOADS_DIR:-$ROOT/instance/uploads}"
DEST="${1:-$ROOT/backups/$(date -u +%Y%m%dT%H%M%SZ)}"
# shellcheck source=scripts/pg_tools.sh
source "$ROOT/scripts/pg_tools.sh"
pick_pg_bin

mkdir -p "$DEST"
chmod 700 "$DEST"  # a dump holds password hashes and personal data
"$PG_BIN/pg_dump" --format=custom --no-owner --no-privileges --file "$DEST/database.dump" "$DB_URL"
mkdir -p "$UPLOADS_DIR"
tar -C "$UPLOADS_DIR" -czf "$DEST/uploads.tar.gz" .
(cd "$DEST" && sha256sum database.dump uploads.tar.gz > SHA256SUMS)
echo "Sauvegarde écrite dans $DEST (pg_dump $(major_of "$PG_BIN"), $(tar -tzf "$DEST/uploads.tar.gz" | grep -vc '/$') fichiers déposés)"
