/* Test program: execs itself every PERIOD_MS milliseconds, N times, then exits 0. Each image
 * prints one line "exec K" (K counts down). Used to check that a program that execs more often
 * than the checkpoint interval still gets checkpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10;
    long period_ms = argc > 2 ? atol(argv[2]) : 300;
    printf("exec %ld\n", n);
    fflush(stdout);
    if (n <= 0) return 0;
    struct timespec ts = {period_ms / 1000, (period_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    char next[32], period[32];
    snprintf(next, sizeof next, "%ld", n - 1);
    snprintf(period, sizeof period, "%ld", period_ms);
    char *args[] = {argv[0], next, period, NULL};
    execv("/proc/self/exe", args);
    perror("execv");
    return 127;
}
