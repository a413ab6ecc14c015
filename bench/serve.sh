#!/usr/bin/env bash
# One stagegate serve node running N http checks at a 30 s interval against a
# loopback target, on the default SQLite store: average CPU and peak RSS in
# steady state (after the first interval).
#
#   N=10000 bash bench/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
WARMUP=${WARMUP:-40}
MEASURE=${MEASURE:-60}
TARGET=127.0.0.1:18181
ADDR=127.0.0.1:18383
cargo build --release -q -p stagegate-probe --example bench_target
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(stagegate_bin)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
target/release/examples/bench_target "$TARGET" 2>/dev/null &
pids+=($!)
python3 - "$N" "$TARGET" > "$work/stagegate.toml" <<'PY'
import sys
n, target = int(sys.argv[1]), sys.argv[2]
print('[product]\nname = "serve bench"\n\n[contacts.ops]\nemail = "ops@example.com"\n')
envs = (n + 99) // 100
made = 0
for e in range(envs):
    print(f'[environments.e{e}]\nmode = "staging"\n\n[environments.e{e}.monitoring]\nnotify = ["ops"]\n')
    for c in range(100):
        if made == n:
            break
        print(f'[[environments.e{e}.monitoring.checks]]\nname = "c{c}"\ncovers = "core"\nkind = "http"\nurl = "http://{target}/health"\ninterval = "30s"\n')
        made += 1
PY
cd "$work"
NO_COLOR=1 "$bin" serve --listen "$ADDR" --data-dir data 2> serve.log &
pid=$!
pids+=("$pid")
hz=$(getconf CLK_TCK)
cpu() { awk -v hz="$hz" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$pid/stat"; }
sleep "$WARMUP"
c0=$(cpu); t0=$(date +%s.%N)
sleep "$MEASURE"
c1=$(cpu); t1=$(date +%s.%N)
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
results=$(python3 -c "import sqlite3; print(sqlite3.connect('data/stagegate.db').execute('select count(*) from results').fetchone()[0])")
python3 - "$c0" "$c1" "$t0" "$t1" "$rss" "$N" "$results" <<'PY'
import sys
c0, c1, t0, t1, rss, n, results = map(float, sys.argv[1:])
print(f"{int(n)} checks at 30 s on one node, SQLite")
print(f"average CPU: {100 * (c1 - c0) / (t1 - t0):.1f}% of one core over {t1 - t0:.0f} s of steady state")
print(f"peak RSS: {rss / 1024:.0f} MB; results stored so far: {int(results)}")
PY
