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
