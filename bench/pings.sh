#!/usr/bin/env bash
# Durable heartbeat pings per second on the default SQLite store, driven by
# wrk on loopback. Every ping is acknowledged only after it is committed.
#
#   bash bench/pings.sh                 # needs wrk (apt-get install wrk)
#   CONC=64 SECONDS_=20 bash bench/pings.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONC=${CONC:-32}
DURATION=${SECONDS_:-10}
ADDR=127.0.0.1:18282
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(stagegate_bin)
work=$(mktemp -d)
# Only a server that was started: `kill 0` would stop this whole process group.
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
heartbeat_spec > "$work/stagegate.toml"
cd "$work"
NO_COLOR=1 "$bin" serve --listen "$ADDR" --data-dir data 2> serve.log &
pid=$!
for _ in $(seq 1 50); do curl -fsS "http://$ADDR/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
wrk -t2 -c"$CONC" -d"${DURATION}s" "http://$ADDR/ping/bench-token" > wrk.txt
cat wrk.txt
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
kill -TERM "$pid"; wait "$pid" || true
sent=$(awk '/requests in/ { print $1 }' wrk.txt)
stored=$(python3 -c "import sqlite3; print(sqlite3.connect('data/stagegate.db').execute(\"select count(*) from pings where token='bench-token'\").fetchone()[0])")
echo "pings answered: $sent, stored: $stored, server peak RSS: $((rss / 1024)) MB"
