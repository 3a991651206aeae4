/* A rollback abandons the timeline it leaves (issue 9, item 1): chkpnt() (v1), write, set a
 * protected flag, chkpnt() (v2), rollback(1), write, SIGKILL. The recovery by ckpt-run
 * must come back at v1 (not at the retired v2), with the file as it was at v1 and the
 * protected flag as it was at v1: protected values cross a rollback, never a crash recovery.
 * Run twice under ckpt-run with the same arguments: the first run dies of SIGKILL, the second
 * prints API-LINEAGE-OK. argv[1]: the data file. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static int rolled_back;  /* protected: set after v1, before v2 and rollback(1) */
static int at;           /* not protected: the checkpoint execution is at */

static void expect_file(int fd, const char *want)
{
    char buf[256];
    const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    CHECK(n >= 0);
    buf[n] = 0;
    if (strcmp(buf, want) != 0) {
        fprintf(stderr, "the file holds \"%s\", expected \"%s\"\n", buf, want);
        exit(1);
    }
}

static void put(int fd, const char *text)
{
    CHECK(ftruncate(fd, 0) == 0);
    CHECK(pwrite(fd, text, strlen(text), 0) == (ssize_t)strlen(text));
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    CHECK(ckpt_protect(&rolled_back, sizeof rolled_back) == 0);
    const int fd = open(argv[1], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    if (ckpt_current_mode() == CKPT_MODE_NORMAL) put(fd, "state of v1");

    at = 1;
    int r = chkpnt();
    if (r == CKPT_RECOVERED) {
        CHECK(at == 1);
        CHECK(rolled_back == 0);  /* v1's value: the rollback's value is not applied again */
        expect_file(fd, "state of v1");
        puts("API-LINEAGE-OK");
        return 0;
    }
    if (r > 0) {
        /* Came back through rollback(1) in the first run. */
        CHECK(at == 1 && rolled_back == 1 && r == 3);
        expect_file(fd, "state of v1");
        put(fd, "written after the rollback");
        printf("rolled back to v1, crashing\n");
        fflush(stdout);
        kill(getpid(), SIGKILL);
        CHECK(!"still alive after SIGKILL");
    }
    CHECK(r == 0);
    put(fd, "state of v2");
    rolled_back = 1;  /* v2 holds it set: restoring the retired v2 would take the rollback path again */
    at = 2;
    r = chkpnt();
    if (r != 0) {
        fprintf(stderr, "came back at the retired version 2 (chkpnt() returned %d, protected flag %d)\n", r,
                rolled_back);
        return 1;
    }
    put(fd, "written after v2");
    rollback(1, 3);
    CHECK(!"rollback(1, 3) returned");
    return 1;
}
