/* Test program: like counter, but at step GROW_AT it allocates and dirties MIB mebibytes, so
 * that its later checkpoints are much larger than its early ones (used to fill a small
 * checkpoint file system). Output depends only on the arguments.
 *   grower [N=40] [STEP_US=100000] [GROW_AT=N/3] [MIB=8] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 40;
    long step_us = argc > 2 ? atol(argv[2]) : 100000;
    long grow_at = argc > 3 ? atol(argv[3]) : n / 3;
    long mib = argc > 4 ? atol(argv[4]) : 8;
    const size_t size = (size_t)mib << 20;
    unsigned char *big = NULL;
    uint64_t sum = 0;
    for (long i = 1; i <= n; ++i) {
        if (i == grow_at) {
            big = malloc(size);
            if (!big) { perror("malloc"); return 1; }
            uint64_t x = 88172645463325252ull;
            for (size_t j = 0; j < size; ++j) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                big[j] = (unsigned char)(x | 1);
            }
        }
        if (big) {
            for (size_t j = (size_t)i % 4096; j < size; j += 4096) big[j] = (unsigned char)(big[j] + i);
            for (size_t j = 0; j < size; j += 4096 + 1) sum += big[j];
        }
        sum = sum * 31 + (uint64_t)i;
        printf("step %ld sum %llu\n", i, (unsigned long long)sum);
        fflush(stdout);
        struct timespec ts = {step_us / 1000000, (step_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    printf("done %llu\n", (unsigned long long)sum);
    return 0;
}
