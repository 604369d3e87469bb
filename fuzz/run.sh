#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers that read what strangers write:
# feed lines, every connector's response parser, the config file and the
# backtest CSV. Not part of CI (the property tests in tests/hostile_input.rs
# cover the same inputs there); run it by hand:
#
#   fuzz/run.sh                 # every target for 60 s each
#   fuzz/run.sh feed_line 600   # one target for 10 minutes
#
# cargo-fuzz drives libFuzzer. It wants a nightly compiler for the
# sanitizers; with the stable toolchain it runs without them
# (--sanitizer none), on RUSTC_BOOTSTRAP=1. Crashes land in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=("${1:-feed_line source_responses config backtest_csv times_and_durations}")
seconds="${2:-60}"
for target in ${targets[@]}; do
    echo "== fuzzing $target for ${seconds}s"
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" --sanitizer none -- -max_total_time="$seconds" -rss_limit_mb=2048
done
