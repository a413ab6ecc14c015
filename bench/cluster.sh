#!/usr/bin/env bash
# Cluster mode, measured against one node on the same PostgreSQL.
#
# 1. Time from outage to notification: a loopback target goes down at a
#    random moment; a webhook receiver timestamps incident.opened. One node
#    (no --node: no votes, no quorum) against three nodes in three
#    locations (votes, quorum of two, one leader delivering).
# 2. PostgreSQL load: transactions per second on the database per node and
#    per 1,000 checks, from pg_stat_database, with CHECKS http checks every
#    30 s (all up: steady state) over MEASURE seconds after WARMUP.
#
#   RUNS=20 INTERVAL=5 CHECKS=1000 WARMUP=100 MEASURE=60 bash bench/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
INTERVAL=${INTERVAL:-5}
CHECKS=${CHECKS:-1000}
WARMUP=${WARMUP:-100}
MEASURE=${MEASURE:-60}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
cargo build --release -q -p stagegate --bin stagegate
bin=$PWD/target/release/stagegate
work=$(mktemp -d)
pids=()
nodes=()
cleanup() {
  for p in "${nodes[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  psql -q "$PG/test" -c "DROP DATABASE IF EXISTS stagegate_bench_cluster WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
python3 - <<'PY' &
import http.server, os, threading, time
class Target(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503 if os.path.exists("down") and self.path == "/health" else 200); self.end_headers()
    def log_message(self, *a): pass
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with open("events", "a") as f:
            f.write(f"{time.time()} {self.headers.get('x-stagegate-event')}\n")
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
for port, h in ((18686, Target), (18687, Hook)):
    s = http.server.ThreadingHTTPServer(("127.0.0.1", port), h)
    threading.Thread(target=s.serve_forever, daemon=True).start()
threading.Event().wait()
PY
pids+=($!)

fresh_db() {
  psql -q "$PG/test" -c "DROP DATABASE IF EXISTS stagegate_bench_cluster WITH (FORCE)" >/dev/null
  psql -q "$PG/test" -c "CREATE DATABASE stagegate_bench_cluster" >/dev/null
}
db="$PG/stagegate_bench_cluster"

spec() { # $1: extra checks
  cat > stagegate.toml <<TOML
[product]
name = "cluster bench"

[contacts.ops]
notify = ["hook"]

[notifiers.hook]
type = "webhook"
url = "http://127.0.0.1:18687/hook"

[environments.prod]
mode = "staging"

[environments.prod.monitoring]
notify = ["ops"]

[[environments.prod.monitoring.checks]]
name = "web"
kind = "http"
url = "http://127.0.0.1:18686/health"
interval = "${INTERVAL}s"
failure_threshold = 1
success_threshold = 1
TOML
  for i in $(seq 1 "$1"); do
    printf '\n[[environments.prod.monitoring.checks]]\nname = "c%d"\nkind = "http"\nurl = "http://127.0.0.1:18686/c%d"\ninterval = "30s"\n' "$i" "$i" >> stagegate.toml
  done
}

start() { # $1: number of nodes (0: one node without cluster mode)
  nodes=()
  if [ "$1" = 0 ]; then
    NO_COLOR=1 "$bin" serve --listen 127.0.0.1:0 --db "$db" 2> node0.log &
    nodes+=($!)
  else
    for n in $(seq 1 "$1"); do
      NO_COLOR=1 "$bin" serve --listen 127.0.0.1:0 --db "$db" --node "n$n" --location "loc$n" 2> "node$n.log" &
      nodes+=($!)
    done
  fi
  sleep 3
}

stop() {
  for p in "${nodes[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  nodes=()
}

latency() { # $1: label
  : > latencies
  for run in $(seq 1 "$RUNS"); do
    sleep "$(python3 -c "import random; print(random.uniform(0, $INTERVAL))")"
    : > events
    down=$(python3 -c "import time; print(time.time())")
    touch down
    for _ in $(seq 1 $((INTERVAL * 20 + 200))); do grep -q "incident.opened" events && break; sleep 0.05; done
    opened=$(awk '/incident.opened/ { print $1; exit }' events)
    python3 -c "print($opened - $down)" >> latencies
    rm -f down
    for _ in $(seq 1 $((INTERVAL * 20 + 200))); do grep -q "incident.resolved" events && break; sleep 0.05; done
  done
  python3 - "$1" "$INTERVAL" <<'PY'
import statistics, sys
xs = sorted(float(x) for x in open("latencies"))
p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
print(f"{sys.argv[1]}: {len(xs)} outages, interval {sys.argv[2]} s: outage to notification median {statistics.median(xs):.2f} s, p95 {p95:.2f} s, max {xs[-1]:.2f} s")
PY
}

xacts() {
  psql -Atq "$PG/test" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'stagegate_bench_cluster'"
}

load() { # $1: label, $2: nodes in the run
  sleep "$WARMUP"
  a=$(xacts)
  sleep "$MEASURE"
  b=$(xacts)
  python3 - "$1" "$a" "$b" "$MEASURE" "$2" "$CHECKS" <<'PY'
import sys
label, a, b, secs, nodes, checks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), max(1, int(sys.argv[5])), int(sys.argv[6])
tps = (b - a) / secs
print(f"{label}: {tps:.1f} PostgreSQL transactions/s in all, {tps / nodes:.1f} per node, {tps / nodes / (checks / 1000):.1f} per node per 1,000 checks (checks every 30 s, steady state)")
PY
}

spec 0
fresh_db; start 0; latency "one node"; stop
fresh_db; start 3; latency "three nodes, three locations"; stop
spec "$CHECKS"
fresh_db; start 0; load "one node, $CHECKS checks" 1; stop
fresh_db; start 3; load "three nodes, $CHECKS checks" 3; stop
