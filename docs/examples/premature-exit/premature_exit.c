/* Bypassing a premature exit (inserted mode, the patent's FIG. 10).
 *
 *   premature_exit --file PATH STEPS      needs to read PATH halfway through
 *   premature_exit --memory MIB STEPS     needs MIB MiB of memory halfway through
 *
 * A long computation of STEPS steps needs a resource at step STEPS/2 + 1. If it cannot get
 * it after a few tries, it does not throw its progress away: it calls chkpnt() and exits
 * with status 75 (EX_TEMPFAIL). Once the resource is there, the same command run under
 * ckpt-run resumes at that chkpnt(), which returns CKPT_RECOVERED, and the computation
 * goes on from the step where it stopped. See README.md. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kMaxRetries = 3 };

static const char *need_file;  /* the resource: a file to read ... */
static long need_mib;          /* ... or a block of memory */

/* One step of the computation: deterministic, a few milliseconds. */
static uint64_t work(uint64_t state, long step, uint64_t factor)
{
    for (int k = 0; k < 200000; ++k) {
        state ^= state >> 31;
        state *= 0x9e3779b97f4a7c15ull + 2 * (uint64_t)step;
        state += factor;
    }
    return state;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Tries to get the resource; returns the factor it contributes to the rest of the work. */
static int try_acquire(uint64_t *factor)
{
    if (need_file) {
        FILE *f = fopen(need_file, "r");
        if (!f) return 0;
        unsigned long long v = 0;
        int ok = fscanf(f, "%llu", &v) == 1;
        fclose(f);
        if (!ok) { errno = EINVAL; return 0; }
        *factor = v;
        return 1;
    }
    size_t bytes = (size_t)need_mib << 20;
    unsigned char *block = malloc(bytes);
    if (!block) return 0;
    memset(block, 7, bytes);  /* really use it */
    uint64_t sum = 0;
    for (size_t i = 0; i < bytes; i += 4096) sum += block[i];
    free(block);
    *factor = sum;
    return 1;
}

/* The resource, or a checkpoint and a premature exit; after a recovery, the retries start
 * over (the patent's recovery code). */
static uint64_t acquire_or_checkpoint(void)
{
    uint64_t factor = 0;
    int retries = 0;
    for (;;) {
        if (try_acquire(&factor)) return factor;
        const int err = errno;
        if (++retries <= kMaxRetries) {
            pause_ms(50);
            continue;
        }
        fprintf(stderr, "premature_exit: cannot get %s (%s) after %d tries\n",
                need_file ? need_file : "the memory", strerror(err), kMaxRetries);
        fflush(NULL);
        const int r = chkpnt();
        if (r == 0) {
            fprintf(stderr, "premature_exit: progress saved; run the same command under ckpt-run "
                            "once the resource is available\n");
            exit(75);
        }
        if (r < 0) {
            fprintf(stderr, "premature_exit: chkpnt: %s; the progress is lost\n", strerror(errno));
            exit(1);
        }
        printf("resumed: chkpnt() returned %s in %s mode, trying again\n",
               r == CKPT_RECOVERED ? "CKPT_RECOVERED" : "a rollback value",
               ckpt_current_mode() == CKPT_MODE_RECOVERED ? "recovered" : "another");
        fflush(stdout);
        retries = 0;
    }
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "--file") != 0 && strcmp(argv[1], "--memory") != 0)) {
        fprintf(stderr, "usage: premature_exit --file PATH STEPS | --memory MIB STEPS\n");
        return 2;
    }
    if (strcmp(argv[1], "--file") == 0) need_file = argv[2];
    else need_mib = atol(argv[2]);
    const long steps = atol(argv[3]);

    uint64_t state = 0xcbf29ce484222325ull, factor = 1;
    for (long i = 1; i <= steps; ++i) {
        if (i == steps / 2 + 1) factor = acquire_or_checkpoint();
        state = work(state, i, factor);
        printf("step %ld done\n", i);
        fflush(stdout);
    }
    printf("result %016llx\n", (unsigned long long)state);
    return 0;
}
