#!/usr/bin/env bash
# `make spectral`: lints docs/openapi.json with Spectral (@stoplight/spectral-cli, npm, pinned; installed under the
# target folder when missing) and its `spectral:oas` ruleset (.spectral.yaml). Any finding fails, warnings and
# hints included: the document has none.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
prefix=$target/spectral
version=6.16.3
if [ "$(cat "$prefix/version" 2> /dev/null)" != "$version" ]; then
  echo "== installing @stoplight/spectral-cli $version in $prefix"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --silent --no-audit --no-fund "@stoplight/spectral-cli@$version" > /dev/null
  echo "$version" > "$prefix/version"
fi
"$prefix/node_modules/.bin/spectral" lint docs/openapi.json --ruleset .spectral.yaml --fail-severity=hint
