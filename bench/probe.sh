#!/usr/bin/env bash
# Probe cost side by side: stagegate vs Prometheus blackbox_exporter, both
# probing the same loopback HTTP target with a fresh connection per probe.
# Prints CPU time per probe, probes per second at saturation and peak memory
# of each prober, and the CPU ratio. Needs (Debian): prometheus-blackbox-exporter, wrk.
#
#   bash bench/probe.sh            # 10,000 probes each
#   N=20000 bash bench/probe.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
CONC=${CONC:-32}
TARGET=127.0.0.1:18181
EXPORTER=127.0.0.1:19115

cargo build --release -q -p stagegate --bin stagegate
cargo build --release -q -p stagegate-probe --example bench_target
bin=$PWD/target/release/stagegate
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

target/release/examples/bench_target "$TARGET" 2>/dev/null &
pids+=($!)
sleep 0.5

# CPU seconds (user+system) a process has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
peak_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }

# --- stagegate: one `check --live` run of N http checks --------------------
{
  printf '[product]\nname = "probe bench"\n\n[contacts.ops]\nemail = "ops@example.com"\n\n'
  envs=$(( (N + 99) / 100 ))
  made=0
  for e in $(seq 1 "$envs"); do
    printf '[environments.e%s]\nmode = "staging"\n\n[environments.e%s.monitoring]\nnotify = ["ops"]\n\n' "$e" "$e"
    for c in $(seq 1 100); do
      [ "$made" -ge "$N" ] && break
      printf '[[environments.e%s.monitoring.checks]]\nname = "c%s"\ncovers = "core"\nkind = "http"\nurl = "http://%s/health"\n\n' "$e" "$c" "$TARGET"
      made=$((made + 1))
    done
  done
} > "$work/stagegate.toml"

/usr/bin/time -f "%e %U %S %M" -o "$work/sg.time" \
  "$bin" check "$work/stagegate.toml" --live --concurrency "$CONC" --format json > "$work/sg.json" || true
read -r sg_wall sg_user sg_sys sg_rss < <(tail -n 1 "$work/sg.time")
sg_pass=$(grep -c '"status": "pass"' "$work/sg.json" || true)
sg_fail=$(python3 -c "import json,sys; d=json.load(open('$work/sg.json')); print(sum(1 for e in d['environments'] for f in e['findings'] if f['rule']=='SG-LIVE-CHECKS' and f['status']!='pass'))")

# --- blackbox_exporter: N probes through its /probe endpoint ---------------
cat > "$work/blackbox.yml" <<YML
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
YML
prometheus-blackbox-exporter --config.file="$work/blackbox.yml" --web.listen-address="$EXPORTER" --log.level=error 2>/dev/null &
bb=$!
pids+=("$bb")
sleep 1
url="http://$EXPORTER/probe?target=http://$TARGET/health&module=http_2xx"
curl -fsS "$url" | grep -q '^probe_success 1' || { echo "blackbox_exporter probe failed" >&2; exit 1; }
before=$(cpu "$bb")
start=$(date +%s.%N)
# wrk drives the exporter at saturation; -c is the concurrency.
wrk -t2 -c"$CONC" -d"${BB_SECONDS:-10}s" "$url" > "$work/wrk.txt"
end=$(date +%s.%N)
after=$(cpu "$bb")
bb_probes=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
bb_rss=$(peak_kb "$bb")

python3 - "$N" "$sg_wall" "$sg_user" "$sg_sys" "$sg_rss" "$sg_fail" "$bb_probes" "$before" "$after" "$start" "$end" "$bb_rss" "$CONC" <<'PY'
import sys
n, sg_wall, sg_user, sg_sys, sg_rss, sg_fail, bb_n, b0, b1, t0, t1, bb_rss, conc = sys.argv[1:]
n = int(n); sg_cpu = float(sg_user) + float(sg_sys); sg_wall = float(sg_wall)
bb_n = int(bb_n); bb_cpu = float(b1) - float(b0); bb_wall = float(t1) - float(t0)
sg_per = sg_cpu / n * 1e6; bb_per = bb_cpu / bb_n * 1e6
print(f"fresh connection per probe, loopback HTTP target, concurrency {conc}")
print(f"{'':28}{'stagegate':>14}{'blackbox_exporter':>20}")
print(f"{'probes':28}{n:>14}{bb_n:>20}")
print(f"{'CPU per probe (µs)':28}{sg_per:>14.1f}{bb_per:>20.1f}")
print(f"{'probes per second':28}{n / sg_wall:>14.0f}{bb_n / bb_wall:>20.0f}")
print(f"{'peak RSS (MB)':28}{int(sg_rss) / 1024:>14.1f}{int(bb_rss) / 1024:>20.1f}")
print(f"{'wall time (s)':28}{sg_wall:>14.2f}{bb_wall:>20.2f}")
print(f"stagegate CPU per probe = {sg_per / bb_per:.3f} x blackbox_exporter's (target: at most 0.2)")
if sg_fail != "0":
    print(f"WARNING: {sg_fail} environments had failing checks", file=sys.stderr)
PY
