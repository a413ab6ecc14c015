#!/usr/bin/env bash
# OSCAL documents validated by compliance-trestle (PyPI) against OSCAL 1.1:
# for every framework, the assessment results and the plan of action of the
# examples are imported into a trestle workspace, which validates them
# against trestle's OSCAL 1.1.3 models. Trestle leaves two rules of the
# OSCAL schema unchecked (a supported oscal-version, at least one POA&M
# item); they are checked here. Run by .ci/run after the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
venv="$target/oscal-venv"
# trestle 3.12 is the last release on OSCAL 1.1 (4.x and later follow 1.2).
if [ ! -x "$venv/bin/trestle" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "compliance-trestle==3.12.4"
fi
cargo build -q --locked -p stagegate --bin stagegate
bin="$target/debug/stagegate"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/out" "$work/ws"
(cd "$work/ws" && "$venv/bin/trestle" init >/dev/null)
count=0
for example in ecommerce-shop health-app startup-beta; do
  spec="examples/$example/stagegate.toml"
  for framework in gdpr ccpa hipaa pci-dss fisma nist-800-171 iso-27001 wcag section-508; do
    for format in oscal-ar oscal-poam; do
      name="$example-$framework-$format"
      out="$work/out/$name.json"
      set +e
      "$bin" report --framework "$framework" "$spec" -f "$format" -o "$out" --as-of 2026-12-01 2>"$work/stderr"
      code=$?
      set -e
      if [ "$code" -gt 1 ]; then
        cat "$work/stderr" >&2
        echo "report $name exited $code" >&2
        exit 1
      fi
      if [ ! -f "$out" ]; then
        # Only an empty plan of action is left unwritten, and it says so.
        grep -q "no POA&M item" "$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
        continue
      fi
      python3 - "$out" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
(kind, body), = doc.items()
version = body["metadata"]["oscal-version"]
assert re.fullmatch(r"1\.1\.[0-3]", version), f"oscal-version {version}"
if kind == "plan-of-action-and-milestones":
    assert body["poam-items"], "a plan of action needs at least one item"
PY
      (cd "$work/ws" && "$venv/bin/trestle" import -f "$out" -o "$name" >/dev/null 2>"$work/trestle.err") || {
        cat "$work/trestle.err" >&2
        echo "trestle refused $name" >&2
        exit 1
      }
      count=$((count + 1))
    done
  done
done
(cd "$work/ws" && "$venv/bin/trestle" validate -a >/dev/null)
echo "trestle validated $count OSCAL documents"
