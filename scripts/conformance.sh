#!/usr/bin/env bash
# `make conformance`: schemathesis (from PyPI, in a virtualenv) against a freshly started server, for every operation
# of docs/openapi.json: no server error, and no answer that breaks the document. PBX_CONFORMANCE_EXAMPLES bounds the
# examples per operation (default 100). One worker: CPython 3.11 can fail parsing in concurrent threads.
#
# Every check runs, positive_data_acceptance included: a request that fits the document must be accepted. The
# statuses allowed besides the defaults are the stateful ones, set in scripts/schemathesis.toml (with why).
#
# scripts/conformance_hooks.py gives each request a fresh Idempotency-Key (see why there).
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${PBX_CONFORMANCE_EXAMPLES:-100}
target=${CARGO_TARGET_DIR:-target}
venv=${PBX_CONFORMANCE_VENV:-$target/conformance-venv}
# shellcheck source=scripts/server.sh
source scripts/server.sh
python_tool "$venv" st "schemathesis==4.32.5"

cargo build -q -p pbx-server
bin=$target/debug/pbx-server
data=$(mktemp -d)
# Webhooks and PBX hosts may name any address (none is called): schema-valid URLs are then accepted. The address
# rule is what JSON Schema cannot say (docs/api.md); tests/api covers it.
start_server "$bin" "$data" PBX_RATE_LIMIT=0 PBX_WEBHOOKS_ALLOW_PRIVATE=true PBX_PBX_HOSTS_ALLOW_PRIVATE=true
url=$server_url
token=$("$bin" --data-dir "$data" token --tenant 6f1c3c1e-2b1a-4d7e-9a53-0d5c1b2a3e4f | tail -n 1)

echo "== schemathesis against $url, $examples examples per operation"
PYTHONPATH=scripts SCHEMATHESIS_HOOKS=conformance_hooks "$venv/bin/st" --config-file scripts/schemathesis.toml run docs/openapi.json --url "$url" \
  -H "Authorization: Bearer $token" \
  --checks all \
  --max-examples "$examples" --workers 1 --warnings off ${PBX_CONFORMANCE_SEED:+--seed "$PBX_CONFORMANCE_SEED"}
