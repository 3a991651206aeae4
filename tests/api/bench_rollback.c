/* Benchmark of rollback(): a process with MIB MiB of random bytes takes one checkpoint and
 * rolls back to it REPS times. Each sample is the time from the rollback() call until
 * chkpnt() returns the rollback value in the restored process; the start time travels
 * through the rollback in a protected variable (everything else goes back in time).
 *
 *   bench_rollback [MIB [REPS]]        default 256 MiB, 5 repetitions
 *
 * Prints one line per sample (stderr), then a Markdown table row (stdout):
 *   | state | chkpnt() | rollback() median | min | max | samples |
 * Run it started directly (standalone mode) with CKPT_DIR pointing at a scratch directory;
 * scripts/bench_rollback.sh does that. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

enum { kMaxReps = 64 };

static uint64_t t_start;             /* protected: when rollback() was called */
static uint64_t samples[kMaxReps];   /* protected */
static int done;                     /* protected: samples taken */
static uint64_t checkpoint_ns;       /* protected: how long chkpnt() took */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 256;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (mib == 0 || reps < 1 || reps > kMaxReps) {
        fprintf(stderr, "usage: bench_rollback [MIB [REPS (1..%d)]]\n", kMaxReps);
        return 2;
    }
    /* The state: random bytes, so that no page is zero or compressible. */
    const size_t bytes = mib << 20;
    unsigned char *state = malloc(bytes);
    if (!state) {
        perror("bench_rollback: malloc");
        return 1;
    }
    for (size_t at = 0; at < bytes;) {
        ssize_t n = getrandom(state + at, bytes - at > (1 << 25) ? (1 << 25) : bytes - at, 0);
        if (n <= 0) { perror("bench_rollback: getrandom"); return 1; }
        at += (size_t)n;
    }
    if (ckpt_protect(&t_start, sizeof t_start) || ckpt_protect(samples, sizeof samples) ||
        ckpt_protect(&done, sizeof done) || ckpt_protect(&checkpoint_ns, sizeof checkpoint_ns)) {
        perror("bench_rollback: ckpt_protect");
        return 1;
    }

    const unsigned char first = state[0];
    const uint64_t c0 = now_ns();
    const int r = chkpnt();
    if (r < 0) {
        fprintf(stderr, "bench_rollback: chkpnt: %s\n", strerror(errno));
        return 1;
    }
    if (r == 0) {
        checkpoint_ns = now_ns() - c0;
        fprintf(stderr, "checkpoint of %zu MiB: %.1f ms\n", mib, (double)checkpoint_ns / 1e6);
    } else {
        const uint64_t t_end = now_ns();
        if (r != 7 || state[0] != first) {
            fprintf(stderr, "bench_rollback: chkpnt() returned %d (expected 7), state %s\n", r,
                    state[0] == first ? "restored" : "NOT restored");
            return 1;
        }
        samples[done++] = t_end - t_start;
        fprintf(stderr, "rollback %d: %.1f ms\n", done, (double)(t_end - t_start) / 1e6);
    }
    if (done < reps) {
        state[0] ^= 0xff;  /* a change the rollback must undo */
        fflush(NULL);
        t_start = now_ns();
        rollback(0, 7);
        fprintf(stderr, "bench_rollback: rollback: %s\n", strerror(errno));
        return 1;
    }
    uint64_t sorted[kMaxReps];
    memcpy(sorted, samples, sizeof(uint64_t) * (size_t)reps);
    qsort(sorted, (size_t)reps, sizeof sorted[0], by_value);
    const double median = reps % 2 ? (double)sorted[reps / 2]
                                   : ((double)sorted[reps / 2 - 1] + (double)sorted[reps / 2]) / 2;
    printf("| %zu MiB | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %d |\n", mib, (double)checkpoint_ns / 1e6,
           median / 1e6, (double)sorted[0] / 1e6, (double)sorted[reps - 1] / 1e6, reps);
    return 0;
}
