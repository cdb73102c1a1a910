#!/usr/bin/env bash
# `make browser-test`: starts pbx-server, then drives the docs page in Debian's chromium (playwright-core from npm).
# The screenshot is kept in target/browser/.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}
command -v "${CHROMIUM:-chromium}" > /dev/null || { echo "chromium is not installed (apt-get install chromium)" >&2; exit 1; }
(cd tests/browser && npm install --silent --no-audit --no-fund)
cargo build -q -p pbx-server
bin=$target/debug/pbx-server
data=$(mktemp -d)
"$bin" --data-dir "$data" serve --bind 127.0.0.1:0 > "$data/stdout" 2> "$data/server.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^pbx-server listening on //p' "$data/stdout")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$data/server.log"; exit 1; }
token=$("$bin" --data-dir "$data" token --tenant 6f1c3c1e-2b1a-4d7e-9a53-0d5c1b2a3e4f | tail -n 1)
customer=$(curl -s -X POST "$url/api/v1.0/customers" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"name": "Browser test"}' | sed -E 's/^\{"data":\{"id":"([^"]+)".*/\1/')
mkdir -p "$target/browser"
node tests/browser/docs-page.cjs "$url" "$token" "$customer" "$target/browser/docs-page.png"
