#!/usr/bin/env bash
# scripts/bench.sh: checkpoint and restart performance of ckpt on this machine.
#
# Prints a description of the machine and Markdown tables on stdout; progress and the raw
# per-repetition numbers go to stderr. See docs/performance.md for what is measured and how.
#
# Environment:
#   BUILD_DIR    build tree to use (default: <repo>/build; built first if it does not exist)
#   BENCH_SIZES  memory sizes in MiB (default: "64 256 1024")
#   BENCH_REPS   repetitions per size, the tables show medians (default: 3)
#   BENCH_WARMUP repetitions per size run first and not counted (default: 1)
#   BENCH_LIST   benchmarks to run, in order (default: "matrix memory fork rollback persist threads cps regions")
#   BENCH_MATRIX_SIZES  memory sizes in MiB of the matrix benchmark (default: "64 1024")
#   BENCH_MATRIX_4G     1: the matrix also measures 4096 MiB (needs about 9 GiB free memory)
#   BENCH_MATRIX_PERL   0: leave out the matrix's perl workload (3 runs of about a minute)
#   BENCH_FORK_SIZES  memory sizes in MiB of the fork benchmark (default: "64 1024")
#   BENCH_CPS_WRITES  writes per section size of the cps benchmark (default: 200)
#   BENCH_SIGNAL checkpoint signal passed to ckpt-run --signal (default: ckpt's own default,
#                unless this user's queue of pending signals is nearly full: then SIGUSR2,
#                a standard signal, which the kernel delivers even then; see machine_report)
#   BENCH_RSEQ   1 (default): glibc's rseq registration as usual; 0: run the bench program
#                with GLIBC_TUNABLES=glibc.pthread.rseq=0 (for comparison).
#   BENCH_NICE   niceness for the benchmark and everything it starts (default: unchanged);
#                e.g. -10 on a machine shared with builds, so that the numbers show ckpt's
#                cost rather than the scheduler's (negative values need root)
#
# Each benchmark NAME is a pair of functions: bench_NAME_run (measures, storing numbers with
# record KEY SIZE REP VALUE) and bench_NAME_report (prints its tables from median KEY SIZE).
# Later benchmarks (persistent state, rollback) are added the same way and listed in
# BENCH_LIST.
#
# All files live in one temporary directory under the build tree (same file system as the
# repository), removed at exit together with every process the script started.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
BENCH_SIZES=${BENCH_SIZES:-"64 256 1024"}
BENCH_REPS=${BENCH_REPS:-3}
BENCH_WARMUP=${BENCH_WARMUP:-1}
BENCH_LIST=${BENCH_LIST:-"matrix memory fork rollback persist threads cps regions"}
BENCH_SIGNAL=${BENCH_SIGNAL:-}
BENCH_RSEQ=${BENCH_RSEQ:-1}
BENCH_NICE=${BENCH_NICE:-}
SIGNAL_NOTE=
LOAD_START=
REPORTED_START=0

CKPT_RUN=$BUILD_DIR/bin/ckpt-run
BENCH_MEM=$BUILD_DIR/tests/bench/ckpt-bench-mem
BENCH_TOOL=$BUILD_DIR/tests/bench/ckpt-bench-tool
BENCHDIR=
LAUNCHERS=()          # launcher pids this script started
PLAIN_SERVER=         # pid of the plain-write helper while one runs
declare -A RESULTS    # "key size rep" -> value

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------
# Set-up and tear-down

ensure_build() {
    if [[ ! -d $BUILD_DIR ]]; then
        if [[ -x $REPO/scripts/setup.sh ]]; then
            log "no build tree at $BUILD_DIR: running scripts/setup.sh"
            "$REPO/scripts/setup.sh"
        else
            log "no build tree at $BUILD_DIR: building"
            cmake -S "$REPO" -B "$BUILD_DIR" >&2
            cmake --build "$BUILD_DIR" -j2 >&2
        fi
    fi
    # Incremental: makes sure the bench helpers exist and everything is current.
    cmake --build "$BUILD_DIR" -j2 >&2 || die "build failed"
    for f in "$CKPT_RUN" "$BENCH_MEM" "$BENCH_TOOL"; do
        [[ -x $f ]] || die "$f missing after the build"
    done
}

