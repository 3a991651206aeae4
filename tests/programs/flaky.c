/* Test program for the watchdog: prints "step I HASH" for I = 1..N, slowly, and fails on its
 * own. Its output depends only on N; when it fails depends on the pid and the clock, which a
 * restore does not bring back, so a restarted run fails somewhere else.
 *   flaky N random P    crash with SIGSEGV (or SIGABRT) with probability 1/P per step
 *   flaky N from K      crash at every step >= K (a program that can never get past K)
 *   flaky N hang K MARK at step K, if file MARK does not exist: create it and loop forever
 *                       without calling ckpt_heartbeat (needs -lckpt for the heartbeats)
 * With "hang", the program calls ckpt_heartbeat() after every step. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

int ckpt_heartbeat(void) __attribute__((weak));

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 4) { fprintf(stderr, "usage: flaky N random P | from K | hang K MARK\n"); return 2; }
    long n = atol(argv[1]);
    const char *mode = argv[2];
    long arg = atol(argv[3]);
    uint64_t h = 1469598103934665603ull;
    for (long i = 1; i <= n; ++i) {
        for (int k = 0; k < 200000; ++k) h = (h ^ (uint64_t)(i * 31 + k)) * 1099511628211ull;
        printf("step %ld %016llx\n", i, (unsigned long long)h);
        fflush(stdout);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (strcmp(mode, "random") == 0) {
            uint64_t x = (now_ns() ^ ((uint64_t)getpid() << 32)) * 0x9e3779b97f4a7c15ull;
            if ((x >> 33) % (uint64_t)arg == 0) {
                if (x & 1) raise(SIGABRT);
                *(volatile int *)0 = 1;
            }
        } else if (strcmp(mode, "from") == 0) {
            if (i >= arg) *(volatile int *)0 = 1;
        } else if (strcmp(mode, "hang") == 0) {
            if (ckpt_heartbeat) ckpt_heartbeat();
            if (i == arg && argc > 4) {
                int fd = open(argv[4], O_WRONLY | O_CREAT | O_EXCL, 0600);
                if (fd >= 0) {
                    close(fd);
                    for (volatile uint64_t spin = 0;; ++spin) {}
                }
            }
        }
    }
    printf("done %016llx\n", (unsigned long long)h);
    return 0;
}
