/* Memory exclusion (ckpt_exclude_memory) and freed pages, for tests/e2e/test_exclude_memory.py.
 *
 *   exclude_memory plain|exclude
 *
 * Fills five anonymous buffers, each its own mapping:
 *   A 16 MiB  excluded (exclude mode)
 *   B  4 MiB  kept
 *   C  8 MiB  freed with MADV_DONTNEED (exclude mode): not present, must not be written
 *   X  3 pages, excluded from X+1 to 2 bytes before its end: rounded inward, only page 1
 *   D  4 MiB  excluded whole, then its second half included again
 * In plain mode nothing is excluded or freed. Then it prints "ready" and waits until it is
 * restored (ckpt_current_mode() == CKPT_MODE_RECOVERED), checks every buffer and prints one
 * line per part: "NAME zero", "NAME intact" or "NAME other", then "done", and exits 0. */
#include <ckpt/ckpt.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096ul
#define MIB (1ul << 20)

static unsigned char *map(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return p;
}

static unsigned char pattern(unsigned char seed, size_t i) { return (unsigned char)(seed + i * 31 + (i >> 12)); }

static void fill(unsigned char *p, size_t len, unsigned char seed)
{
    for (size_t i = 0; i < len; ++i) p[i] = pattern(seed, i);
}

/* Bytes [off, off + len) of a buffer filled with `seed`. */
static void report(const char *name, const unsigned char *p, size_t off, size_t len, unsigned char seed)
{
    int zero = 1, intact = 1;
    for (size_t i = off; i < off + len && (zero || intact); ++i) {
        if (p[i] != 0) zero = 0;
        if (p[i] != pattern(seed, i)) intact = 0;
    }
    printf("%s %s\n", name, intact ? "intact" : zero ? "zero" : "other");
}

static void must(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", what, strerror(errno));
        exit(2);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "plain") && strcmp(argv[1], "exclude"))) {
        fprintf(stderr, "usage: exclude_memory plain|exclude\n");
        return 2;
    }
    const int excl = strcmp(argv[1], "exclude") == 0;
    const size_t la = 16 * MIB, lb = 4 * MIB, lc = 8 * MIB, lx = 3 * PAGE, ld = 4 * MIB;
    unsigned char *a = map(la), *b = map(lb), *c = map(lc), *x = map(lx), *d = map(ld);
    fill(a, la, 1);
    fill(b, lb, 2);
    fill(c, lc, 3);
    fill(x, lx, 4);
    fill(d, ld, 5);
    if (excl) {
        must(ckpt_exclude_memory(a, la), "ckpt_exclude_memory(A)");
        must(ckpt_exclude_memory(x + 1, lx - 3), "ckpt_exclude_memory(X)");
        must(ckpt_exclude_memory(d, ld), "ckpt_exclude_memory(D)");
        must(ckpt_include_memory(d + ld / 2, ld / 2), "ckpt_include_memory(D second half)");
        must(madvise(c, lc, MADV_DONTNEED), "madvise(C, MADV_DONTNEED)");
        errno = 0;
        if (ckpt_exclude_memory(a, 0) != -1 || errno != EINVAL) {
            fprintf(stderr, "ckpt_exclude_memory(len 0) did not fail with EINVAL\n");
            return 2;
        }
    }
    printf("ready\n");
    fflush(stdout);
    const struct timespec tick = {0, 5 * 1000 * 1000};
    while (ckpt_current_mode() != CKPT_MODE_RECOVERED) nanosleep(&tick, NULL);
    report("A", a, 0, la, 1);
    report("B", b, 0, lb, 2);
    report("C", c, 0, lc, 3);
    report("X0", x, 0, PAGE, 4);
    report("X1", x, PAGE, PAGE, 4);
    report("X2", x, 2 * PAGE, PAGE, 4);
    report("D0", d, 0, ld / 2, 5);
    report("D1", d, ld / 2, ld / 2, 5);
    printf("done\n");
    return 0;
}
