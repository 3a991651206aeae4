/* Test program: opens FIFO for writing and writes BYTES bytes to it in 4 KiB writes (blocking
 * once the FIFO is full, until someone reads), closes it, prints "written", then counts slowly
 * for ever (the test ends it). Used to check what the launcher says while a checkpoint is
 * deferred by a blocked call inside a wrapper. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fifo_writer FIFO BYTES\n");
        return 2;
    }
    long total = atol(argv[2]);
    int fd = open(argv[1], O_WRONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    for (long done = 0; done < total;) {
        size_t n = total - done < (long)sizeof buf ? (size_t)(total - done) : sizeof buf;
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            perror("write");
            return 1;
        }
        done += w;
    }
    close(fd);
    printf("written\n");
    fflush(stdout);
    for (long i = 0;; ++i) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}
