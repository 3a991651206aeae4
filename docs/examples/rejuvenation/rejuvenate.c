/* Memory rejuvenation (inserted mode, the patent's FIG. 12).
 *
 *   rejuvenate OUTPUT ITERATIONS PERIOD [LEAK_KIB]
 *
 * A long-running loop that leaks LEAK_KIB KiB (default 1024) on every iteration, as
 * programs with a forgotten free() do. Its memory is checkpointed once in a clean state,
 * right after the initialization; every PERIOD iterations the loop rolls back to that
 * state, which throws every leaked block away. The loop index is a protected variable
 * (ckpt_protect), so it keeps counting across the rollbacks, and it is also passed as the
 * rollback value. The results go to OUTPUT, opened before the checkpoint with O_APPEND:
 * a rollback sets the descriptor's offset back to what it was at the checkpoint, but with
 * O_APPEND every write still lands at the end of the file. PERIOD 0 never rolls back, to
 * show the leak. Prints the resident set size (from /proc/self/statm) around each rollback.
 * See README.md. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ckpt_exclude() comes with the persistent-state layer, which will undo changes to files on
 * rollback: then the output file must be excluded. Until that layer is in libckpt, the
 * call is skipped. */
#pragma weak ckpt_exclude

enum { kTable = 4096 };

static long i;          /* the loop index: protected, survives the rollbacks */
static long max_rss;    /* protected: the largest resident size seen */
static long rollbacks;  /* protected */
static double *table;   /* the initialized ("clean") state */

static long rss_kib(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void note_rss(long rss)
{
    if (rss > max_rss) max_rss = rss;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: rejuvenate OUTPUT ITERATIONS PERIOD [LEAK_KIB]\n");
        return 2;
    }
    const char *output = argv[1];
    const long iterations = atol(argv[2]);
    const long period = atol(argv[3]);
    const size_t leak = (size_t)(argc == 5 ? atol(argv[4]) : 1024) * 1024;

    const int out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) {
        fprintf(stderr, "rejuvenate: %s: %s\n", output, strerror(errno));
        return 1;
    }
    if (&ckpt_exclude && ckpt_exclude(output) != 0) {
        fprintf(stderr, "rejuvenate: ckpt_exclude(%s): %s\n", output, strerror(errno));
        return 1;
    }
    table = malloc(kTable * sizeof *table);
    for (int k = 0; k < kTable; ++k) table[k] = sqrt((double)k) / 7.0;
    if (ckpt_protect(&i, sizeof i) != 0 || ckpt_protect(&max_rss, sizeof max_rss) != 0 ||
        ckpt_protect(&rollbacks, sizeof rollbacks) != 0) {
        perror("rejuvenate: ckpt_protect");
        return 1;
    }
    note_rss(rss_kib());
    printf("clean state: rss %ld KiB\n", rss_kib());
    fflush(stdout);

    if (period > 0) {
        /* Under ckpt-run, periodic checkpoints would take leaked memory along: rollback(0)
         * must find the clean one as the latest. */
        if (ckpt_under_launcher()) ckpt_set_interval(0);
        const int r = chkpnt();
        if (r < 0) {
            fprintf(stderr, "rejuvenate: chkpnt: %s\n", strerror(errno));
            return 1;
        }
        if (r > 0) {
            /* Back in the clean state; the protected index says where the loop was, and the
             * rollback value says the same. */
            if (r != i) {
                fprintf(stderr, "rejuvenate: rollback value %d but loop index %ld\n", r, i);
                return 1;
            }
            ++rollbacks;
            note_rss(rss_kib());
            printf("iteration %ld: back in the clean state, rss %ld KiB\n", i, rss_kib());
            fflush(stdout);
        }
    }

    while (i < iterations) {
        /* The leak: a block that is used, then forgotten. */
        unsigned char *block = malloc(leak);
        if (!block) {
            fprintf(stderr, "rejuvenate: out of memory at iteration %ld\n", i);
            return 1;
        }
        memset(block, (int)(i & 0xff), leak);
        const double value = table[i % kTable] * (double)(i + 1) + block[leak - 1];
        char line[64];
        const int n = snprintf(line, sizeof line, "%ld %.6f\n", i, value);
        if (write(out, line, (size_t)n) != n) {
            fprintf(stderr, "rejuvenate: write: %s\n", strerror(errno));
            return 1;
        }
        ++i;
        note_rss(rss_kib());
        if (period > 0 && i % period == 0 && i < iterations) {
            printf("iteration %ld: rss %ld KiB, rolling back to the clean state\n", i, rss_kib());
            fflush(stdout);  /* stdio buffers go back in time with the rest of the memory */
            rollback(0, (int)i);
            fprintf(stderr, "rejuvenate: rollback: %s\n", strerror(errno));
            return 1;
        }
    }
    printf("done: %ld iterations, %ld rollbacks, max rss %ld KiB, final rss %ld KiB\n", i, rollbacks,
           max_rss, rss_kib());
    return 0;
}
