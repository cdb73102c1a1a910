#!/usr/bin/env bash
# `make browser-test`: starts pbx-server, then drives the docs page and the portal in Debian's chromium
# (playwright-core from npm). The screenshots are kept in target/browser/ (portal-readme.png is the README's,
# copied to docs/portal.png by `make screenshot`).
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}
command -v "${CHROMIUM:-chromium}" > /dev/null || { echo "chromium is not installed (apt-get install chromium)" >&2; exit 1; }
(cd tests/browser && npm install --silent --no-audit --no-fund)
cargo build -q -p pbx-server
cargo build -q -p pbx-infra --example fake_pbx
bin=$target/debug/pbx-server
data=$(mktemp -d)
# A fake Kazoo on loopback for the connection checks' steps (Check now, Test connection).
fakes_out=$(mktemp)
# It stops by itself after 5 minutes, should this script fail before it kills it.
"$target/debug/examples/fake_pbx" 300 > "$fakes_out" 2> /dev/null &
fake_pid=$!
for _ in $(seq 100); do [ -s "$fakes_out" ] && break; sleep 0.1; done
read -r fake_rest fake_ws _ fake_key < "$fakes_out"
export FAKE_KAZOO_REST=${fake_rest#rest=} FAKE_KAZOO_WS=${fake_ws#ws=}/ok FAKE_KAZOO_KEY=${fake_key#key=}
# shellcheck source=scripts/server.sh
source scripts/server.sh
# The portal test signs in with the development token, which is off unless asked for.
# The webhook step names a host this machine cannot resolve: allowed here (its deliveries fail, and are logged).
# Profiles may name the fake Kazoo on loopback (plain http/ws): checks may reach it.
start_server "$bin" "$data" PBX_LOG_FORMAT=text PBX_DEV_TOKENS=true PBX_WEBHOOKS_ALLOW_PRIVATE=true \
  PBX_PBX_HOSTS_ALLOW_PRIVATE=true
url=$server_url
token=$("$bin" --data-dir "$data" token --tenant 6f1c3c1e-2b1a-4d7e-9a53-0d5c1b2a3e4f | tail -n 1)
customer=$(curl -s -X POST "$url/api/v1.0/customers" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"name": "Browser test"}' | sed -E 's/^\{"data":\{"id":"([^"]+)".*/\1/')
mkdir -p "$target/browser"
# The README's curl walk, as a newcomer runs it (its first `sh` block under "Try the seed's request"), against this
# server: the portal test then finds its customer and profile under the development token.
walk=$(awk '/^### Try the seed/ {found = 1} found && /^```sh$/ {code = 1; next} code && /^```$/ {exit} code' README.md)
walk=${walk//cargo run -q -p pbx-server --/\"$bin\" --data-dir \"$data\"}
walk=${walk//http:\/\/127.0.0.1:8080/$url}
bash -euo pipefail -c "$walk" > "$target/browser/readme-walk.txt"
grep -q '^HTTP/1.1 201' "$target/browser/readme-walk.txt" || { cat "$target/browser/readme-walk.txt"; exit 1; }
node tests/browser/docs-page.cjs "$url" "$token" "$customer" "$target/browser/docs-page.png"
node tests/browser/portal.cjs "$url" "$target/browser" "$target/browser/portal-readme.png"
kill "$fake_pid" 2> /dev/null || true
