/* Descriptors inherited at start in standalone mode (issue 8, defect 10). Started directly
 * (no ckpt-run) with a pipe's read end on descriptor PIPE and a socket on SOCK that its
 * parent leaked (a make jobserver, a CI runner): the checkpoint must still be taken, and
 * after the recovery (`ckpt-run -- api_inherited PIPE SOCK` in the same directory) both
 * numbers are /dev/null with the access mode they had. A pipe the program opens itself, with
 * one end in the process, is still refused. Prints API-INHERITED-OK on the second run. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static void check_is_dev_null(int fd, int accmode)
{
    struct stat st, null_st;
    CHECK(fstat(fd, &st) == 0);
    CHECK(stat("/dev/null", &null_st) == 0);
    CHECK(S_ISCHR(st.st_mode) && st.st_rdev == null_st.st_rdev);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == accmode);
}

int main(int argc, char **argv)
{
    CHECK(argc == 3);
    const int pipe_fd = atoi(argv[1]), sock_fd = atoi(argv[2]);
    struct stat st;
    if (!ckpt_under_launcher()) {
        /* First run, standalone: what the parent left open. */
        CHECK(fstat(pipe_fd, &st) == 0 && S_ISFIFO(st.st_mode));
        CHECK(fstat(sock_fd, &st) == 0 && S_ISSOCK(st.st_mode));
        /* A pipe of its own, its read end closed: to another process, as far as ckpt can
         * tell. Still refused, and the refusal changes nothing. */
        int own[2];
        CHECK(pipe(own) == 0);
        CHECK(close(own[0]) == 0);
        CHECK_FAILS(chkpnt(), EOPNOTSUPP);
        CHECK(close(own[1]) == 0);
    }
    const int r = chkpnt();
    if (r == 0) {
        printf("first run: checkpoint taken with inherited fds %d and %d, crashing\n", pipe_fd, sock_fd);
        fflush(stdout);
        kill(getpid(), SIGKILL);
        CHECK(!"still alive after SIGKILL");
    }
    CHECK(r == CKPT_RECOVERED);
    check_is_dev_null(pipe_fd, O_RDONLY);
    check_is_dev_null(sock_fd, O_RDWR);
    char c;
    CHECK(read(pipe_fd, &c, 1) == 0);        /* end of file, not EBADF */
    CHECK(write(sock_fd, "x", 1) == 1);      /* discarded, not EBADF */
    CHECK(chkpnt() == 0);                    /* /dev/null is reopened like any device */
    printf("API-INHERITED-OK\n");
    return 0;
}
