/* reexec N: prints "generation N", works for about 30 ms, then execs itself as reexec N-1,
 * down to 0. Under ckpt-run every exec is a window in which the checkpoint signal finds no
 * handler (the new image's runtime is not loaded yet): it must stay pending until the runtime
 * takes it, never end the program (issue 9, item 6). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: reexec N\n");
        return 2;
    }
    const int n = atoi(argv[1]);
    printf("generation %d\n", n);
    fflush(stdout);
    if (n <= 0) return 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile unsigned long spin = 0;
    do {
        for (int i = 0; i < 10000; ++i) spin += (unsigned long)i;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 30000000L);
    char next[16];
    snprintf(next, sizeof next, "%d", n - 1);
    execl("/proc/self/exe", argv[0], next, (char *)NULL);
    perror("execl");
    return 1;
}
