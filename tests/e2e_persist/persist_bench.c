/* Benchmarks of the persistent-state layer. Run it directly (no libckpt.so) and under
 * ckpt-run: under ckpt-run it takes a checkpoint itself (raises CKPT_SIGNAL, which runs the
 * checkpoint synchronously) so that the measured writes are the first of a new epoch.
 * usage: persist_bench DIR [MODE]   MODE: first (default all) | append | loop | loop-existing
 * Prints "key value" lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void checkpoint(void)
{
    const char *s = getenv("CKPT_SIGNAL");
    if (s && getenv("CKPT_JOB_DIR")) raise(atoi(s));
}

static long undo_bytes(void)
{
    /* Size of the current epoch's log (under ckpt-run): epoch = the newest image's version. */
    const char *jd = getenv("CKPT_JOB_DIR");
    if (!jd) return 0;
    int epoch = 0;
    for (int v = 1; v < 100000; ++v) {
        char p[4096];
        snprintf(p, sizeof p, "%s/ckpt-%06d.img", jd, v);
        if (access(p, F_OK) == 0) epoch = v;
        else if (v > epoch + 10) break;
    }
    char p[4096];
    snprintf(p, sizeof p, "%s/pct-%06d.log", jd, epoch);
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : 0;
}

static char page[4096];

static void bench_first(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/big.bin", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    /* 1 GiB of real (non-sparse) data would take long to write; a 1 GiB file whose blocks are
     * allocated (fallocate) is the same for the undo layer: it reads 4 KiB of it. */
    if (posix_fallocate(fd, 0, 1L << 30) != 0 && ftruncate(fd, 1L << 30) != 0) { perror("size"); exit(2); }
    fsync(fd);
    checkpoint();
    long before = undo_bytes();
    memset(page, 'y', sizeof page);
    const long off = 123456789L & ~4095L;
    double t0 = now_us();
    if (pwrite(fd, page, sizeof page, off) != sizeof page) { perror("pwrite"); exit(2); }
    double t1 = now_us();
    if (pwrite(fd, page, sizeof page, off) != sizeof page) { perror("pwrite"); exit(2); }
    double t2 = now_us();
    printf("first_pwrite_4k_in_1g_us %.1f\n", t1 - t0);
    printf("second_pwrite_same_range_us %.2f\n", t2 - t1);
    printf("first_pwrite_undo_bytes %ld\n", undo_bytes() - before);
    close(fd);
    unlink(p);
}

static void bench_append(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/append.log", dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (int i = 0; i < 256; ++i) write(fd, page, sizeof page);
    close(fd);
    checkpoint();
    fd = open(p, O_WRONLY | O_APPEND);
    long before = undo_bytes();
    const int n = 100000;
    double t0 = now_us();
    if (write(fd, page, 100) != 100) exit(2);
    double t1 = now_us();
    for (int i = 1; i < n; ++i)
        if (write(fd, page, 100) != 100) exit(2);
    double t2 = now_us();
    printf("first_append_us %.1f\n", t1 - t0);
    printf("append_100b_avg_us %.3f\n", (t2 - t1) / (n - 1));
    printf("append_undo_bytes %ld\n", undo_bytes() - before);
    close(fd);
    unlink(p);
}

/* 1 million 4 KiB writes, cycling over a 64 MiB file (so the page cache, not the disk, is
 * measured). loop: a file created in the epoch; loop-existing: a file that existed at the
 * checkpoint, rewritten in place with pwrite (the first pass saves its old contents). */
static void bench_loop(const char *dir, int existing)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/loop.bin", dir);
    const long span = 64L << 20, n = 1000000;
    int fd;
    if (existing) {
        fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
        for (long o = 0; o < span; o += sizeof page) pwrite(fd, page, sizeof page, o);
        checkpoint();
    } else {
        checkpoint();
        fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    }
    double t0 = now_us();
    for (long i = 0; i < n; ++i) {
        if (existing) {
            if (pwrite(fd, page, sizeof page, (i * 4096) % span) != sizeof page) exit(2);
        } else {
            if (i % (span / 4096) == 0) lseek(fd, 0, SEEK_SET);
            if (write(fd, page, sizeof page) != sizeof page) exit(2);
        }
    }
    double t1 = now_us();
    printf("%s_1m_4k_writes_s %.3f\n", existing ? "loop_existing" : "loop", (t1 - t0) / 1e6);
    close(fd);
    unlink(p);
}

int main(int argc, char **argv)
{
    if (argc < 2) return 64;
    const char *mode = argc > 2 ? argv[2] : "all";
    memset(page, 'x', sizeof page);
    if (!strcmp(mode, "all") || !strcmp(mode, "first")) bench_first(argv[1]);
    if (!strcmp(mode, "all") || !strcmp(mode, "append")) bench_append(argv[1]);
    if (!strcmp(mode, "all") || !strcmp(mode, "loop")) bench_loop(argv[1], 0);
    if (!strcmp(mode, "all") || !strcmp(mode, "loop-existing")) bench_loop(argv[1], 1);
    return 0;
}
