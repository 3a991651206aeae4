/* closefd MODE STEPS STEP_US: tidies its descriptors as daemons do, then counts. MODE:
 * closefrom (closefrom(3)), close_range (close_range(3, ~0U, 0)), dup2 (dup2 of stdout onto
 * 1000 and 1001, then closes them), close (close() of 3..2000: each must be EBADF or work).
 * Descriptors the program did not open must look closed to it. Under ckpt-run the
 * checkpoints must still reach the launcher (issue 9, item 7). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: closefd closefrom|close_range|dup2|close STEPS STEP_US\n");
        return 2;
    }
    const char *mode = argv[1];
    const int steps = atoi(argv[2]);
    const int step_us = atoi(argv[3]);
    if (!strcmp(mode, "closefrom")) {
        closefrom(3);
    } else if (!strcmp(mode, "close_range")) {
        if (close_range(3, ~0U, 0) != 0) { perror("close_range"); return 1; }
    } else if (!strcmp(mode, "dup2")) {
        for (int fd = 1000; fd <= 1001; ++fd) {
            if (dup2(1, fd) != fd) { perror("dup2"); return 1; }
            if (close(fd) != 0) { perror("close"); return 1; }
        }
    } else if (!strcmp(mode, "close")) {
        for (int fd = 3; fd <= 2000; ++fd) close(fd);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    int visible = 0;
    for (int fd = 3; fd < 4096; ++fd)
        if (fcntl(fd, F_GETFD) >= 0) visible++;
    for (int i = 0; i < steps; ++i) {
        printf("step %d\n", i);
        fflush(stdout);
        usleep((useconds_t)step_us);
    }
    printf("%d descriptors above 2 visible\n", visible);
    return 0;
}
