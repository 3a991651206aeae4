/* What the descriptor-kind test programs (fd_*.c, issue 10) share: each sets up its state,
 * creates DIR/ready, waits for DIR/go (polled: the test creates it after it has seen a
 * checkpoint, possibly after a kill and a restore), then checks from inside that the state
 * behaves as it did, prints one line per check and exits 0 (1 if a check failed). */
#ifndef FDKIND_COMMON_H
#define FDKIND_COMMON_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[4096];
static int failures;

static inline const char *at(const char *name)
{
    static char buf[2][4200];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
    return buf[which];
}

static inline void touch(const char *name)
{
    int fd = open(at(name), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) { perror(name); exit(2); }
    close(fd);
}

static inline void wait_for(const char *name)
{
    const struct timespec tick = {0, 10 * 1000 * 1000};
    while (access(at(name), F_OK) != 0) nanosleep(&tick, NULL);
}

static inline void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(2);
}

/* One check: prints "ok WHAT" or "FAILED WHAT (detail)". */
static inline void expect(int cond, const char *what, const char *detail)
{
    if (cond) printf("ok %s\n", what);
    else { printf("FAILED %s (%s)\n", what, detail ? detail : ""); ++failures; }
    fflush(stdout);
}

static inline void start(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: %s DIR\n", argv[0]); exit(64); }
    snprintf(dir, sizeof dir, "%s", argv[1]);
}

static inline void ready_then_wait(void)
{
    touch("ready");
    wait_for("go");
}

static inline double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
#endif
