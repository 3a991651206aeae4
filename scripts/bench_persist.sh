#!/bin/bash
# Benchmarks of the persistent-state layer (docs/performance.md; run by scripts/bench.sh).
#   - the first 4 KiB pwrite into a 1 GiB file after a checkpoint (goal < 1 ms, a few KiB of
#     undo data, not a copy of the file), with and without --sync-undo;
#   - appends after a checkpoint (first one, then the average);
#   - 1 million 4 KiB writes with and without libckpt.so (under ckpt-run), as a ratio (goal < 5%):
#     "loop" = a file created in the epoch (the common case: nothing to save), "loop-existing" =
#     a file that existed at the checkpoint, rewritten in place (its old contents are saved once).
# usage: scripts/bench_persist.sh [BUILD_DIR]   (env: REPEAT=3, BENCH_TMP=/tmp)
set -euo pipefail
BUILD=${1:-build}
BENCH=$BUILD/tests/e2e_persist/persist_bench
RUN=$BUILD/bin/ckpt-run
REPEAT=${REPEAT:-3}
[ -x "$BENCH" ] && [ -x "$RUN" ] || { echo "build first: cmake --build $BUILD" >&2; exit 1; }
TMP=$(mktemp -d "${BENCH_TMP:-/tmp}/ckpt-bench-persist.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/w"

direct() { "$BENCH" "$TMP/w" "$1"; }
ckpt() { "$RUN" --dir "$TMP/jobs" --name "b$RANDOM" --interval 1h -q "${@:2}" -- "$BENCH" "$TMP/w" "$1"; }
value() { awk -v k="$1" '$1 == k { print $2 }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

repeat() {  # repeat KEY MODE RUNNER [ARGS]: median of REPEAT runs
    local key=$1 mode=$2; shift 2
    for _ in $(seq "$REPEAT"); do "$@" "$mode" | value "$key"; done | median
}
ckpt_sync() { ckpt "$1" --sync-undo; }

echo "# persistent-state benchmarks ($(uname -r), $(nproc) cores, $(df -T "$TMP" | awk 'NR==2 {print $2}') at $TMP)"
printf '%-58s %14s %14s\n' "measure" "without ckpt" "under ckpt-run"

fd=$(repeat first_pwrite_4k_in_1g_us first direct)
fc=$(repeat first_pwrite_4k_in_1g_us first ckpt)
fs=$(repeat first_pwrite_4k_in_1g_us first ckpt_sync)
ub=$(repeat first_pwrite_undo_bytes first ckpt)
sc=$(repeat second_pwrite_same_range_us first ckpt)
printf '%-58s %14s %14s\n' "first 4 KiB pwrite into a 1 GiB file after a checkpoint, us" "$fd" "$fc"
printf '%-58s %14s %14s\n' "  same, --sync-undo, us" "" "$fs"
printf '%-58s %14s %14s\n' "  undo data recorded for it, bytes (log growth)" "" "$ub"
printf '%-58s %14s %14s\n' "  second pwrite to the same range, us" "" "$sc"

ad=$(repeat first_append_us append direct)
ac=$(repeat first_append_us append ckpt)
as=$(repeat first_append_us append ckpt_sync)
md=$(repeat append_100b_avg_us append direct)
mc=$(repeat append_100b_avg_us append ckpt)
au=$(repeat append_undo_bytes append ckpt)
printf '%-58s %14s %14s\n' "first 100-byte append after a checkpoint, us" "$ad" "$ac"
printf '%-58s %14s %14s\n' "  same, --sync-undo, us" "" "$as"
printf '%-58s %14s %14s\n' "following appends, average us" "$md" "$mc"
printf '%-58s %14s %14s\n' "  undo data for 100000 appends, bytes" "" "$au"

for mode in loop loop-existing; do
    key=${mode/-/_}_1m_4k_writes_s
    d=$(repeat "$key" "$mode" direct)
    c=$(repeat "$key" "$mode" ckpt)
    ratio=$(awk -v a="$d" -v b="$c" 'BEGIN { printf "%.3f", b / a }')
    printf '%-58s %14s %14s   ratio %s\n' "1M x 4 KiB writes ($mode), s" "$d" "$c" "$ratio"
done
