#!/bin/bash
# scripts/bench_fork.sh BUILD_DIR [SIZES_MIB] [CHECKPOINTS]: the application pause of a
# checkpoint, synchronous (--no-fork) against forked, measured inside the program, next to a
# plain fork() of the same memory measured by the same program in the same run.
#
# A program fills N MiB (every page present, incompressible), times CHECKPOINTS plain
# fork()+_exit of itself (the parent's fork() call), then ticks every 5 ms and appends every
# gap between two ticks longer than 12 ms to a file (excluded from ckpt's undo recording). For
# each checkpoint (`kill -USR1` to ckpt-run, as `ckptctl checkpoint` does) the pause is the
# longest gap that ended between the request and 200 ms after the commit (5 ms if none was
# longer); the wall time is from the request until the status file shows the commit. Prints
# a Markdown table of medians.
set -euo pipefail
BUILD_DIR=${1:?usage: bench_fork.sh BUILD_DIR [SIZES] [CHECKPOINTS]}
SIZES=${2:-"64 1024"}
CHECKPOINTS=${3:-5}
CKPT_RUN=$BUILD_DIR/bin/ckpt-run
TMP=$(mktemp -d "${BENCH_TMP:-$BUILD_DIR}/bench-fork.XXXXXX")
LAUNCHER=
cleanup() {
    if [[ -n $LAUNCHER ]]; then kill -TERM "$LAUNCHER" 2>/dev/null || true; wait "$LAUNCHER" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

cat >"$TMP/tick.c" <<'C'
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static uint64_t now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000ull + t.tv_nsec; }
int main(int argc, char **argv)
{
    if (argc != 6) return 2;
    size_t n = (size_t)atol(argv[1]) << 20;
    uint64_t *p = malloc(n), s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n / 8; ++i) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; p[i] = s; }
    FILE *f = fopen(argv[2], "w");
    for (int k = 0; k < atoi(argv[4]); ++k) {
        uint64_t t0 = now();
        pid_t c = fork();
        if (c == 0) _exit(0);
        fprintf(f, "fork %llu\n", (unsigned long long)(now() - t0));
        waitpid(c, NULL, 0);
    }
    fclose(f);
    int gaps = open(argv[3], O_WRONLY | O_CREAT | O_APPEND, 0600);
    close(open(argv[5], O_WRONLY | O_CREAT, 0600));  /* ready */
    uint64_t last = now();
    for (volatile uint64_t sink = 0;; sink += p[(last / 4096) % (n / 8)]) {
        struct timespec d = {0, 5000000};
        nanosleep(&d, NULL);
        uint64_t t = now();
        if (t - last > 12000000) dprintf(gaps, "%llu %llu\n", (unsigned long long)t, (unsigned long long)(t - last));
        last = t;
    }
}
C
cc -O2 -o "$TMP/tick" "$TMP/tick.c"

med() { sort -g | awk '{v[NR]=$1} END { if (NR == 0) print "NaN"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }
status_get() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n1; }
now_ns() { python3 -c 'import time; print(time.monotonic_ns())'; }  # the program's CLOCK_MONOTONIC

declare -A R
for size in $SIZES; do
    for mode in sync fork; do
        job=tick-$mode-$size
        rm -f "$TMP/ready"
        extra=(); [[ $mode == sync ]] && extra=(--no-fork)
        "$CKPT_RUN" --dir "$TMP/ckpt" --name "$job" --interval 1h --max-overhead 0 --keep -q --exclude "$TMP" \
            "${extra[@]}" -- "$TMP/tick" "$size" "$TMP/fork-$job" "$TMP/gaps-$job" "$CHECKPOINTS" "$TMP/ready" \
            </dev/null >/dev/null 2>"$TMP/$job.log" &
        LAUNCHER=$!
        for _ in $(seq 600); do [[ -e $TMP/ready ]] && break; sleep 0.1; done
        [[ -e $TMP/ready ]] || { cat "$TMP/$job.log" >&2; echo "bench_fork: $job never got ready" >&2; exit 1; }
        st=$TMP/ckpt/$job/status
        for _ in $(seq 100); do [[ $(status_get "$st" state) == running ]] && break; sleep 0.05; done
        pauses=() walls=()
        for _ in $(seq "$CHECKPOINTS"); do
            seq0=$(status_get "$st" seq); seq0=${seq0:-0}
            t0=$(now_ns)
            kill -USR1 "$LAUNCHER"
            for _ in $(seq 6000); do [[ $(status_get "$st" seq) != "$seq0" ]] && break; sleep 0.005; done
            t1=$(now_ns)
            sleep 0.2
            p=$(awk -v a="$t0" -v b="$((t1 + 200000000))" '$1 >= a && $1 <= b { if ($2 > m) m = $2 } END { print m ? m : 5000000 }' \
                "$TMP/gaps-$job" 2>/dev/null || echo 5000000)
            pauses+=("$p"); walls+=("$((t1 - t0))")
        done
        R[$mode pause $size]=$(printf '%s\n' "${pauses[@]}" | med)
        R[$mode wall $size]=$(printf '%s\n' "${walls[@]}" | med)
        R[$mode fork $size]=$(awk '$1 == "fork" { print $2 }' "$TMP/fork-$job" | med)
        kill -TERM "$LAUNCHER"; wait "$LAUNCHER" 2>/dev/null || true; LAUNCHER=
        echo "bench_fork: $job: pauses ${pauses[*]} ns, walls ${walls[*]} ns" >&2
    done
done

ms() { awk -v n="$1" 'BEGIN { if (n == "NaN" || n == "") print "n/a"; else printf "%.1f", n / 1e6 }'; }
echo "| MiB | plain fork() ms | pause sync ms | pause forked ms | forked pause / fork() | wall sync ms | wall forked ms |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for size in $SIZES; do
    # The plain fork() as measured by the program of the forked run (the same run's memory).
    f=${R[fork fork $size]}
    ratio=$(awk -v a="${R[fork pause $size]}" -v b="$f" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    echo "| $size | $(ms "$f") | $(ms "${R[sync pause $size]}") | $(ms "${R[fork pause $size]}") | $ratio | $(ms "${R[sync wall $size]}") | $(ms "${R[fork wall $size]}") |"
done
