# Sourced by the scripts that drive a real server: `start_server BINARY DATA_DIR [ENV=VALUE...]` starts
# `BINARY serve` on a free port with DATA_DIR, sets `server_url` and `server_pid`, and stops it on exit.

# python_tool VENV EXECUTABLE PACKAGE: makes sure VENV/bin/EXECUTABLE exists, installing PACKAGE (pinned) from PyPI
# into the virtualenv VENV when it does not.
python_tool() {
  if [ ! -x "$1/bin/$2" ]; then
    echo "== installing $3 in $1"
    python3 -m venv "$1"
    "$1/bin/pip" install --quiet --disable-pip-version-check "$3"
  fi
}

start_server() {
  local bin=$1 data=$2
  shift 2
  env "$@" "$bin" --data-dir "$data" serve --bind 127.0.0.1:0 > "$data/stdout" 2> "$data/server.log" &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; rm -rf "'"$data"'"' EXIT
  server_url=
  for _ in $(seq 1 100); do
    server_url=$(sed -n 's/^pbx-server listening on //p' "$data/stdout")
    [ -n "$server_url" ] && return 0
    sleep 0.1
  done
  cat "$data/server.log" >&2
  return 1
}
