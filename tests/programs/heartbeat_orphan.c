/* heartbeat_orphan DIR: forks a worker that calls ckpt_heartbeat() every 5 ms (links -lckpt);
 * the parent prints "ready" and waits. Once the worker's parent has gone (the test kills the
 * launcher; the program then ends), the worker sends 100 more heartbeats to the dead launcher
 * and writes DIR/survived with its pid: a heartbeat after the launcher's death must not raise
 * SIGPIPE (issue 9, item 6). */
#include <ckpt/ckpt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: heartbeat_orphan DIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const pid_t parent = getpid();
    const pid_t worker = fork();
    if (worker < 0) return 1;
    if (worker == 0) {
        struct timespec t = {0, 5000000};
        while (getppid() == parent) {
            ckpt_heartbeat();
            nanosleep(&t, NULL);
        }
        for (int i = 0; i < 100; ++i) {
            ckpt_heartbeat();
            nanosleep(&t, NULL);
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/survived", argv[1]);
        FILE *f = fopen(path, "w");
        if (!f) return 1;
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
        return 0;
    }
    printf("ready\n");
    for (;;) pause();
}
