#!/bin/bash
# scripts/bench_compress.sh BUILD_DIR MIB [REPS] [-- CKPT_RUN_OPTIONS...]: checkpoint and
# restart of MIB MiB of incompressible memory (tests/bench/ckpt-bench-mem) with the ckpt of
# BUILD_DIR: the checkpoint's wall time, the image size, and the restart (restorer start until
# the program runs: last_restore_ns) with the image cached and cold (page cache dropped), next
# to reading the image file once, cached and cold. Cold needs root (drop_caches). Prints
# key=value lines, one per measurement (docs/performance.md, "Compression").
set -euo pipefail
B=$(cd "$1" && pwd); MIB=$2; REPS=${3:-3}; shift $(( $# >= 3 ? 3 : 2 ))
[[ ${1:-} == -- ]] && shift
OPTS=("$@")
D=$(mktemp -d /tmp/ckpt-bench-compress.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$D"' EXIT
MEM=$B/tests/bench/ckpt-bench-mem
status() { sed -n "s/^$1=//p" "$D/j/status"; }
start() {
    rm -f "$D/ready"
    "$B/bin/ckpt-run" --dir "$D" --name j --interval 1h --keep -q "${OPTS[@]}" -- "$MEM" "$MIB" "$D/ready" >>"$D/log" 2>&1 &
    LAUNCHER=$!
}
wait_running() {  # the program runs (after a start or a restore) under launcher $LAUNCHER
    for _ in $(seq 3000); do
        [[ -f $D/j/status && $(status launcher_pid) == "$LAUNCHER" && $(status state) == running ]] && return 0
        sleep 0.01
    done
    echo "not running: $(tail -5 "$D/log")" >&2; exit 1
}
drop() { sync; echo 1 > /proc/sys/vm/drop_caches; }
now() { date +%s%N; }
start
for _ in $(seq 6000); do [[ -f $D/ready ]] && break; sleep 0.01; done
wait_running
sync
t0=$(now); v=$("$B/bin/ckptctl" --dir "$D" checkpoint j --timeout 600s); t1=$(now)
img=$(printf '%s/j/ckpt-%06d.img' "$D" "$v")
echo "checkpoint_ms=$(( (t1 - t0) / 1000000 ))"
echo "image_bytes=$(stat -c %s "$img")"
pid=$(status program_pid); kill -9 "$pid"; wait "$LAUNCHER" 2>/dev/null || true
for r in $(seq "$REPS"); do
    t0=$(now); cat "$img" > /dev/null; t1=$(now); echo "read_cached_ms=$(( (t1 - t0) / 1000000 ))"
    start; wait_running; echo "restore_cached_ms=$(( $(status last_restore_ns) / 1000000 ))"
    pid=$(status program_pid); kill -9 "$pid"; wait "$LAUNCHER" 2>/dev/null || true
    drop; t0=$(now); cat "$img" > /dev/null; t1=$(now); echo "read_cold_ms=$(( (t1 - t0) / 1000000 ))"
    drop; start; wait_running; echo "restore_cold_ms=$(( $(status last_restore_ns) / 1000000 ))"
    pid=$(status program_pid); kill -9 "$pid"; wait "$LAUNCHER" 2>/dev/null || true
done
