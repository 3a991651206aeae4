#!/usr/bin/env bash
# Runs one libFuzzer target for ctest (tests/fuzz/CMakeLists.txt).
#   run_fuzz.sh regress BIN SEEDS REGRESSIONS
#       every seed and regression input once, no fuzzing: fails if any of them crashes
#   run_fuzz.sh fuzz BIN SEEDS REGRESSIONS WORKDIR SECONDS
#       fuzzes for SECONDS ($CKPT_FUZZ_SECONDS overrides), new inputs go to WORKDIR/corpus
#       (the committed seeds are never changed); a crash leaves its input in WORKDIR/crashes
set -euo pipefail
mode=$1 bin=$2 seeds=$3 regressions=$4
name=$(basename "$bin")
dirs=("$seeds")
[[ -d $regressions ]] && dirs+=("$regressions")
# Leaks are reported (ASan's default) and fail the run; inputs are small, so are limits.
common=(-rss_limit_mb=2048 -timeout=20 -max_len=65536)
case $mode in
regress)
  n=$(find "${dirs[@]}" -type f | wc -l)
  echo "$name: running $n inputs from ${dirs[*]}"
  exec "$bin" "${common[@]}" -runs=0 "${dirs[@]}"
  ;;
fuzz)
  work=$5 seconds=${CKPT_FUZZ_SECONDS:-$6}
  mkdir -p "$work/corpus" "$work/crashes"
  echo "$name: fuzzing for $seconds s (CKPT_FUZZ_SECONDS), corpus $work/corpus"
  if "$bin" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$work/crashes/" "$work/corpus" "${dirs[@]}"; then
    exit 0
  fi
  echo "$name: FOUND A PROBLEM; its input is in $work/crashes/. Fix the reader, then keep the"
  echo "input as a regression: cp $work/crashes/<file> $regressions/"
  exit 1
  ;;
*) echo "usage: $0 regress|fuzz ..." >&2; exit 2 ;;
esac
