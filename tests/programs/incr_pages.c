/* incr_pages MIB STEPS SEED: memory that changes a little at every step, for the incremental
 * checkpoint tests. At each step it writes random pages (about 1 %) of a MIB MiB region with
 * a seeded generator, drops a few with MADV_DONTNEED, and now and then maps a region again
 * at the same address, moves one with mremap and grows the heap with sbrk; then it prints
 * "step N HASH" (a hash of all that memory) and calls chkpnt(). A process restored from a
 * checkpoint comes back in chkpnt(): it prints "restored at step N HASH" with the hash of
 * the memory it finds, which must be the one printed before that checkpoint, and goes on. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern int chkpnt(void) __attribute__((weak));

#define PAGE 4096ul
#define CHURN_PAGES 16ul
#define MOVE_PAGES 8ul

static uint64_t rng;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t hash(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    return h;
}

static unsigned char *big, *churn, *moving;
static unsigned char *heap[32];  /* pieces of brk growth (sbrk: malloc's own use of brk goes on beside) */
static int n_heap;
static size_t big_pages;

static uint64_t memory_hash(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = hash(h, big, big_pages * PAGE);
    h = hash(h, churn, CHURN_PAGES * PAGE);
    h = hash(h, moving, MOVE_PAGES * PAGE);
    for (int i = 0; i < n_heap; ++i) h = hash(h, heap[i], 2 * PAGE);
    return h;
}

static void *map(void *at, size_t len)
{
    void *p = mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED : 0), -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(2); }
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: incr_pages MIB STEPS SEED\n"); return 2; }
    big_pages = strtoul(argv[1], 0, 10) * 256;
    const int steps = atoi(argv[2]);
    const uint64_t seed = strtoull(argv[3], 0, 10);
    big = map(0, big_pages * PAGE);
    for (size_t i = 0; i < big_pages * PAGE; i += 8) *(uint64_t *)(big + i) = i * 0x9e3779b97f4a7c15ull;
    churn = map(0, CHURN_PAGES * PAGE);
    memset(churn, 1, CHURN_PAGES * PAGE);
    moving = map(0, MOVE_PAGES * PAGE);
    memset(moving, 2, MOVE_PAGES * PAGE);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int step = 0; step < steps; ++step) {
        rng = seed * 1000003u + (uint64_t)step + 1;
        for (size_t k = 0; k < big_pages / 100 + 1; ++k) {
            const size_t page = next() % big_pages;
            big[page * PAGE + next() % PAGE] ^= (unsigned char)(next() | 1);
        }
        for (int k = 0; k < 3; ++k) madvise(big + (next() % big_pages) * PAGE, PAGE, MADV_DONTNEED);
        if (step % 5 == 4) {  /* the same address, a new region: must not inherit the old pages */
            munmap(churn, CHURN_PAGES * PAGE);
            map(churn, CHURN_PAGES * PAGE);
            memset(churn, 10 + step, CHURN_PAGES * PAGE / 2);
        }
        if (step % 7 == 6) {  /* moved and written */
            unsigned char *to = map(0, MOVE_PAGES * PAGE);
            moving = mremap(moving, MOVE_PAGES * PAGE, MOVE_PAGES * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
            if (moving == MAP_FAILED) { perror("mremap"); return 2; }
            moving[next() % (MOVE_PAGES * PAGE)] = (unsigned char)step;
        }
        if (step % 3 == 2 && n_heap < 32) {  /* brk growth */
            unsigned char *top = sbrk(0);
            const size_t pad = (PAGE - (uintptr_t)top % PAGE) % PAGE;
            unsigned char *got = sbrk((intptr_t)(pad + 2 * PAGE));
            if (got == (void *)-1) { perror("sbrk"); return 2; }
            heap[n_heap] = got + pad;
            memset(heap[n_heap], 20 + step, PAGE);  /* the second page stays untouched */
            ++n_heap;
        }
        const uint64_t h = memory_hash();
        printf("step %d %016llx\n", step, (unsigned long long)h);
        if (chkpnt) {
            const int r = chkpnt();
            if (r > 0) printf("restored at step %d %016llx\n", step, (unsigned long long)memory_hash());
            else if (r < 0) { perror("chkpnt"); return 3; }
        }
    }
    printf("done %016llx\n", (unsigned long long)memory_hash());
    return 0;
}