# ckpt's default checkpoint signal is a real-time signal: each one sent takes an entry of the
# user's pending-signal queue (RLIMIT_SIGPENDING, shared by all of the user's processes), and
# kill() fails with EAGAIN when it is full. If something else has filled it, use SIGUSR2.
choose_signal() {
    [[ -n $BENCH_SIGNAL ]] && return
    local used limit
    read -r used limit < <(sed -n 's|^SigQ:[[:space:]]*\([0-9]*\)/\([0-9]*\)|\1 \2|p' /proc/self/status)
    if [[ -n $limit ]] && ((limit - used < 1024)); then
        BENCH_SIGNAL=SIGUSR2
        SIGNAL_NOTE="this user's pending-signal queue was nearly full ($used of $limit, filled by other processes), so the checkpoint signal was SIGUSR2 instead of ckpt's real-time default"
        log "warning: $SIGNAL_NOTE"
    fi
}

make_benchdir() {
    BENCHDIR=$(mktemp -d "$BUILD_DIR/bench.XXXXXX")
}

# Is PID alive and running the program named NAME (as /proc/PID/cmdline shows it)?
alive_as() {
    local pid=$1 name=$2
    [[ -n $pid && $pid != 0 ]] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$name"
}

cleanup() {
    local rc=$?
    set +e
    for l in "${LAUNCHERS[@]}"; do
        if alive_as "$l" ckpt-run; then
            log "cleanup: stopping launcher $l"
            kill -TERM "$l" 2>/dev/null   # the launcher passes SIGTERM on to the program
        fi
    done
    for l in "${LAUNCHERS[@]}"; do
        for _ in $(seq 50); do alive_as "$l" ckpt-run || break; sleep 0.1; done
        if alive_as "$l" ckpt-run; then kill -KILL "$l" 2>/dev/null; fi
    done
    if alive_as "$PLAIN_SERVER" ckpt-bench-tool; then kill -TERM "$PLAIN_SERVER" 2>/dev/null; fi
    # Programs left behind by a launcher that was killed.
    if [[ -n $BENCHDIR && -d $BENCHDIR ]]; then
        for st in "$BENCHDIR"/*/status; do
            [[ -f $st ]] || continue
            local p
            p=$(status_get "$st" program_pid)
            if alive_as "$p" ckpt-bench-mem; then kill -KILL "$p" 2>/dev/null; fi
        done
        rm -rf "$BENCHDIR"
    fi
    wait 2>/dev/null
    exit $rc
}

# ---------------------------------------------------------------------------------------
# Helpers

status_get() { sed -n "s/^$2=//p" "$1" | head -n1; }
kv_get() { sed -n "s/^$2=//p" <<<"$1" | head -n1; }

record() { RESULTS["$1 $2 $3"]=$4; }

# median KEY SIZE: median over the repetitions (mean of the middle two for an even count).
median() {
    local key=$1 size=$2 rep vals=()
    for ((rep = 1; rep <= BENCH_REPS; rep++)); do
        [[ -n ${RESULTS["$key $size $rep"]:-} ]] && vals+=("${RESULTS["$key $size $rep"]}")
    done
    ((${#vals[@]})) || { echo NaN; return; }
    printf '%s\n' "${vals[@]}" | sort -g | awk '{v[NR]=$1} END {
        if (NR % 2) print v[(NR+1)/2]; else printf "%.0f\n", (v[NR/2]+v[NR/2+1])/2 }'
}

# spread KEY SIZE [SCALE]: "min - max" over the repetitions, in ms (ns / 1e6) or divided by SCALE.
spread() {
    local key=$1 size=$2 scale=${3:-1e6} rep vals=()
    for ((rep = 1; rep <= BENCH_REPS; rep++)); do
        [[ -n ${RESULTS["$key $size $rep"]:-} ]] && vals+=("${RESULTS["$key $size $rep"]}")
    done
    ((${#vals[@]})) || { echo n/a; return; }
    printf '%s\n' "${vals[@]}" | sort -g | awk -v s="$scale" 'NR == 1 { lo = $1 } { hi = $1 }
        END { printf "%.0f - %.0f", lo / s, hi / s }'
}

# fmt FORMAT VALUE: awk number formatting.
fmt() { awk -v v="$2" -v f="$1" 'BEGIN { if (v == "NaN") print "n/a"; else printf f, v }'; }

realtime_ns() { local t=$EPOCHREALTIME; echo "${t/./}000"; }

# job_log NAME: the end of a job's ckpt-run output, for error messages.
job_log() { echo "ckpt-run output:"; tail -n 20 "$BENCHDIR/$1.log" 2>/dev/null; }

# start_job NAME MIB: starts the bench program under ckpt-run (a fresh start or a restore,
# whichever the job directory calls for). Sets JOB_LAUNCHER.
start_job() {
    local name=$1 mib=$2
    local tunables=${GLIBC_TUNABLES:-}
    ((BENCH_RSEQ)) || tunables=${tunables:+$tunables:}glibc.pthread.rseq=0
    GLIBC_TUNABLES=$tunables \
        "$CKPT_RUN" --dir "$BENCHDIR" --name "$name" --interval 1h --keep -q ${BENCH_SIGNAL:+--signal "$BENCH_SIGNAL"} -- \
        "$BENCH_MEM" "$mib" "$BENCHDIR/$name.ready" >>"$BENCHDIR/$name.log" 2>&1 &
    JOB_LAUNCHER=$!
    LAUNCHERS+=("$JOB_LAUNCHER")
}

# wait_launcher PID: waits for a launcher to exit; its exit status is that of the program.
wait_launcher() {
    local rc=0
    wait "$1" || rc=$?
    echo "$rc"
}

# kill_program NAME SIGNAL: signals the job's program (by the pid in its status file) and
# waits for the launcher to finish.
kill_program() {
    local name=$1 sig=$2 st="$BENCHDIR/$1/status" pid
    pid=$(status_get "$st" program_pid)
    alive_as "$pid" ckpt-bench-mem || die "$name: program pid $pid is not running"
    kill "-$sig" "$pid"
    wait_launcher "$JOB_LAUNCHER" >/dev/null
}

# ---------------------------------------------------------------------------------------
# Benchmark "memory": checkpoint, plain write+fsync, restart, for incompressible memory.

# measure_checkpoint NAME SIZE REP: one checkpoint of the running job, triggered like
# `ckptctl checkpoint` does (SIGUSR1 to the launcher), timed from the signal until the status
# file shows it committed. Leaves the image's stats in the results too.
measure_checkpoint() {
    local name=$1 size=$2 rep=$3 st="$BENCHDIR/$1/status" out img stats
    sync   # start from a clean page cache: no one else's dirty data in our fsync
    out=$("$BENCH_TOOL" checkpoint "$st" "$JOB_LAUNCHER" 600) || die "$name: checkpoint failed; $(job_log "$name")"
    record ckpt_ns "$size" "$rep" "$(kv_get "$out" wall_ns)"
    record pause_ns "$size" "$rep" "$(kv_get "$out" last_pause_ns)"
    record image_bytes "$size" "$rep" "$(kv_get "$out" last_image_bytes)"
    img="$BENCHDIR/$name/ckpt-$(printf %06d "$(kv_get "$out" last_version)").img"
    [[ -f $img ]] || die "$name: $img not found"
    IMAGE=$img
    stats=$("$BENCH_TOOL" image-stats "$img") || die "cannot read $img"
    record img_pause_ns "$size" "$rep" "$(kv_get "$stats" pause_ns)"
    record img_scan_ns "$size" "$rep" "$(kv_get "$stats" scan_ns)"
    record img_write_ns "$size" "$rep" "$(kv_get "$stats" write_ns)"
    record img_sync_ns "$size" "$rep" "$(kv_get "$stats" sync_ns)"
    # The image records its pause before the final fsync; the launcher's figure includes it.
    record commit_ns "$size" "$rep" "$(($(kv_get "$out" last_pause_ns) - $(kv_get "$stats" pause_ns)))"
}

# start_plain_server DIR BYTES: the baseline helper, started with the program so that its
# buffer is filled at the same time as the program's memory (see ckpt-bench-tool).
start_plain_server() {
    coproc PLAIN { exec "$BENCH_TOOL" plain-server "$1" "$2"; }
    PLAIN_SERVER=$PLAIN_PID
    local line
    read -r -t 600 line <&"${PLAIN[0]}" && [[ $line == ready ]] || die "the plain-write helper did not start"
}

stop_plain_server() {
    [[ -n ${PLAIN_SERVER:-} ]] || return 0
    eval "exec ${PLAIN[1]}>&-"
    wait "$PLAIN_SERVER" || true
    PLAIN_SERVER=
}

# measure_plain_write BYTES SIZE REP: the baseline, same bytes, same directory.
measure_plain_write() {
    local bytes=$1 size=$2 rep=$3 out
    sync
    echo "$bytes" >&"${PLAIN[1]}"
    read -r -t 600 out <&"${PLAIN[0]}" || die "plain write failed"
    out=$(tr ' ' '\n' <<<"$out")
    record plain_ns "$size" "$rep" "$(kv_get "$out" ns)"
    record plain_write_ns "$size" "$rep" "$(kv_get "$out" write_ns)"
    record plain_sync_ns "$size" "$rep" "$(kv_get "$out" sync_ns)"
}

# measure_restart NAME SIZE REP KEY: runs the same ckpt-run command again, which restores the
# newest image; records last_restore_ns (restorer start until the program runs again) as KEY
# and the wall time from starting ckpt-run until the status shows the restore as KEY_wall.
measure_restart() {
    local name=$1 size=$2 rep=$3 key=$4 st="$BENCHDIR/$1/status" t0 out
    t0=$(realtime_ns)
    start_job "$name" "$size"
    # The status file may still be the previous launcher's: wait for this launcher's outcome.
    out=$("$BENCH_TOOL" wait "$st" 300 --launcher "$JOB_LAUNCHER" "launcher_pid=$JOB_LAUNCHER" \
        state!=starting state!=restoring) || die "$name: restore did not complete; $(job_log "$name")"
    [[ $(kv_get "$out" state) == running && $(kv_get "$out" restores) -ge 1 ]] ||
        die "$name: not running after the restore: $(tr '\n' ' ' <<<"$out"); $(job_log "$name")"
    record "$key" "$size" "$rep" "$(kv_get "$out" last_restore_ns)"
    record "${key}_wall" "$size" "$rep" "$(($(kv_get "$out" seen_realtime_ns) - t0))"
}

# measure_restore_parts IMAGE SIZE REP: the restorer's passes over the page data, separately.
measure_restore_parts() {
    local img=$1 size=$2 rep=$3 out
    out=$("$BENCH_TOOL" restore-parts "$img") || die "restore-parts failed"
    record verify_ns "$size" "$rep" "$(kv_get "$out" verify_data_ns)"
    record pread_ns "$size" "$rep" "$(kv_get "$out" pread_pages_ns)"
}

bench_memory_run() {
    local size rep name prev_bytes
    for size in $BENCH_SIZES; do
        name=bench-$size
        # Repetitions 1-BENCH_WARMUP .. 0 are warm-ups: measured the same way, not counted.
        for ((rep = 1 - BENCH_WARMUP; rep <= BENCH_REPS; rep++)); do
            if ((rep < 1)); then
                log "memory: ${size} MiB, warm-up run (not counted)"
            else
                log "memory: ${size} MiB, repetition $rep of $BENCH_REPS"
            fi
            rm -rf "${BENCHDIR:?}/$name" "$BENCHDIR/$name.ready"
            start_job "$name" "$size"
            start_plain_server "$BENCHDIR/$name" $(((size + 16) << 20))
            # Ready = the buffer is filled (ready file) and the launcher has heard the runtime.
            for _ in $(seq 6000); do [[ -e $BENCHDIR/$name.ready ]] && break; sleep 0.05; done
            [[ -e $BENCHDIR/$name.ready ]] || die "$name: the program did not get ready"
            "$BENCH_TOOL" wait "$BENCHDIR/$name/status" 60 --launcher "$JOB_LAUNCHER" \
                "launcher_pid=$JOB_LAUNCHER" state=running >/dev/null || die "$name: not running; $(job_log "$name")"

            # Checkpoint and baseline alternate in order (the baseline needs the image size; it is
            # the same in every run of a size, so an even run takes the previous run's).
            prev_bytes=${RESULTS["image_bytes $size $((rep - 1))"]:-}
            if ((rep % 2 == 0)) && [[ -n $prev_bytes ]]; then
                measure_plain_write "$prev_bytes" "$size" "$rep"
                measure_checkpoint "$name" "$size" "$rep"
            else
                measure_checkpoint "$name" "$size" "$rep"
                measure_plain_write "${RESULTS["image_bytes $size $rep"]}" "$size" "$rep"
            fi
            # Ratio of throughputs per repetition (both ran moments apart, under the same load).
            record ratio_pct "$size" "$rep" \
                "$(awk -v p="${RESULTS["plain_ns $size $rep"]}" -v c="${RESULTS["ckpt_ns $size $rep"]}" 'BEGIN { print 100 * p / c }')"

            stop_plain_server
            kill_program "$name" KILL
            measure_restart "$name" "$size" "$rep" restore_ns        # image in the page cache
            kill_program "$name" KILL
            "$BENCH_TOOL" evict "$IMAGE" >/dev/null
            measure_restart "$name" "$size" "$rep" restore_cold_ns   # image read from disk
            measure_restore_parts "$IMAGE" "$size" "$rep"
            kill_program "$name" TERM

            log "  checkpoint $(fmt %.1f "$(bc_ms "ckpt_ns $size $rep")") ms" \
                "(pause $(fmt %.1f "$(bc_ms "pause_ns $size $rep")") ms:" \
                "write $(fmt %.1f "$(bc_ms "img_write_ns $size $rep")")," \
                "commit $(fmt %.1f "$(bc_ms "commit_ns $size $rep")");" \
                "image $(fmt %.1f "$(awk -v b="${RESULTS["image_bytes $size $rep"]}" 'BEGIN{print b/1048576}')") MiB)," \
                "plain $(fmt %.1f "$(bc_ms "plain_ns $size $rep")") ms" \
                "(write $(fmt %.1f "$(bc_ms "plain_write_ns $size $rep")")," \
                "fsync $(fmt %.1f "$(bc_ms "plain_sync_ns $size $rep")"))," \
                "restart $(fmt %.1f "$(bc_ms "restore_ns $size $rep")") ms," \
                "cold $(fmt %.1f "$(bc_ms "restore_cold_ns $size $rep")") ms"
            rm -rf "${BENCHDIR:?}/$name" "$BENCHDIR/$name.ready"
        done
    done
}

bc_ms() { awk -v n="${RESULTS["$1"]:-NaN}" 'BEGIN { if (n == "NaN") print "NaN"; else print n / 1e6 }'; }

bench_memory_report() {
    local size ckpt pause bytes plain restore mib
    echo "### Checkpoint and restart of incompressible memory"
    echo
    echo "Medians of $BENCH_REPS runs (after $BENCH_WARMUP uncounted warm-up run per size). Throughputs are image"
    echo "bytes per second; the plain baseline writes the same number of bytes into the same directory"
    echo "(write + fsync + rename + directory fsync). The ratio is the median of the per-run ratios."
    echo
    echo "| memory MiB | checkpoint ms | checkpoint MiB/s | plain write+fsync ms | plain MiB/s | ckpt/plain throughput % | image MiB | program pause ms | restart ms | restart ms (image not cached) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for size in $BENCH_SIZES; do
        ckpt=$(median ckpt_ns "$size")
        plain=$(median plain_ns "$size")
        bytes=$(median image_bytes "$size")
        pause=$(median pause_ns "$size")
        restore=$(median restore_ns "$size")
        awk -v size="$size" -v c="$ckpt" -v p="$plain" -v b="$bytes" -v pause="$pause" -v r="$restore" \
            -v rc="$(median restore_cold_ns "$size")" -v ratio="$(median ratio_pct "$size")" 'BEGIN {
            mib = b / 1048576
            printf "| %d | %.1f | %.0f | %.1f | %.0f | %.0f %% | %.1f | %.1f | %.1f | %.1f |\n",
                size, c / 1e6, mib / (c / 1e9), p / 1e6, mib / (p / 1e9), ratio, mib,
                pause / 1e6, r / 1e6, rc / 1e6 }'
    done
    echo
    echo "Spread over the $BENCH_REPS counted runs, min - max (ms):"
    echo
    echo "| memory MiB | checkpoint | plain write+fsync | ckpt/plain % | program pause | restart | restart, image not cached |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
    for size in $BENCH_SIZES; do
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$size" "$(spread ckpt_ns "$size")" \
            "$(spread plain_ns "$size")" "$(spread ratio_pct "$size" 1)" "$(spread pause_ns "$size")" \
            "$(spread restore_ns "$size")" "$(spread restore_cold_ns "$size")"
    done
    echo
    echo "### Where the time goes (medians, ms)"
    echo
    echo "Checkpoint, from the CaptureStats in the image: scan = signal handler entry until maps, pagemap and"
    echo "descriptors are read; write = page data (XXH3 checksum and pwrite of every saved page); commit = program"
    echo "pause from the launcher minus the pause recorded in the image (which stops before the sync): metadata"
    echo "and header writes, fsync, rename, directory fsync. Plain baseline: write = pwrite calls; fsync = fsync,"
    echo "rename, directory fsync. Restart: the restorer's two passes over the page data, timed separately by"
    echo "ckpt-bench-tool restore-parts with the image cached (verify = checksum of all page data through mmap;"
    echo "load = pread of all page data into fresh anonymous memory, as the restorer blob does), and the wall time"
    echo "from starting ckpt-run until its status file showed the program running again."
    echo
    echo "| memory MiB | scan | write | commit (fsync) | plain write | plain fsync | restore verify | restore load | restart wall (ckpt-run start to running) | same, image not cached |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for size in $BENCH_SIZES; do
        awk -v size="$size" -v s="$(median img_scan_ns "$size")" -v w="$(median img_write_ns "$size")" \
            -v c="$(median commit_ns "$size")" -v pw="$(median plain_write_ns "$size")" \
            -v ps="$(median plain_sync_ns "$size")" -v v="$(median verify_ns "$size")" \
            -v l="$(median pread_ns "$size")" -v rw="$(median restore_ns_wall "$size")" \
            -v rcw="$(median restore_cold_ns_wall "$size")" 'BEGIN {
            printf "| %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
                size, s / 1e6, w / 1e6, c / 1e6, pw / 1e6, ps / 1e6, v / 1e6, l / 1e6, rw / 1e6, rcw / 1e6 }'
    done
    echo
}

# ---------------------------------------------------------------------------------------

# The build type in the cache; CMakeLists.txt picks RelWithDebInfo when none is given.
build_type() {
    local t
    t=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)
    echo "${t:-RelWithDebInfo (project default)}"
}

machine_report() {
    local cpu mem_kib fstype mount
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
    mem_kib=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/meminfo)
    fstype=$(stat -f -c %T "$BENCHDIR")
    mount=$(findmnt -n -o FSTYPE,SOURCE,OPTIONS -T "$BENCHDIR" 2>/dev/null || true)
    echo "## ckpt benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "- CPU: ${cpu:-unknown}, $(nproc) cores"
    echo "- RAM: $(awk -v k="$mem_kib" 'BEGIN { printf "%.1f GiB", k / 1048576 }')"
    echo "- Kernel: $(uname -r)"
    local same="same file system as the repository"
    [[ $(stat -c %d "$BENCHDIR") == $(stat -c %d "$REPO") ]] || same="NOT the repository's file system"
    echo "- Bench directory: $BENCHDIR (under the build tree, $same)"
    echo "- File system: $fstype (stat -f)${mount:+; mount: $mount}"
    [[ -n $SIGNAL_NOTE ]] && echo "- Note: $SIGNAL_NOTE"
    ((BENCH_RSEQ)) || echo "- The bench program ran with GLIBC_TUNABLES=glibc.pthread.rseq=0 (BENCH_RSEQ=0; see docs/performance.md)"
    local rep_file=/sys/module/page_reporting/parameters/reported_kib
    if [[ -r $rep_file ]]; then
        echo "- Free page reporting to the hypervisor is active: $(awk -v a="$REPORTED_START" -v b="$(cat "$rep_file")" \
            'BEGIN { printf "%.0f MiB", (b - a) / 1024 }') of free memory were handed back to the host during the run"
    fi
    echo "- Load average (1, 5, 15 min) at start: $LOAD_START; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Niceness of the benchmark: $(ps -o ni= -p $$ | tr -d ' ')${BENCH_NICE:+ (BENCH_NICE=$BENCH_NICE)}"
    echo "- ckpt: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ' (modified)'), build type $(build_type)"
    echo
}

# Inserted mode: rollback() of a process with 256 MiB of state (scripts/bench_rollback.sh).
bench_rollback_run() {
    log "rollback: 256 MiB, 5 runs"
    ROLLBACK_TABLE=$("$REPO/scripts/bench_rollback.sh" "$BUILD_DIR" 256 5)
}

bench_rollback_report() {
    echo "### rollback() of a process with 256 MiB of state"
    echo
    echo "Time from the rollback() call until chkpnt() returns the value in the restored process."
    echo
    echo "$ROLLBACK_TABLE"
    echo
}

# Persistent state: first write after a checkpoint, appends, 1M writes with and without
# libckpt.so (scripts/bench_persist.sh).
bench_persist_run() {
    log "persist: first pwrite into 1 GiB, appends, 1M x 4 KiB writes"
    PERSIST_TABLE=$(BENCH_TMP="$BENCHDIR" "$REPO/scripts/bench_persist.sh" "$BUILD_DIR")
}

bench_persist_report() {
    echo "### Persistent state (file undo)"
    echo
    echo '```'
    echo "$PERSIST_TABLE"
    echo '```'
    echo
}

# The checkpoint service (libraries/cps): synchronous and asynchronous section writes against
# a three-member etcd cluster on loopback (tests/cps/etcd_cluster.py starts and stops it).
bench_cps_run() {
    if ! command -v etcd >/dev/null; then
        log "cps: etcd is not installed (scripts/setup.sh): skipped"
        CPS_TABLE="(skipped: etcd is not installed)"
        return
    fi
    log "cps: ${BENCH_CPS_WRITES:-200} writes per size, 3-member loopback etcd"
    CPS_TABLE=$(python3 "$REPO/tests/cps/etcd_cluster.py" --members 3 -- "$BUILD_DIR/bin/cps_bench")
}

bench_cps_report() {
    echo "### Checkpoint service on etcd (3 members on loopback)"
    echo
    echo "Section overwrites of one checkpoint; latency of the call; async writes/s until"
    echo "clCkptCheckpointSynchronize has them all in etcd; lag from acknowledgement until a watcher"
    echo "registered for immediate consumption has been notified and has read the write."
    echo
    echo "$CPS_TABLE"
    echo
}

# ckp_util: ckpSave of 4 KiB, 1 MiB and 64 MiB regions against write + fsync of the same bytes
# (tests/libraries/bench_regions.c).
bench_regions_run() {
    local prog=$BUILD_DIR/tests/libraries/ckp_bench_regions
    [[ -x $prog ]] || die "$prog missing after the build"
    log "regions: ckpSave vs write+fsync, 4 KiB / 1 MiB / 64 MiB, $BENCH_REPS repetitions"
    mkdir -p "$BENCHDIR/regions"
    REGIONS_TABLE=$("$prog" "$BENCHDIR/regions" "$BENCH_REPS")
}

bench_regions_report() {
    echo "### ckp_util: ckpSave against write + fsync"
    echo
    echo "Each save appends the region to the data file, fdatasyncs it, appends the index record and"
    echo "fdatasyncs that (two durable writes); the plain column writes the same bytes to a file and"
    echo "fsyncs it once. Medians of $BENCH_REPS repetitions, both measured alternately in one run."
    echo
    echo "$REGIONS_TABLE"
    echo
}

# Threads: the time to stop every thread and the pause each thread adds, for 1, 8 and 64
# threads (scripts/bench_threads.sh).
bench_threads_run() {
    log "threads: 1, 8 and 64 threads, 12 checkpoints each"
    THREADS_TABLE=$(BENCH_TMP="$BENCHDIR" "$REPO/scripts/bench_threads.sh" "$BUILD_DIR" "1 8 64" 12)
}

bench_threads_report() {
    echo "### Stopping every thread"
    echo
    echo "Idle threads (waiting on a condition variable); medians over 12 checkpoints each."
    echo
    echo "$THREADS_TABLE"
    echo
}

# Forked against synchronous checkpoints: the pause measured inside the program, next to a
# plain fork() of the same memory (scripts/bench_fork.sh).
bench_fork_run() {
    log "fork: pause of synchronous and forked checkpoints at ${BENCH_FORK_SIZES:-64 1024} MiB"
    FORK_TABLE=$(BENCH_TMP="$BENCHDIR" "$REPO/scripts/bench_fork.sh" "$BUILD_DIR" "${BENCH_FORK_SIZES:-64 1024}" 5)
}

bench_fork_report() {
    echo "### Forked checkpoints: the application pause"
    echo
    echo "Longest gap between the program's 5 ms ticks around each checkpoint, measured inside the"
    echo "program; plain fork() timed by the same program on the same memory. Medians of 5 checkpoints."
    echo
    echo "$FORK_TABLE"
    echo
}

# The matrix of issue 11 (scripts/bench_matrix.py): sync and forked checkpoints (incremental
# and compressed where ckpt-run has the options), restart, and the perl workload's periodic
# overhead, each beside the physical limits measured in the same run.
bench_matrix_run() {
    local sizes=${BENCH_MATRIX_SIZES:-"64 1024"}
    [[ ${BENCH_MATRIX_4G:-0} == 1 ]] && sizes="$sizes 4096"
    local perl=(--perl)
    [[ ${BENCH_MATRIX_PERL:-1} == 0 ]] && perl=()
    log "matrix: sizes $sizes MiB, $BENCH_REPS repetitions${perl:+, perl workload}"
    MATRIX_TABLE=$(python3 "$REPO/scripts/bench_matrix.py" "$BUILD_DIR" --sizes "${sizes// /,}" --reps "$BENCH_REPS" \
        --tmp "$BENCHDIR" "${perl[@]}") || die "the matrix benchmark failed"
}

bench_matrix_report() {
    echo "### The checkpoint matrix, beside the physical limits"
    echo
    echo "$MATRIX_TABLE"
    echo
}

main() {
    ensure_build
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if [[ -n $BENCH_NICE ]]; then
        renice -n "$BENCH_NICE" -p $$ >/dev/null || die "cannot set niceness $BENCH_NICE"
    fi
    make_benchdir
    choose_signal
    LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
    REPORTED_START=$(cat /sys/module/page_reporting/parameters/reported_kib 2>/dev/null || echo 0)
    log "bench directory $BENCHDIR"
    local b
    for b in $BENCH_LIST; do
        declare -F "bench_${b}_run" >/dev/null || die "unknown benchmark $b"
        "bench_${b}_run"
    done
    machine_report
    for b in $BENCH_LIST; do "bench_${b}_report"; done
}

main "$@"
