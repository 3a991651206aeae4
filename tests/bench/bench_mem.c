/* ckpt-bench-mem MIB [READY_FILE]: the program checkpointed by scripts/bench.sh.
 *
 * Allocates MIB MiB with malloc, fills every byte with pseudo-random data (xoshiro256+, so
 * the pages are incompressible and all present), creates READY_FILE (if given) once the
 * buffer is complete, then does light work forever: a little arithmetic over the buffer and
 * a 1 ms sleep per iteration. It holds no descriptors of its own beyond stdin/out/err. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t s[4] = {0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull, 0x94d049bb133111ebull, 0x2545f4914f6cdd1dull};

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next(void)
{
    const uint64_t result = s[0] + s[3];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

volatile uint64_t sink;

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ckpt-bench-mem MIB [READY_FILE]\n");
        return 2;
    }
    const size_t mib = (size_t)strtoull(argv[1], NULL, 10);
    const size_t words = mib * (1u << 20) / sizeof(uint64_t);
    uint64_t *buf = malloc(words * sizeof(uint64_t));
    if (!buf) {
        perror("malloc");
        return 1;
    }
    for (size_t i = 0; i < words; ++i) buf[i] = next();
    if (argc > 2) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || close(fd) != 0) {
            perror(argv[2]);
            return 1;
        }
    }
    uint64_t acc = 0;
    for (size_t i = 0;; i = (i + 4099) % (words ? words : 1)) {
        if (words) acc += buf[i];
        sink = acc;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}
