#!/usr/bin/env bash
# Property-based API tests: schemathesis generates requests from the served
# OpenAPI document and checks every answer against it (status codes,
# schemas, rejected valid data, accepted invalid data), with an admin and a
# viewer token. Run by .ci/run after the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v st >/dev/null 2>&1 || pip install -q "schemathesis==4.32.5"
cargo build -q --locked -p stagegate --bin stagegate
bin=${CARGO_TARGET_DIR:-$PWD/target}/debug/stagegate
work=$(mktemp -d)
# Only a server that was started: `kill 0` would stop this whole process group.
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cat > "$work/stagegate.toml" <<'TOML'
[product]
name = "api fuzz"

[environments.dev]
mode = "development"

[environments.dev.monitoring]

[[environments.dev.monitoring.checks]]
name = "nightly"
kind = "heartbeat"
token = "fuzz-token"
interval = "1h"
duty = "log-monitoring"

[environments.dev.backup]
location = "elsewhere"
interval = "1h"

[environments.dev.backup.drill]
every = "30d"
command = "true"
TOML
cd "$work"
admin=$("$bin" token create --role admin --name fuzz-admin --data-dir data 2>/dev/null)
viewer=$("$bin" token create --role viewer --name fuzz-viewer --data-dir data 2>/dev/null)
# A token for the fuzzer to revoke: DELETE /api/v1/tokens/{prefix} reaches a
# real one, never the tokens the run itself uses.
victim=$("$bin" token create --role viewer --name fuzz-victim --data-dir data 2>/dev/null)
# Test data: every path parameter names something that exists, so no
# operation is only exercised on 404s (those are the suites' business).
cat > schemathesis.toml <<CONFIG
[parameters]
"path.env" = "dev"
"path.id" = 1
"path.framework" = "gdpr"
"path.token" = "fuzz-token"
"path.prefix" = "${victim%_*}"
"path.duty" = "log-monitoring"
CONFIG
"$bin" serve --listen 127.0.0.1:0 --data-dir data 2> serve.log &
pid=$!
for _ in $(seq 50); do
  addr=$(grep -o 'listening on http://[0-9.:]*' serve.log | head -1 | sed 's|listening on ||') || true
  [ -n "${addr:-}" ] && break
  sleep 0.2
done
[ -n "${addr:-}" ] || { cat serve.log; exit 1; }
# Incident 1, for the operations on an incident.
curl -fsS -X POST "$addr/ping/fuzz-token/fail" >/dev/null
for token in "$admin" "$viewer"; do
  st run "$addr/api/v1/openapi.json" -H "Authorization: Bearer $token" \
     --checks all -n 100 --seed 1 --no-color
done
