#!/usr/bin/env bash
# Escalation timing: an outage opens an incident (failure_threshold 1);
# level 1 (after 0m) and level 2 (after AFTER seconds) page two webhook
# receivers, which timestamp each delivery. Prints how far level 2 lands
# from the incident's level 1 page + AFTER, over RUNS outages.
#
#   RUNS=8 AFTER=5 bash bench/escalation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-8}
AFTER=${AFTER:-5}
bin=$(stagegate_bin)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
cd "$work"
pids+=("$(target_and_hook 18696 18697)")
cat > stagegate.toml <<TOML
[product]
name = "escalation bench"

[contacts.first]
notify = ["first"]

[contacts.second]
notify = ["second"]

[notifiers.first]
type = "webhook"
url = "http://127.0.0.1:18697/first"

[notifiers.second]
type = "webhook"
url = "http://127.0.0.1:18697/second"

[escalations.urgent]

[[escalations.urgent.levels]]
after = "0m"
notify = ["first"]

[[escalations.urgent.levels]]
after = "${AFTER}s"
notify = ["second"]

[environments.prod]
mode = "staging"

[environments.prod.monitoring]
escalation = "urgent"

[[environments.prod.monitoring.checks]]
name = "web"
kind = "http"
url = "http://127.0.0.1:18696/health"
interval = "1s"
failure_threshold = 1
success_threshold = 1
TOML
NO_COLOR=1 "$bin" serve --listen 127.0.0.1:18698 --data-dir data 2> serve.log &
pids+=($!)
sleep 2
: > events
for run in $(seq 1 "$RUNS"); do
  touch down
  for _ in $(seq 1 $(((AFTER + 10) * 20))); do [ "$(grep -c "incident.escalated 2" events)" -ge "$run" ] && break; sleep 0.05; done
  rm -f down
  for _ in $(seq 1 400); do [ "$(grep -c "incident.resolved" events)" -ge "$((run * 2))" ] && break; sleep 0.05; done
  sleep 1
done
python3 - "$AFTER" <<'PY'
import statistics, sys
after = float(sys.argv[1])
by = {}
for line in open("events"):
    t, event, level, incident = line.split()
    by.setdefault(incident, {})[event + level] = float(t)
lag = [v["incident.escalated2"] - v["incident.opened1"] - after for v in by.values()
       if "incident.opened1" in v and "incident.escalated2" in v]
lag.sort()
print(f"{len(lag)} escalations, level 2 after {after:.0f} s")
print(f"level 2 paged after level 1 + after: median {statistics.median(lag):+.3f} s, max {lag[-1]:+.3f} s, min {lag[0]:+.3f} s (target: within 1 s)")
PY
