#!/usr/bin/env bash
# How fast a heartbeat's incident opens, on one release node with SQLite:
#  - a `/fail` ping to the incident opened (the ping is judged when it lands);
#  - a late heartbeat (interval 2s, grace 1s) to the incident opened, against
#    its deadline: last success + 3 s.
# Times are the server's own `opened_at` against the script's clock (one
# machine), RUNS times each. LATE=0 skips the late heartbeat (a build that
# judges by polling never resolves a 2 s heartbeat in time to measure it).
#
#   RUNS=20 bash bench/heartbeats.sh
#   BIN=/path/to/older/stagegate LATE=0 bash bench/heartbeats.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
BIN=${BIN:-}
if [ -z "$BIN" ]; then
  cargo build --release -q -p stagegate --bin stagegate
  BIN=$PWD/target/release/stagegate
fi
work=$(mktemp -d)
# Only a server that was started: `kill 0` would stop this whole process group.
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cat > "$work/stagegate.toml" <<'TOML'
[product]
name = "heartbeat bench"

[environments.prod]
mode = "staging"

[environments.prod.monitoring]

[[environments.prod.monitoring.checks]]
name = "failing"
kind = "heartbeat"
token = "fail-token"
interval = "1d"

[[environments.prod.monitoring.checks]]
name = "late"
kind = "heartbeat"
token = "late-token"
interval = "2s"
grace = "1s"
TOML
cd "$work"
token=$("$BIN" token create --role viewer --name bench --data-dir data 2>/dev/null)
NO_COLOR=1 "$BIN" serve --listen 127.0.0.1:0 --data-dir data 2> serve.log &
pid=$!
for _ in $(seq 100); do
  addr=$(grep -o 'listening on http://[0-9.:]*' serve.log | head -1 | sed 's|listening on ||') || true
  [ -n "${addr:-}" ] && break
  sleep 0.1
done
python3 - "$addr" "$token" "$RUNS" "${LATE:-1}" <<'PY'
import json, statistics, sys, time, urllib.request
addr, token, runs, with_late = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"

def call(path, method="GET"):
    req = urllib.request.Request(f"{addr}{path}", method=method,
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()

def open_incident(check, after_ms):
    deadline = time.time() + 30
    while time.time() < deadline:
        for i in json.loads(call("/api/v1/incidents"))["incidents"]:
            if i["check"] == check and i["opened_at"] >= after_ms and i["resolved_at"] is None:
                return i["opened_at"]
        time.sleep(0.005)
    raise SystemExit(f"no incident for {check}")

def resolved(check):
    deadline = time.time() + 30
    while time.time() < deadline:
        if not any(i["check"] == check and i["resolved_at"] is None
                   for i in json.loads(call("/api/v1/incidents"))["incidents"]):
            return
        time.sleep(0.005)
    raise SystemExit(f"{check} never resolved")

fail, late = [], []
for _ in range(runs):
    sent = int(time.time() * 1000)
    call("/ping/fail-token/fail", "POST")
    fail.append(open_incident("prod/failing", sent - 1) - sent)
    call("/ping/fail-token", "POST")
    resolved("prod/failing")

    if with_late:
        call("/ping/late-token", "POST")
        pinged = int(time.time() * 1000)
        resolved("prod/late")
        late.append(open_incident("prod/late", pinged) - (pinged + 3000))

def show(name, xs):
    xs = sorted(xs)
    print(f"{name}: median {statistics.median(xs):.0f} ms, p90 {xs[int(len(xs) * 0.9) - 1]:.0f} ms, max {xs[-1]:.0f} ms over {len(xs)}")
show("fail ping -> incident opened", fail)
if late:
    show("late heartbeat -> incident opened, after its deadline", late)
PY
