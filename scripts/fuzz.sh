#!/usr/bin/env bash
# `make fuzz`: each fuzz target of fuzz/ for FUZZ_SECONDS (default 60) with libFuzzer through cargo-fuzz
# (installed from crates.io when missing), on the stable toolchain (no sanitizer: the code forbids `unsafe`, so
# what is looked for is a panic or a 5xx answer). The corpus grows in target/fuzz-corpus/<target>; a crash is
# written to fuzz/artifacts/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
target=${CARGO_TARGET_DIR:-$(pwd)/target}
if ! cargo fuzz --version > /dev/null 2>&1; then
  echo "== installing cargo-fuzz (crates.io)"
  cargo install cargo-fuzz --locked --quiet
fi
for fuzz_target in create_pbx_body patch_pbx_body; do
  corpus=$target/fuzz-corpus/$fuzz_target
  mkdir -p "$corpus"
  echo "== fuzzing $fuzz_target for ${seconds}s"
  log=$target/fuzz-$fuzz_target.log
  if ! cargo fuzz run --sanitizer none --release "$fuzz_target" "$corpus" "fuzz/seeds/$fuzz_target" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 > "$log" 2>&1; then
    tail -n 40 "$log"
    echo "== $fuzz_target found a failure: the input is in fuzz/artifacts/$fuzz_target/" >&2
    exit 1
  fi
  grep -E "^Done|stat::number_of_executed_units|stat::peak_rss_mb" "$log"
done
