# What the bench scripts share; sourced, not run.

# The stagegate to measure: $BIN (another build run side by side, say the
# last release, for a ratio rather than a figure), or this tree's release
# build, built first.
stagegate_bin() {
  if [ -n "${BIN:-}" ]; then
    echo "$BIN"
  else
    cargo build --release -q -p stagegate --bin stagegate
    echo "$PWD/target/release/stagegate"
  fi
}

# A spec with one heartbeat, `nightly`, pinged at /ping/bench-token.
heartbeat_spec() {
  cat <<'TOML'
[product]
name = "heartbeat bench"

[environments.prod]
mode = "staging"

[environments.prod.monitoring]

[[environments.prod.monitoring.checks]]
name = "nightly"
kind = "heartbeat"
token = "bench-token"
interval = "24h"
TOML
}

# In the background, a loopback HTTP target on port $1 that answers 503
# while the file `down` exists (in the current directory) and 200
# otherwise, and a webhook receiver on port $2 that appends
# "<unix time> <event> <level> <incident>" to `events` for each delivery.
# Prints the process id.
target_and_hook() {
  python3 - "$1" "$2" > /dev/null 2>&1 <<'PY' &
import http.server, json, os, sys, threading, time
class Target(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503 if os.path.exists("down") else 200); self.end_headers()
    def log_message(self, *a): pass
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        with open("events", "a") as f:
            f.write(f"{time.time()} {body.get('event')} {body.get('level')} {body.get('incident')}\n")
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
for port, h in ((int(sys.argv[1]), Target), (int(sys.argv[2]), Hook)):
    s = http.server.ThreadingHTTPServer(("127.0.0.1", port), h)
    threading.Thread(target=s.serve_forever, daemon=True).start()
threading.Event().wait()
PY
  echo $!
}
