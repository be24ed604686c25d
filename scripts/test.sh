#!/usr/bin/env bash
# `make test`: the whole suite against PostgreSQL (TEST_DATABASE_URL or embedded), the bundled
# Meilisearch, Redis (TEST_REDIS_URL, default 127.0.0.1:6379) and a real SMTP server.
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
exec .venv/bin/pytest "$@"
