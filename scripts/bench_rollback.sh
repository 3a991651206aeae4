#!/bin/bash
# Rollback benchmark: a process with 256 MiB of random bytes rolls back to its checkpoint;
# time from the rollback() call until chkpnt() returns the value in the restored process,
# median of 5. Prints a Markdown table (the row is the one docs/api.md quotes).
#
#   scripts/bench_rollback.sh [BUILD_DIR [MIB [REPS]]]      defaults: build 256 5
#
# The checkpoint goes to a scratch directory under $TMPDIR (default /tmp), so the image is
# read back from the page cache, as on a machine with enough free memory.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
mib=${2:-256}
reps=${3:-5}

cmake --build "$build" --target bench_rollback ckpt-restore -j2 >/dev/null
prog="$build/tests/api/bench_rollback"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-rollback.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM

echo "rollback of a process with $mib MiB of random bytes, $reps runs" \
     "($(nproc) cores, $(uname -r), $(df -T "$scratch" | awk 'NR==2 {print $2}') scratch)" >&2
echo "| state | chkpnt() | rollback() median | min | max | runs |"
echo "|---|---|---|---|---|---|"
# Only descriptors 0-2 open: a pipe inherited on a higher descriptor (from a CI runner, a
# terminal multiplexer, ...) makes the runtime refuse checkpoints.
(
    for fd in /proc/self/fd/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
    CKPT_DIR="$scratch" CKPT_NAME=bench-rollback CKPT_KEEP=1 exec "$prog" "$mib" "$reps"
)

# Part of every rollback: `ckpt-restore --verify-only` reads and checks the whole image before
# the process is replaced (so that a bad image fails the call instead of losing the process).
image=$(ls "$scratch"/bench-rollback/ckpt-*.img | tail -n 1)
times=()
for _ in $(seq "$reps"); do
    t0=$(date +%s%N)
    "$build/libexec/ckpt-restore" --verify-only "$image"
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
med=${sorted[$(( reps / 2 ))]}
[ $(( reps % 2 )) -eq 0 ] && med=$(( (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2 ))
awk -v mib="$mib" -v med="$med" -v lo="${sorted[0]}" -v hi="${sorted[reps - 1]}" -v n="$reps" 'BEGIN {
    printf "| of which verify-only of the %s MiB image | | %.1f ms | %.1f ms | %.1f ms | %d |\n", mib, med / 1000, lo / 1000, hi / 1000, n }'
