#!/usr/bin/env bash
# Evidence at scale. One soft-launch environment with N (1,000) http checks
# covering core, whose store holds 90 days of hourly rollups, a result per
# check, an incident every few hours and 90 backup runs; on SQLite (default)
# or PostgreSQL (DB=postgres://...). Measures, as medians of RUNS requests:
#   - the promotion facts (GET /api/v1/environments/beta/promotion),
#   - a refused promotion (POST .../promotions: facts, plan and gates),
#   - `check --server` end to end (observations fetched, spec judged);
# then `audit verify` of AUDIT (1,000,000) chained records read from the
# store, in records per second.
#
#   bash bench/gates.sh
#   DB=postgres://postgres@127.0.0.1/test bash bench/gates.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
RUNS=${RUNS:-15}
AUDIT=${AUDIT:-1000000}
ADDR=127.0.0.1:18484
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(stagegate_bin)
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
if [ -n "${DB:-}" ]; then
  store=(--db "$DB")
  psql "$DB" -q -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' >/dev/null
else
  store=(--data-dir "$work/data")
fi

python3 - "$N" > "$work/stagegate.toml" <<'PY'
import sys
n = int(sys.argv[1])
print('[product]\nname = "gates bench"\navailability_target = 99.0\n')
print('[policy.promotion]\nsoak = { soft-launch = "14d" }\n')
print('[contacts.ops]\nemail = "ops@example.com"\non_call = true\n')
print('[environments.beta]\nmode = "soft-launch"\naudience = "limited"\n')
print('[[environments.beta.servers]]\nname = "app-1"\nroles = ["core"]\nlocation = "fra1"\n')
print('[environments.beta.monitoring]\nnotify = ["ops"]\n')
print('[[environments.beta.monitoring.checks]]\nname = "backup"\ncovers = "backup"\nkind = "heartbeat"\ntoken = "bench-backup"\ninterval = "24h"\ngrace = "24h"\n')
for c in range(n):
    # A closed loopback port: the one run at start fails at once.
    print(f'[[environments.beta.monitoring.checks]]\nname = "c{c}"\ncovers = "core"\nkind = "http"\nurl = "http://127.0.0.1:9/health"\ninterval = "24h"\n')
PY

# Migrate, and an admin and a viewer token.
admin=$("$bin" token create --role admin --name bench "${store[@]}")
viewer=$("$bin" token create --role viewer --name ci "${store[@]}")

echo "seeding 90 days for $N checks"
python3 - "$N" "$AUDIT" "${DB:-sqlite://$work/data/stagegate.db}" <<'PY'
import hashlib, json, sys, time, io
n, audit_n, url = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
H = 3_600_000
now = int(time.time() * 1000)
start = now - 90 * 24 * H
rollups, results, incidents, pings = [], [], [], []
for c in range(n):
    key = f"beta/c{c}"
    for h in range(90 * 24):
        rollups.append((key, "hour", start - start % H + h * H, 120, 119, 1200.0, 40.0))
    results.append((key, "bench", "fra", now - 60_000, "pass", 10.0, "HTTP 200", "{}"))
for i in range(0, 90 * 24, 6):
    at = start + i * H
    incidents.append((f"beta/c{i % n}", "beta", "resolved", at, at + 300_000, "HTTP 503"))
for d in range(90):
    pings.append(("bench-backup", "success", None, None, now - d * 24 * H, None, None))
GENESIS = "0" * 64
def audit_rows():
    prev = GENESIS
    for seq in range(1, audit_n + 1):
        at_ms = now - (audit_n - seq) * 1000
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at_ms // 1000)) + ".%03dZ" % (at_ms % 1000)
        details = json.dumps({"n": seq, "to": "production"}, separators=(",", ":"), sort_keys=True)
        rec = {"action": "approval", "at": at, "details": None, "prev": prev, "seq": seq, "subject": "beta", "who": "bench"}
        text = ('{"action":"approval","at":%s,"details":%s,"prev":%s,"seq":%d,"subject":"beta","who":"bench"}'
                % (json.dumps(at), details, json.dumps(prev), seq))
        h = hashlib.sha256(text.encode()).hexdigest()
        yield (seq, at_ms, "bench", "approval", "beta", details, prev, h)
        prev = h
if url.startswith("sqlite://"):
    import sqlite3
    db = sqlite3.connect(url[len("sqlite://"):])
    db.executemany("INSERT INTO rollups (check_key, period, bucket, total, passed, latency_sum, latency_max) VALUES (?,?,?,?,?,?,?)", rollups)
    db.executemany("INSERT INTO results (check_key, node, location, started_at, status, latency_ms, summary, evidence) VALUES (?,?,?,?,?,?,?,?)", results)
    db.executemany("INSERT INTO incidents (check_key, environment, state, opened_at, resolved_at, message) VALUES (?,?,?,?,?,?)", incidents)
    db.executemany("INSERT INTO pings (token, kind, exit_code, run_id, received_at, remote, body) VALUES (?,?,?,?,?,?,?)", pings)
    db.execute("DELETE FROM audit")
    db.executemany("INSERT INTO audit (seq, at, who, action, subject, details, prev, hash) VALUES (?,?,?,?,?,?,?,?)", audit_rows())
    db.commit()
else:
    import subprocess
    def copy(table, cols, rows):
        buf = io.StringIO()
        for r in rows:
            buf.write("\t".join("\\N" if v is None else str(v) for v in r) + "\n")
        subprocess.run(["psql", url, "-q", "-c", f"COPY {table} ({cols}) FROM STDIN"], input=buf.getvalue().encode(), check=True)
    copy("rollups", "check_key, period, bucket, total, passed, latency_sum, latency_max", rollups)
    copy("results", "check_key, node, location, started_at, status, latency_ms, summary, evidence", results)
    copy("incidents", "check_key, environment, state, opened_at, resolved_at, message", incidents)
    copy("pings", "token, kind, exit_code, run_id, received_at, remote, body", pings)
    subprocess.run(["psql", url, "-q", "-c", "DELETE FROM audit"], check=True)
    copy("audit", "seq, at, who, action, subject, details, prev, hash", audit_rows())
PY

cd "$work"
NO_COLOR=1 "$bin" serve --listen "$ADDR" "${store[@]}" 2> serve.log &
pid=$!
for _ in $(seq 1 300); do
  curl -fsS "http://$ADDR/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() { # prints milliseconds of one run of "$@"
  local t0 t1
  t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
facts() { curl -fsS -H "authorization: Bearer $viewer" "http://$ADDR/api/v1/environments/beta/promotion?to=production"; }
promote() { curl -sS -o /dev/null -H "authorization: Bearer $admin" -H 'content-type: application/json' -d '{"to":"production"}' "http://$ADDR/api/v1/environments/beta/promotions"; }
gate() { "$bin" check stagegate.toml --server "http://$ADDR" --token "$viewer" -f json; }

facts >/dev/null
echo "promotion facts, median of $RUNS: $(for _ in $(seq 1 "$RUNS"); do timed facts; done | median) ms"
echo "refused promotion (facts, plan, gates), median of $RUNS: $(for _ in $(seq 1 "$RUNS"); do timed promote; done | median) ms"
echo "check --server for $N checks, end to end, median of $RUNS: $(for _ in $(seq 1 "$RUNS"); do timed gate; done | median) ms"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
t0=$(date +%s%N)
"$bin" audit verify "${store[@]}"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "audit verify: $AUDIT records in $ms ms = $(( AUDIT * 1000 / (ms > 0 ? ms : 1) )) records/s"
