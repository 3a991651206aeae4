/* The ckp_util benchmark of scripts/bench.sh (section "regions"): ckpSave of a 4 KiB, 1 MiB and
 * 64 MiB region against a plain write + fsync of the same bytes to a file of its own, in the
 * same run and alternating (so both see the same disk and page cache state). Prints a
 * Markdown table; each figure is the median of the per-repetition rates.
 *
 *   bench_regions DIR [REPS]     (REPS: repetitions per size, default 5) */
#define _GNU_SOURCE
#include <ckp/ckp_util.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    const int reps = argc > 2 ? atoi(argv[2]) : 5;
    const size_t sizes[] = {4096, 1u << 20, 64u << 20};
    const char *labels[] = {"4 KiB", "1 MiB", "64 MiB"};
    const int saves[] = {200, 40, 3}; /* saves per repetition */
    printf("| region | saves/rep | ckpSave saves/s | ckpSave MB/s | write+fsync saves/s | write+fsync MB/s | ckpSave / plain |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (int s = 0; s < 3; ++s) {
        char *buf = malloc(sizes[s]);
        if (!buf) return 1;
        memset(buf, 0x5a, sizes[s]);
        double ckp_rate[64], plain_rate[64];
        for (int r = 0; r < reps && r < 64; ++r) {
            char path[4096], plain[4096];
            snprintf(path, sizeof path, "%s/bench-%d", argv[1], s);
            snprintf(plain, sizeof plain, "%s/plain-%d", argv[1], s);
            CheckpointFile f;
            Checkpoint c;
            if (ckpOpen(path, NULL, &f) || ckpRegister(f, "r", buf, sizes[s], &c)) return 1;
            double t = now();
            for (int i = 0; i < saves[s]; ++i) {
                buf[i % sizes[s]] ^= 1;
                if (ckpSave(c)) return 1;
            }
            ckp_rate[r] = saves[s] / (now() - t);
            ckpClose(f);
            /* The same bytes appended to a plain file, each save made durable by fsync. */
            int fd = open(plain, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0) return 1;
            t = now();
            for (int i = 0; i < saves[s]; ++i) {
                buf[i % sizes[s]] ^= 1;
                for (size_t done = 0; done < sizes[s];) {
                    ssize_t n = write(fd, buf + done, sizes[s] - done);
                    if (n <= 0) return 1;
                    done += (size_t)n;
                }
                if (fsync(fd)) return 1;
            }
            plain_rate[r] = saves[s] / (now() - t);
            close(fd);
            char idx[4200];
            snprintf(idx, sizeof idx, "%s.idx", path);
            unlink(path);
            unlink(idx);
            unlink(plain);
        }
        const double ck = median(ckp_rate, reps), pl = median(plain_rate, reps);
        const double mb = sizes[s] / 1e6;
        printf("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.2f |\n", labels[s], saves[s], ck, ck * mb, pl, pl * mb, ck / pl);
        free(buf);
    }
    return 0;
}
