#!/bin/bash
# scripts/bench_threads.sh BUILD_DIR [THREAD_COUNTS] [CHECKPOINTS]: how long stopping every
# thread takes and what each thread adds to the checkpoint pause. A program with N threads
# (the main thread and N-1 workers waiting on a condition variable, a few pages each) runs
# under ckpt-run --interval 100ms until CHECKPOINTS images exist; `ckptctl inspect --json`
# of each gives the coordinator's stop time (ThreadRecord::stop_ns) and the pause
# (CaptureStats::pause_ns). Prints a Markdown table of medians.
set -euo pipefail
BUILD_DIR=${1:?usage: bench_threads.sh BUILD_DIR [COUNTS] [CHECKPOINTS]}
COUNTS=${2:-"1 8 64"}
CHECKPOINTS=${3:-12}
CKPT_RUN=$BUILD_DIR/bin/ckpt-run
CKPTCTL=$BUILD_DIR/bin/ckptctl
TMP=$(mktemp -d "${BENCH_TMP:-$BUILD_DIR}/bench-threads.XXXXXX")
PID=
cleanup() {
    [[ -n $PID ]] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

cat >"$TMP/idle_threads.c" <<'C'
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static void *idle(void *a) { pthread_mutex_lock(&mu); for (;;) pthread_cond_wait(&cv, &mu); return a; }
int main(int argc, char **argv)
{
    int n = atoi(argv[1]);
    pthread_t t;
    for (int i = 1; i < n; ++i) pthread_create(&t, NULL, idle, NULL);
    for (;;) pause();
}
C
cc -O2 -pthread -o "$TMP/idle_threads" "$TMP/idle_threads.c"

med() { sort -g | awk '{v[NR]=$1} END { if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }

echo "| threads | stop every thread (median) | checkpoint pause (median) | pause beyond 1 thread, per extra thread |"
echo "|---:|---:|---:|---:|"
base=
for n in $COUNTS; do
    root=$TMP/ckpt-$n
    "$CKPT_RUN" --dir "$root" --name idle --interval 100ms --retain 0 -q -- "$TMP/idle_threads" "$n" \
        </dev/null >/dev/null 2>"$TMP/log-$n" &
    PID=$!
    for _ in $(seq 600); do
        (($(ls "$root/idle" 2>/dev/null | grep -c '^ckpt-.*\.img$') >= CHECKPOINTS)) && break
        sleep 0.05  # polling the job directory
    done
    kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true
    PID=
    stops=() pauses=()
    for img in "$root"/idle/ckpt-*.img; do
        read -r s p < <("$CKPTCTL" inspect --json "$img" | python3 -c '
import json, sys
j = json.load(sys.stdin)
c = [t for t in j["threads"] if t["coordinator"]][0]
print(c["stop_ns"], j["capture_stats"]["pause_ns"])')
        stops+=("$s") pauses+=("$p")
    done
    stop=$(printf '%s\n' "${stops[@]}" | med)
    pause=$(printf '%s\n' "${pauses[@]}" | med)
    [[ -z $base ]] && base=$pause
    if ((n > 1)); then
        per=$(awk -v p="$pause" -v b="$base" -v n="$n" 'BEGIN { printf "%.0f µs", (p - b) / (n - 1) / 1000 }')
    else
        per="-"
    fi
    awk -v n="$n" -v s="$stop" -v p="$pause" -v per="$per" -v k="${#stops[@]}" \
        'BEGIN { printf "| %d | %.2f ms | %.2f ms | %s |\n", n, s / 1e6, p / 1e6, per }'
done
