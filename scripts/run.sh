#!/usr/bin/env bash
# Runs the whole system with demo data on this machine: builds lifttrust,
# then `lifttrust serve --demo`, which (with DATABASE_URL unset) starts a
# private PostgreSQL under .data/pg, (with MQTT_URL unset) an embedded MQTT
# broker, migrates, seeds the demo fleet once, starts the live simulator,
# and prints the URLs to open with the demo logins. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "Go is required: https://go.dev/dl/" >&2; exit 1; }
mkdir -p bin
echo "building bin/lifttrust ..."
go build -o bin/lifttrust ./cmd/lifttrust
exec ./bin/lifttrust serve --demo "$@"
