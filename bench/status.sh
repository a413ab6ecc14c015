#!/usr/bin/env bash
# The public status page of an environment with 200 components (one http
# check each, 30 s interval, probing a loopback target) and 90 days of
# history (daily rollups and 60 past incidents with public updates seeded
# into the SQLite store), served by one node:
# - the first request (the page built from the store) and a rebuild after
#   the 15 s freshness lapses, timed by curl;
# - latency on one connection and throughput on 16, by wrk, for the HTML
#   page, its JSON and a badge.
#
#   bash bench/status.sh            # needs wrk and sqlite3 (apt-get install wrk sqlite3)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
COMPONENTS=${COMPONENTS:-200}
TARGET=127.0.0.1:18191
ADDR=127.0.0.1:18595
bin=$(stagegate_bin)
cargo build --release -q -p stagegate-probe --example bench_target
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
target/release/examples/bench_target "$TARGET" 2>/dev/null &
pids+=($!)
python3 - "$COMPONENTS" "$TARGET" > "$work/stagegate.toml" <<'PY'
import sys
n, target = int(sys.argv[1]), sys.argv[2]
print('[product]\nname = "status bench"\n\n[environments.shop]\nmode = "production"\n')
print('[environments.shop.monitoring]\n')
for c in range(n):
    print(f'[[environments.shop.monitoring.checks]]\nname = "c{c}"\nkind = "http"\nurl = "http://{target}/health"\ninterval = "30s"\n')
print('[environments.shop.status_page]\ntitle = "Shop status"\ncomponents = [')
for c in range(n):
    print(f'  {{ name = "Component {c}", checks = ["c{c}"] }},')
print(']')
PY
cd "$work"
"$bin" token create --role viewer --name bench --data-dir data >/dev/null 2>&1
python3 - "$COMPONENTS" <<'PY'
import random, sqlite3, sys, time
n = int(sys.argv[1])
day = 86_400_000
today = int(time.time() * 1000) // day * day
db = sqlite3.connect("data/stagegate.db")
rows = []
random.seed(7)
for c in range(n):
    for d in range(1, 90):
        total = 2880
        passed = total - (random.randrange(0, 40) if random.random() < 0.05 else 0)
        rows.append((f"shop/c{c}", "day", today - d * day, total, passed, total * 3.0, 40.0))
db.executemany("INSERT INTO rollups (check_key, period, bucket, total, passed, latency_sum, latency_max) VALUES (?,?,?,?,?,?,?)", rows)
for k in range(60):
    opened = today - (k + 1) * day - 3_600_000
    cur = db.execute("INSERT INTO incidents (check_key, environment, state, opened_at, resolved_at, message) VALUES (?,?,?,?,?,?)",
                     (f"shop/c{k % n}", "shop", "resolved", opened, opened + 1_800_000, "HTTP 503"))
    for i, status in enumerate(["investigating", "identified", "resolved"]):
        db.execute("INSERT INTO incident_updates (incident_id, status, message, posted_by, posted_at) VALUES (?,?,?,?,?)",
                   (cur.lastrowid, status, f"Update {i} on incident {k}: what we know and what we do next.", "ops", opened + i * 600_000))
db.commit()
print(f"seeded {len(rows)} daily rollups and 60 incidents with 3 updates each")
PY
NO_COLOR=1 "$bin" serve --listen "$ADDR" --data-dir data 2> serve.log &
pids+=($!)
for _ in $(seq 100); do curl -fsS "http://$ADDR/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
url="http://$ADDR/status/shop"
first=$(curl -fsS -o page.html -w '%{time_total}' "$url")
echo "first request (built from the store): ${first}s, $(wc -c < page.html) bytes of HTML, $(curl -fsS "$url.json" | wc -c) bytes of JSON"
sleep 16
echo "rebuild after the freshness lapsed: $(curl -fsS -o /dev/null -w '%{time_total}' "$url")s"
for path in /status/shop /status/shop.json /badge/shop/component-7.svg; do
  echo "== $path: 1 connection"
  wrk -t1 -c1 -d10s --latency "http://$ADDR$path" | grep -E "^ +(50|99)%|Requests/sec"
  echo "== $path: 16 connections"
  wrk -t2 -c16 -d10s --latency "http://$ADDR$path" | grep -E "^ +(50|99)%|Requests/sec"
done
