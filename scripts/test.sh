#!/usr/bin/env bash
# `make test`: every test on SQLite, then the database-backed tests (the infra adapters and the black-box HTTP
# suite) again on PostgreSQL and on MySQL/MariaDB when PBX_TEST_POSTGRES_URL / PBX_TEST_MYSQL_URL are set.
# Ends with one line per backend and a total.
set -uo pipefail
cargo=${CARGO:-cargo}
summary=()
total_passed=0
total_failed=0
status=0
# Tests that measure something (crash rounds, overload) append a line here; printed with the summary.
report="${CARGO_TARGET_DIR:-$(pwd)/target}/test-report.txt"
mkdir -p "$(dirname "$report")"
: > "$report"
export PBX_TEST_REPORT=$report

# run LABEL ENV... : runs cargo test with the given environment, tallies its "test result" lines.
run() {
  local label=$1; shift
  local log
  log=$(mktemp)
  echo
  echo "================ $label"
  env "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local passed failed
  passed=$(grep -Eo '^test result: [A-Za-z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
  failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s += $1} END {print s + 0}')
  rm -f "$log"
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi # a build error fails too
  [ "$rc" -ne 0 ] && status=1
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  summary+=("$(printf '%-11s %4d passed, %d failed' "$label:" "$passed" "$failed")")
}

run SQLite PBX_TEST_BACKEND=sqlite "$cargo" test --workspace --no-fail-fast

for backend in postgres mysql; do
  case $backend in
    postgres) label=PostgreSQL; var=PBX_TEST_POSTGRES_URL ;;
    mysql) label=MySQL; var=PBX_TEST_MYSQL_URL ;;
  esac
  if [ -n "${!var:-}" ]; then
    run "$label" PBX_TEST_BACKEND=$backend "$cargo" test -p pbx-infra -p pbx-server -p pbx-collector --no-fail-fast
  else
    summary+=("$(printf '%-11s skipped: set %s to run the database tests on it' "$label:" "$var")")
  fi
done

echo
echo "================ Measured by the tests"
cat "$report"
echo
echo "================ Summary"
printf '%s\n' "${summary[@]}"
echo "$total_passed passed, $total_failed failed"
exit $status
