/* --on-undo-failure test program: creates FILE (4 MiB), waits for the first checkpoint image in
 * JOBDIR, then overwrites its first 2 MiB with one pwrite. Whether that pwrite is allowed
 * depends on whether its undo data (2 MiB) can be recorded.
 * Exit: 0 = pwrite done, 3 = pwrite failed (errno printed). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 16];

static int has_image(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "ckpt-", 5) == 0 && strstr(e->d_name, ".img")) found = 1;
    closedir(d);
    return found;
}

int main(int argc, char **argv)
{
    if (argc < 3) return 64;
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 2; }
    memset(buf, 'a', sizeof buf);
    for (int i = 0; i < 64; ++i)
        if (write(fd, buf, sizeof buf) != sizeof buf) { perror("write"); return 2; }
    struct timespec ts = {0, 5000000};
    while (!has_image(argv[2])) nanosleep(&ts, NULL);
    static char big[2 << 20];
    memset(big, 'x', sizeof big);
    ssize_t n = pwrite(fd, big, sizeof big, 0);
    if (n < 0) {
        printf("pwrite failed: %s (errno %d)\n", strerror(errno), errno);
        fflush(stdout);
        return 3;
    }
    printf("pwrite ok %zd\n", n);
    close(fd);
    return 0;
}
