#!/usr/bin/env bash
# End-to-end timing of `stagegate check` on a generated 10,000-environment
# spec (10 servers and 5 checks each), beside parsing the same file with
# Python's tomllib as a point of reference. Needs hyperfine (apt-get install
# hyperfine). Results go into BENCHMARKS.md by hand, with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p stagegate
cargo bench -q -p stagegate --bench check --no-run 2>/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
bench=$(ls -t target/release/deps/check-* | grep -v '\.d$' | head -1)
"$bench" "$dir/stagegate.toml"
mkdir -p "$dir/rb" "$dir/docs"
for f in unavailability failure backup-restore hardware-swap data-corruption attack-mitigation security-breach; do
  echo "# $f" > "$dir/rb/$f.md"
done
echo "# agreement" > "$dir/docs/agreement.md"
bin="$PWD/target/release/stagegate"
cd "$dir"
hyperfine --warmup 1 --runs "${RUNS:-10}" -i \
  --command-name "stagegate check (text)" "$bin check --as-of 2026-11-26 > /dev/null" \
  --command-name "stagegate check --format json" "$bin check --as-of 2026-11-26 --format json > /dev/null" \
  --command-name "python3 tomllib parse only" "python3 -c \"import tomllib; tomllib.load(open('stagegate.toml','rb'))\""
