#!/usr/bin/env bash
# Server time of the dashboard's overview with 500 environments and 10,000
# checks (20 each, 30 s interval, probing a loopback target), on SQLite:
# wrk with one connection for 10 s, latency as wrk measures it on loopback.
#
#   bash bench/dashboard.sh            # needs wrk (apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
ENVS=${ENVS:-500}
PER=${PER:-20}
TARGET=127.0.0.1:18181
ADDR=127.0.0.1:18585
cargo build --release -q -p stagegate --bin stagegate
cargo build --release -q -p stagegate-probe --example bench_target
bin=$PWD/target/release/stagegate
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
target/release/examples/bench_target "$TARGET" 2>/dev/null &
pids+=($!)
python3 - "$ENVS" "$PER" "$TARGET" > "$work/stagegate.toml" <<'PY'
import sys
envs, per, target = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
modes = ["development", "staging", "soft-launch", "production"]
print('[product]\nname = "dashboard bench"\n\n[contacts.ops]\nemail = "ops@example.com"\non_call = true\n')
for e in range(envs):
    print(f'[environments.e{e}]\nmode = "{modes[e % 4]}"\n')
    print(f'[[environments.e{e}.servers]]\nname = "app-{e}"\nroles = ["core"]\nlocation = "fra1"\n')
    print(f'[environments.e{e}.monitoring]\nnotify = ["ops"]\n')
    for c in range(per):
        print(f'[[environments.e{e}.monitoring.checks]]\nname = "c{c}"\ncovers = "core"\nkind = "http"\nurl = "http://{target}/health"\ninterval = "30s"\n')
PY
cd "$work"
token=$("$bin" token create --role viewer --name bench --data-dir data 2>/dev/null)
NO_COLOR=1 "$bin" serve --listen "$ADDR" --data-dir data 2> serve.log &
pids+=($!)
for _ in $(seq 100); do curl -fsS "http://$ADDR/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
# Let every check run once so the page has live state to show.
sleep "${WARMUP:-35}"
size=$(curl -fsS -H "Authorization: Bearer $token" "http://$ADDR/" | wc -c)
echo "overview: $ENVS environments, $((ENVS * PER)) checks, $size bytes of HTML"
wrk -t1 -c1 -d10s --latency -H "Authorization: Bearer $token" "http://$ADDR/" | grep -E "Latency|50%|99%|Requests/sec"
