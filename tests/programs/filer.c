/* Test program for the undo-data and crafted-image tests: in DIR, keeps DIR/mapped mapped
 * MAP_SHARED read-only and open O_RDONLY, and at every step overwrites the start of DIR/data
 * in place and replaces DIR/config by an atomic save (write config.tmp, rename it over).
 * Usage: filer DIR STEPS STEP_US */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4) return 2;
    const char *dir = argv[1];
    long n = atol(argv[2]), step_us = atol(argv[3]);
    char p[4096], q[4096], buf[64];
    snprintf(p, sizeof p, "%s/mapped", dir);
    int mfd = open(p, O_RDONLY);
    const char *m = mfd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_SHARED, mfd, 0) : MAP_FAILED;
    if (m == MAP_FAILED) return 3;
    for (long i = 1; i <= n; ++i) {
        snprintf(p, sizeof p, "%s/data", dir);
        int fd = open(p, O_WRONLY);
        int len = snprintf(buf, sizeof buf, "step %08ld\n", i);
        if (fd < 0 || pwrite(fd, buf, (size_t)len, 0) != len) return 4;
        close(fd);
        snprintf(p, sizeof p, "%s/config.tmp", dir);
        snprintf(q, sizeof q, "%s/config", dir);
        FILE *f = fopen(p, "w");
        if (!f) return 5;
        fprintf(f, "config %ld\n", i);
        fclose(f);
        if (rename(p, q) != 0) return 6;
        printf("step %ld %c\n", i, m[0]);
        fflush(stdout);
        struct timespec ts = {step_us / 1000000, (step_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    printf("done\n");
    return 0;
}
