#!/usr/bin/env bash
# Time from outage to notification: a loopback target goes down at a random
# moment; a webhook receiver timestamps the incident.opened delivery. The
# check runs every INTERVAL with failure_threshold 1, so the target is
# interval + 2 s. Prints median and p95 over RUNS outages.
#
#   RUNS=20 INTERVAL=5 bash bench/notify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
INTERVAL=${INTERVAL:-5}
. bench/lib.sh
bin=$(stagegate_bin)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
cd "$work"
# Target on :18686 (down while the file `down` exists); receiver on :18687.
pids+=("$(target_and_hook 18686 18687)")
cat > stagegate.toml <<TOML
[product]
name = "notify bench"

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
NO_COLOR=1 "$bin" serve --listen 127.0.0.1:18688 --data-dir data 2> serve.log &
pids+=($!)
sleep 2
: > latencies
for run in $(seq 1 "$RUNS"); do
  sleep "$(python3 -c "import random; print(random.uniform(0, $INTERVAL))")"
  : > events
  down=$(python3 -c "import time; print(time.time())")
  touch down
  for _ in $(seq 1 $((INTERVAL * 20 + 100))); do grep -q "incident.opened" events && break; sleep 0.05; done
  opened=$(awk '/incident.opened/ { print $1; exit }' events)
  python3 -c "print($opened - $down)" >> latencies
  rm -f down
  for _ in $(seq 1 $((INTERVAL * 20 + 100))); do grep -q "incident.resolved" events && break; sleep 0.05; done
done
python3 - "$INTERVAL" <<'PY'
import statistics, sys
xs = sorted(float(x) for x in open("latencies"))
p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
print(f"{len(xs)} outages, check interval {sys.argv[1]} s, failure_threshold 1")
print(f"outage to notification: median {statistics.median(xs):.2f} s, p95 {p95:.2f} s, max {xs[-1]:.2f} s (target: interval + 2 s = {float(sys.argv[1]) + 2:.0f} s)")
PY
