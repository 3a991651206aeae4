/* Test program: counts to N, printing one line per step, slowly, with state in heap, stack,
 * data and an open output file. Used by the smoke and e2e tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long total = 0;

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 50;
    long step_us = argc > 2 ? atol(argv[2]) : 100000;
    long *heap = calloc(1 << 20, sizeof(long));
    for (long i = 1; i <= n; ++i) {
        heap[i % (1 << 20)] = i;
        total += i;
        printf("step %ld total %ld\n", i, total);
        fflush(stdout);
        struct timespec ts = {step_us / 1000000, (step_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    printf("done %ld pid-independent\n", total);
    return 0;
}
