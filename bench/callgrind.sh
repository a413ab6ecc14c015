#!/usr/bin/env bash
# Instructions a serve node executes per unit of work, counted by valgrind's
# callgrind: unlike CPU time, the count barely moves with what else the
# machine is doing, so two builds compare reliably on a noisy machine.
#
#   WHAT=pings  bash bench/callgrind.sh   # instructions per durable ping
#   WHAT=checks bash bench/callgrind.sh   # instructions per scheduled check run
#   BIN=/path/to/other/stagegate WHAT=pings bash bench/callgrind.sh
#
# pings: N pings (default 2,000) on one keep-alive connection, minus an idle
# run of the same length, divided by N. checks: N http checks (default 500)
# every 5 s against a loopback target for DURATION seconds (default 60),
# minus an idle run of the same length with no checks, divided by the
# results stored.
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT=${WHAT:-pings}
ADDR=127.0.0.1:18484
TARGET=127.0.0.1:18585
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(stagegate_bin)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# Runs the server under callgrind in $1 until `$2` (a command) returns,
# then stops it; prints the instructions it executed.
counted() {
  local dir=$1 load=$2
  (
    cd "$dir"
    # One worker thread: the count then does not depend on how threads
    # happened to interleave (it moves by 5% otherwise on a busy machine).
    TOKIO_WORKER_THREADS=1 NO_COLOR=1 valgrind --tool=callgrind --callgrind-out-file=cg.out \
      "$bin" serve --listen "$ADDR" --data-dir data 2> serve.log &
    echo $! > pid
  )
  local pid
  pid=$(cat "$dir/pid")
  pids+=("$pid")
  for _ in $(seq 1 600); do curl -fsS "http://$ADDR/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  eval "$load"
  kill -TERM "$pid"
  # Not this shell's child: wait for callgrind to write its counts.
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  awk '/^(summary|totals):/ { print $2; exit }' "$dir/cg.out"
  # KEEP=DIR keeps the profiles, for callgrind_annotate.
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; cp "$dir/cg.out" "$KEEP/$(basename "$dir").cg.out"; fi
}

case "$WHAT" in
pings)
  N=${N:-2000}
  mkdir -p "$work/load" "$work/idle"
  heartbeat_spec > "$work/load/stagegate.toml"
  heartbeat_spec > "$work/idle/stagegate.toml"
  start=$(date +%s.%N)
  loaded=$(counted "$work/load" "python3 - $ADDR $N <<'PY'
import http.client, sys
host, port = sys.argv[1].split(':')
c = http.client.HTTPConnection(host, int(port))
for _ in range(int(sys.argv[2])):
    c.request('POST', '/ping/bench-token')
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY")
  took=$(python3 -c "import time; print(max(0.0, time.time() - $start - 2))")
  idle=$(counted "$work/idle" "sleep $took")
  stored=$(python3 -c "import sqlite3; print(sqlite3.connect('$work/load/data/stagegate.db').execute(\"select count(*) from pings\").fetchone()[0])")
  python3 -c "print(f'pings stored: $stored; instructions per ping: {($loaded - $idle) / $stored:,.0f} (loaded run {$loaded:,}, idle run {$idle:,})')"
  ;;
checks)
  N=${N:-500}
  DURATION=${DURATION:-60}
  cargo build --release -q -p stagegate-probe --example bench_target
  target/release/examples/bench_target "$TARGET" 2>/dev/null &
  pids+=($!)
  mkdir -p "$work/load" "$work/idle"
  python3 - "$N" "$TARGET" > "$work/load/stagegate.toml" <<'PY'
import sys
n, target = int(sys.argv[1]), sys.argv[2]
print('[product]\nname = "callgrind bench"\n\n[contacts.ops]\nemail = "ops@example.com"\n')
for e in range((n + 99) // 100):
    print(f'[environments.e{e}]\nmode = "staging"\n\n[environments.e{e}.monitoring]\nnotify = ["ops"]\n')
    for c in range(min(100, n - 100 * e)):
        print(f'[[environments.e{e}.monitoring.checks]]\nname = "c{c}"\ncovers = "core"\nkind = "http"\nurl = "http://{target}/health"\ninterval = "5s"\n')
PY
  heartbeat_spec > "$work/idle/stagegate.toml"
  loaded=$(counted "$work/load" "sleep $DURATION")
  idle=$(counted "$work/idle" "sleep $DURATION")
  results=$(python3 -c "import sqlite3; print(sqlite3.connect('$work/load/data/stagegate.db').execute('select count(*) from results').fetchone()[0])")
  python3 -c "print(f'check runs stored: $results; instructions per check run: {($loaded - $idle) / max(1, $results):,.0f} (loaded run {$loaded:,}, idle run {$idle:,})')"
  ;;
*)
  echo "WHAT must be pings or checks" >&2
  exit 2
  ;;
esac
