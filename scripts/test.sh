#!/usr/bin/env bash
# `make test`: the whole suite against PostgreSQL (TEST_DATABASE_URL or embedded), the bundled
# Meilisearch, Redis (when it answers on REDIS_URL or 127.0.0.1:6379) and a real SMTP server.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TEST_REDIS_URL:-}" ] && .venv/bin/python -c "import redis,sys; redis.Redis(socket_connect_timeout=1).ping()" 2>/dev/null; then
  export TEST_REDIS_URL="redis://127.0.0.1:6379/0"
fi
exec .venv/bin/pytest "$@"
