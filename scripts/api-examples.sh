#!/usr/bin/env bash
# `make api-examples`: runs every curl example of docs/api.md, in the order the page gives them, against a fresh
# server, as a reader pasting them one after the other would. Each example must answer 2xx (the page shows no
# failing example), and the ids the examples capture ($CUSTOMER, $PBX, …) must be GUIDs.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
cargo build -q -p pbx-server
bin=$target/debug/pbx-server
data=$(mktemp -d)
# shellcheck source=scripts/server.sh
source scripts/server.sh
# The webhook examples name a host this machine cannot resolve: allowed here (nothing is delivered to it).
start_server "$bin" "$data" PBX_WEBHOOKS_ALLOW_PRIVATE=true

# The page's first block sets BASE and TOKEN for `make run`; here they name this server and its key.
BASE=$server_url/api/v1.0
TOKEN=$("$bin" --data-dir "$data" token --tenant 6f1c3c1e-2b1a-4d7e-9a53-0d5c1b2a3e4f | tail -n 1)
AUTH="Authorization: Bearer $TOKEN"
COLLECTOR="Authorization: Bearer $("$bin" --data-dir "$data" token --tenant 0b7e3d5a-6c1f-4e2a-8d9b-3f4a5b6c7d8e --scope collector | tail -n 1)"
JSON='Content-Type: application/json'
command -v uuidgen > /dev/null || uuidgen() { cat /proc/sys/kernel/random/uuid; }

# Each curl also reports its status on stderr, leaving its output as the example expects it.
statuses=$data/statuses
curl() { command curl -w "%{stderr}%{http_code} %{method} %{url_effective}\n" "$@" 2>> "$statuses"; }

blocks=$(awk '/^```sh/ { inside = 1; n++; next } /^```/ { inside = 0 } inside && n > 1' docs/api.md)
echo "$blocks" > "$data/examples.sh"
# shellcheck disable=SC1091
source "$data/examples.sh" > "$data/output"

ran=$(wc -l < "$statuses")
failed=$(grep -cv '^2' "$statuses" || true)
sed 's/^/  /' "$statuses"
for name in CUSTOMER SPARE PBX ACCOUNT WEBHOOK_ID; do
  [[ ${!name:-} =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || {
    echo "api-examples: \$$name is not a GUID: '${!name:-}'" >&2
    failed=$((failed + 1))
  }
done
if [ "$ran" -eq 0 ] || [ "$failed" -ne 0 ]; then
  echo "api-examples: $failed of $ran requests failed; the answers:" >&2
  cat "$data/output" >&2
  exit 1
fi
echo "api-examples: $ran requests of docs/api.md answered 2xx, in order"
