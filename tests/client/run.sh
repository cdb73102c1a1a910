#!/usr/bin/env bash
# `make client-test`: generates two clients from docs/openapi.json — Python with openapi-python-client (PyPI, pinned,
# in a virtualenv) and TypeScript with openapi-typescript and openapi-fetch (npm, pinned; type-checked by tsc in
# strict mode) — starts pbx-server, and drives the API through each (tests/client/client_test.py: the seed's two
# creates, a list, a patch, a check and a delete; tests/client/client_test.mts: a customer, the seed's Kazoo create,
# a get, a rename, a list and a 404). A document a standard generator cannot read, types that do not fit the calls,
# or an answer the generated models cannot parse, fail here.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}
venv=${PBX_CLIENT_VENV:-$target/client-venv}
# shellcheck source=scripts/server.sh
source scripts/server.sh
python_tool "$venv" openapi-python-client "openapi-python-client==0.29.1"
out=$target/generated-client
rm -rf "$out"
mkdir -p "$out"
echo "== generating the client from docs/openapi.json"
# A document the generator refuses fails the command: show why, as for a warning.
generated=$("$venv/bin/openapi-python-client" generate --path docs/openapi.json --meta none \
  --output-path "$out/pbx_client" 2>&1) || true
if grep -qE "WARNING|Unable to|Error" <<< "$generated" || [ ! -d "$out/pbx_client" ]; then
  echo "$generated" >&2
  echo "the generator could not read all of docs/openapi.json" >&2
  exit 1
fi

ts=$target/ts-client
ts_packages="openapi-typescript@7.13.0 openapi-fetch@0.17.0 typescript@5.9.3 @types/node@20.19.27"
if [ "$(cat "$ts/packages" 2> /dev/null)" != "$ts_packages" ]; then
  echo "== installing $ts_packages in $ts"
  rm -rf "$ts"
  mkdir -p "$ts"
  # shellcheck disable=SC2086 # one word a package
  npm install --prefix "$ts" --silent --no-audit --no-fund $ts_packages > /dev/null
  echo "$ts_packages" > "$ts/packages"
fi
echo "== generating the TypeScript client from docs/openapi.json and type-checking the test against it"
# --default-non-nullable false: a property with a default stays optional in a request body (the generator's default
# makes it required).
"$ts/node_modules/.bin/openapi-typescript" docs/openapi.json -o "$ts/schema.d.ts" --default-non-nullable false \
  > /dev/null
cp tests/client/client_test.mts tests/client/tsconfig.json "$ts/"
"$ts/node_modules/.bin/tsc" -p "$ts/tsconfig.json"

cargo build -q -p pbx-server
bin=$target/debug/pbx-server
data=$(mktemp -d)
start_server "$bin" "$data"
token=$("$bin" --data-dir "$data" token --tenant 6f1c3c1e-2b1a-4d7e-9a53-0d5c1b2a3e4f | tail -n 1)
echo "== the generated client against $server_url"
PYTHONPATH=$out PBX_URL=$server_url PBX_TOKEN=$token "$venv/bin/python" tests/client/client_test.py
echo "== the generated TypeScript client against $server_url"
PBX_URL=$server_url PBX_TOKEN=$token node "$ts/out/client_test.mjs"
