/* lazy_probe GO_FILE MIB: fills four regions of MIB MiB each with a pattern, prints "ready",
 * then waits (polling, 5 ms) until GO_FILE exists. Restored lazily at that point, it meets its
 * memory before the loader has it all, through every path the loader must follow:
 *   - MADV_DONTNEED on half of a region never touched since the restore: zeros there;
 *   - mremap of a region never touched: its pages where they went;
 *   - write(2) straight from memory never touched: a fault taken by the kernel;
 *   - fork: the child checks a region the parent never touched;
 *   - a storm of munmaps of single pages of another region, each followed by a read far away
 *     (the loader reads an unmap event, then at once a fault, while it copies another block);
 * then checks every page of every region. Prints one line per check (deterministic); on
 * stderr, how much of the regions was resident when the checks began (the evidence that the
 * restore was lazy). Exit 0 if every check passed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { A, B, C, D, E, N };

static uint64_t word(int r, size_t i) { return (uint64_t)(r + 1) * 0x9e3779b97f4a7c15ull ^ (uint64_t)i * 0xff51afd7ed558ccdull; }

static size_t bad_words(const uint64_t *p, int r, size_t from, size_t to)
{
    size_t bad = 0;
    for (size_t i = from; i < to; ++i) bad += p[i] != word(r, i);
    return bad;
}

/* Resident KiB of [start, start+len): mincore(2), page by page. */
static long resident_kib(const void *start, size_t len)
{
    const uintptr_t lo = (uintptr_t)start & ~(uintptr_t)4095, hi = ((uintptr_t)start + len + 4095) & ~(uintptr_t)4095;
    const size_t pages = (hi - lo) / 4096;
    unsigned char *vec = malloc(pages);
    if (!vec || mincore((void *)lo, hi - lo, vec) != 0) return -1;
    long n = 0;
    for (size_t i = 0; i < pages; ++i) n += vec[i] & 1;
    free(vec);
    return n * 4;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lazy_probe GO_FILE MIB\n");
        return 2;
    }
    const size_t len = (size_t)atol(argv[2]) << 20, words = len / 8;
    uint64_t *reg[N];
    reg[A] = malloc(len);  /* glibc: an mmap of its own, or the heap */
    for (int r = B; r < N; ++r) {
        reg[r] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (reg[r] == MAP_FAILED) return 2;
    }
    for (int r = 0; r < N; ++r)
        for (size_t i = 0; i < words; ++i) reg[r][i] = word(r, i);
    printf("ready: %d regions of %zu MiB\n", N, len >> 20);
    fflush(stdout);
    struct stat st;
    while (stat(argv[1], &st) != 0) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }

    long resident = 0;
    for (int r = 0; r < N; ++r) resident += resident_kib(reg[r], len);
    fprintf(stderr, "lazy_probe: resident when the checks began: %ld of %zu KiB\n", resident, N * (len >> 10));
    int failed = 0;

    /* The storm: unmap single pages of E, and after each read a word of A or B far away. */
    size_t bad = 0;
    uint64_t x = 88172645463325252ull;
    for (size_t k = 0; k < 2048 && (k + 1) * 16 * 4096 <= len; ++k) {
        munmap((char *)reg[E] + k * 16 * 4096, 4096);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const int r = (int)(x & 1);
        const size_t i = (size_t)(x >> 8) % words;
        bad += reg[r][i] != word(r, i);
    }
    for (size_t k = 0; k < 2048 && (k + 1) * 16 * 4096 <= len; ++k)
        bad += bad_words(reg[E], E, k * 16 * 512 + 512, (k + 1) * 16 * 512);
    printf("storm: %zu wrong words\n", bad);
    failed |= bad != 0;

    /* MADV_DONTNEED on the second half of D: zeros there, the first half as it was. */
    madvise((char *)reg[D] + len / 2, len / 2, MADV_DONTNEED);
    size_t nonzero = 0;
    for (size_t i = words / 2; i < words; ++i) nonzero += reg[D][i] != 0;
    bad = bad_words(reg[D], D, 0, words / 2);
    printf("dropped: %zu nonzero words after MADV_DONTNEED, %zu wrong words kept\n", nonzero, bad);
    failed |= nonzero || bad;

    /* mremap of C to a new place. */
    void *to = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t *moved = mremap(reg[C], len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    if (moved == MAP_FAILED) {
        printf("moved: mremap failed\n");
        failed = 1;
    } else {
        bad = bad_words(moved, C, 0, words);
        printf("moved: %zu wrong words after mremap\n", bad);
        failed |= bad != 0;
        reg[C] = moved;
    }

    /* write(2) from B, untouched: the kernel takes the faults. Read back through a file. */
    char path[] = "/tmp/lazy_probe.XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    ssize_t w = write(fd, reg[B], len);
    uint64_t *back = malloc(len);
    ssize_t rd = pread(fd, back, len, 0);
    close(fd);
    bad = (w == (ssize_t)len && rd == (ssize_t)len) ? bad_words(back, B, 0, words) : words;
    free(back);
    printf("written: %zd of %zu bytes by write(2), %zu wrong words\n", w, len, bad);
    failed |= bad != 0;

    /* fork: the child checks A, which the parent has not touched since the restore. */
    pid_t child = fork();
    if (child == 0) _exit(bad_words(reg[A], A, 0, words) ? 1 : 0);
    int status = 0;
    waitpid(child, &status, 0);
    printf("forked: child %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "saw every word" : "saw wrong words");
    failed |= !(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    size_t all = bad_words(reg[A], A, 0, words) + bad_words(reg[B], B, 0, words) + bad_words(reg[C], C, 0, words);
    printf("all: %zu wrong words\n", all);
    failed |= all != 0;
    printf("%s\n", failed ? "FAILED" : "ok");
    return failed;
}
