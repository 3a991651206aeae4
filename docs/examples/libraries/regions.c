/* ckp_util example: a computation that saves its state after every step and, started again
 * after a crash, goes on from the newest saved version.
 *
 *   regions DIR      (CRASH_AT=N: die by SIGKILL after step N, as a crash would) */
#include <ckp/ckp_util.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

struct state {
    int step;
    long sum;
};

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/sum.ckp", argv[1]);
    const int crash_at = getenv("CRASH_AT") ? atoi(getenv("CRASH_AT")) : -1;

    CheckpointFile file;
    Checkpoint cp;
    struct state s = {0, 0};
    if (ckpOpen(path, NULL, &file) != 0 || ckpRegister(file, "state", &s, sizeof s, &cp) != 0) return 1;
    if (ckpVersions(cp) > 0 && ckpRestore(cp, 0) == 0) /* 0: the newest version */
        printf("resumed after step %d\n", s.step);

    while (s.step < 10) {
        s.step++;
        s.sum += s.step;
        if (ckpSave(cp) != 0) return 1; /* a new version, durable when this returns */
        if (s.step == crash_at) raise(SIGKILL);
    }
    printf("sum of 1..10 = %ld (%d versions saved)\n", s.sum, ckpVersions(cp));
    ckpClose(file);
    return 0;
}
