#!/usr/bin/env bash
# The host agent's cost. Two measures:
#   1. one `stagegate agent --dry-run` run on this machine, RUNS times:
#      wall time, CPU (user + system) and peak RSS, with the real apt-get,
#      then with apt-get replaced by its recorded output (the agent's own
#      cost), and apt-get -s alone;
#   2. a server (SQLite) taking reports from N (1,000) agents, each once a
#      minute, for SECONDS (120) after a warm-up: its CPU as a share of one
#      core, read from /proc.
#
#   bash bench/agent.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
N=${N:-1000}
SECONDS_RUN=${SECONDS_RUN:-120}
ADDR=127.0.0.1:18485
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(stagegate_bin)
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# "wall_s cpu_s maxrss_kb" of one run of "$@"
measure() { /usr/bin/time -f "%e %U %S %M" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%s %.3f %s\n", $1, $2 + $3, $4}'; }
report() { # name, then lines of "wall cpu rss" on stdin
  local rows; rows=$(cat)
  printf '%-44s wall %5.0f ms   cpu %5.0f ms   peak rss %6.1f MB\n' "$1" \
    "$(awk '{print $1 * 1000}' <<<"$rows" | median)" \
    "$(awk '{print $2 * 1000}' <<<"$rows" | median)" \
    "$(awk '{print $3 / 1024}' <<<"$rows" | median)"
}

echo "== one agent run, median of $RUNS"
for _ in $(seq 1 "$RUNS"); do measure "$bin" agent --dry-run --format json --name bench; done \
  | report "agent, real apt-get -s"
for _ in $(seq 1 "$RUNS"); do measure apt-get -s -o Debug::NoLocking=1 dist-upgrade; done \
  | report "apt-get -s alone"
mkdir -p "$work/fakebin"
cp crates/stagegate-agent/tests/fixtures/apt-debian12.txt "$work/apt.txt"
printf '#!/bin/sh\ncat %s\n' "$work/apt.txt" > "$work/fakebin/apt-get"
chmod +x "$work/fakebin/apt-get"
for _ in $(seq 1 "$RUNS"); do PATH="$work/fakebin:$PATH" measure "$bin" agent --dry-run --format json --name bench; done \
  | report "agent, apt-get replaced by its recorded output"

echo "== a server taking reports from $N agents, each once a minute, for $SECONDS_RUN s"
python3 - "$N" > "$work/stagegate.toml" <<'PY'
import sys
n = int(sys.argv[1])
print('[product]\nname = "agent bench"\n')
print('[environments.fleet]\nmode = "production"\n')
print('[environments.fleet.agent]\ninterval = "1m"\n')
for i in range(n):
    print(f'[[environments.fleet.servers]]\nname = "s{i}"\nroles = ["core"]\nlocation = "fra1"\n')
PY
cd "$work"
for i in $(seq 0 $((N - 1))); do
  "$bin" token create --role agent --name "s$i" --data-dir data 2>/dev/null
done > tokens.txt
"$bin" agent --dry-run --format json --name s0 > report.json
NO_COLOR=1 "$bin" serve --listen "$ADDR" --data-dir data 2> serve.log &
pid=$!
for _ in $(seq 1 300); do
  curl -fsS "http://$ADDR/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
python3 - "$ADDR" "$pid" "$SECONDS_RUN" <<'PY'
import http.client, json, os, sys, time
addr, pid, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
host, port = addr.split(":")
tokens = open("tokens.txt").read().split()
template = json.load(open("report.json"))
tick = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
conn = http.client.HTTPConnection(host, int(port), timeout=30)
gap = 60.0 / len(tokens)
sent = refused = 0
def run(duration):
    global sent, refused, conn
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < duration:
        due = start + i * gap
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        k = i % len(tokens)
        body = dict(template, server=f"s{k}", collected_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        try:
            conn.request("POST", "/api/v1/agents/report", json.dumps(body),
                         {"authorization": f"Bearer {tokens[k]}", "content-type": "application/json"})
            r = conn.getresponse(); r.read()
            sent += 1
            refused += r.status != 201
        except Exception:
            refused += 1
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
        i += 1
run(10)  # warm-up: every token touched once in its minute
sent = refused = 0
c0, t0 = cpu(), time.monotonic()
run(seconds)
c1, t1 = cpu(), time.monotonic()
print(f"{sent} reports in {t1 - t0:.0f} s ({sent / (t1 - t0):.1f}/s), {refused} refused; "
      f"server CPU {100 * (c1 - c0) / (t1 - t0):.2f}% of one core; report size {len(json.dumps(template))} bytes")
PY
