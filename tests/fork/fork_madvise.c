// A generator whose state lives in a region marked MADV_WIPEONFORK or MADV_DONTFORK
// (argv[1] "wipeonfork" / "dontfork"): a forked checkpoint writer sees it zero-filled or not
// at all. Prints a line every 10 steps (10 ms apart); deterministic.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fork_madvise wipeonfork|dontfork STEPS\n");
        return 2;
    }
    const long n = atol(argv[2]);
    const size_t len = 1 << 20;
    unsigned char *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) return 2;
    if (madvise(r, len, strcmp(argv[1], "dontfork") == 0 ? MADV_DONTFORK : MADV_WIPEONFORK) != 0) {
        perror("madvise");
        return 2;
    }
    uint64_t *state = (uint64_t *)r;
    state[0] = 0x1234567;
    for (long i = 1; i <= n; i++) {
        state[0] = state[0] * 6364136223846793005ull + (uint64_t)i;
        r[4096 + (size_t)(i * 4096) % (len - 4096)] ^= (unsigned char)(state[0] >> 33);
        if (i % 10 == 0) {
            uint64_t sum = 0;
            for (size_t k = 0; k < len; k += 4096) sum += r[k];
            printf("%ld %llx %llx\n", i, (unsigned long long)state[0], (unsigned long long)sum);
            fflush(stdout);
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("final %llx\n", (unsigned long long)state[0]);
    return 0;
}
