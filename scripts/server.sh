# Sourced by the scripts that drive a real server: `start_server BINARY DATA_DIR [ENV=VALUE...]` starts
# `BINARY serve` on a free port with DATA_DIR, sets `server_url` and `server_pid`, and stops it on exit.
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
